@testable import AuthgateCore
import Foundation
import Testing

/// `convert --output-dir`: one file per object, a complete kustomization, all or nothing.
struct OutputDirectoryTests {
    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("authgate-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    func listing(_ folder: URL) -> [String: String] {
        var files: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        while let relative = enumerator?.nextObject() as? String {
            let full = folder.appendingPathComponent(relative).path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[relative] = (try? String(contentsOfFile: full, encoding: .utf8)) ?? ""
            }
        }
        return files
    }

    func sampleObjects() throws -> [KubeObject] {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("Samples/basic/Caddyfile"), encoding: .utf8)
        let (result, _) = try convert(text)
        return try #require(result).emission.objects
    }

    @Test func everyObjectFileIsListedInTheKustomization() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let objects = try sampleObjects()
        _ = try OutputDirectory(path: folder.path).write(objects)
        let files = listing(folder)
        let kustomization = try #require(files["kustomization.yaml"])
        let yamlFiles = files.keys.filter { $0.hasSuffix(".yaml") && $0 != "kustomization.yaml" }.sorted()
        #expect(yamlFiles.count == objects.count)
        for file in yamlFiles { #expect(kustomization.contains("- \(file)\n"), "\(file) is not listed") }
        #expect(files["default/httproute-grafana-example-com.yaml"]?.hasPrefix("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n") == true)
    }

    @Test func aFileAuthgateDidNotWriteIsNotReplacedAndNothingIsWritten() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("default"), withIntermediateDirectories: true)
        try "mine\n".write(to: folder.appendingPathComponent("default/httproute-status-example-com.yaml"), atomically: true, encoding: .utf8)
        let before = listing(folder)
        #expect(throws: DiagnosticError.self) { _ = try OutputDirectory(path: folder.path).write(try sampleObjects()) }
        #expect(listing(folder) == before)
        let summary = try OutputDirectory(path: folder.path, force: true).write(try sampleObjects())
        #expect(summary.written.contains("default/httproute-status-example-com.yaml"))
    }

    @Test func filesForObjectsThatAreGoneAreRemovedAndOthersKept() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var objects = try sampleObjects()
        _ = try OutputDirectory(path: folder.path).write(objects)
        try "keep\n".write(to: folder.appendingPathComponent("default/notes.yaml"), atomically: true, encoding: .utf8)
        objects.removeAll { $0.name == "status-example-com" }
        let summary = try OutputDirectory(path: folder.path).write(objects)
        #expect(summary.removed == ["default/httproute-status-example-com.yaml"])
        #expect(summary.written == ["kustomization.yaml"])
        #expect(listing(folder)["default/notes.yaml"] == "keep\n")
    }

    @Test(arguments: ["../escape", "a/b", "UPPER", ".hidden", ""])
    func aNameThatIsNotAKubernetesNameNeverBecomesAPath(_ name: String) throws {
        let object = KubeObject(apiVersion: "v1", kind: "Service", name: name, namespace: "default", fields: [])
        #expect(throws: DiagnosticError.self) { _ = try OutputDirectory.relativePath(for: object) }
        let namespaced = KubeObject(apiVersion: "v1", kind: "Service", name: "ok", namespace: name, fields: [])
        #expect(throws: DiagnosticError.self) { _ = try OutputDirectory.relativePath(for: namespaced) }
    }

    @Test func aSymlinkedFolderLeadingOutsideIsRefused() throws {
        let folder = try temporaryFolder()
        let outside = try temporaryFolder()
        defer {
            try? FileManager.default.removeItem(at: folder)
            try? FileManager.default.removeItem(at: outside)
        }
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("default"), withDestinationURL: outside)
        #expect(throws: DiagnosticError.self) { _ = try OutputDirectory(path: folder.path).write(try sampleObjects()) }
        #expect(listing(outside).isEmpty)
    }

    @Test func aFailedConversionLeavesTheOutputFolderUntouched() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try OutputDirectory(path: folder.path).write(try sampleObjects())
        let before = listing(folder)
        let run = try runAuthgate(["convert", "--output-dir", folder.path, "-"], stdin: "a.com {\n\tforward_auth x:1\n}\n")
        #expect(run.status == 2)
        #expect(listing(folder) == before)
        let refused = try runAuthgate(["convert", "--output-dir", folder.path, "-"], stdin: CommandLineTests.unkeepable)
        #expect(refused.status == 1)
        #expect(listing(folder) == before)
    }
}
