@testable import AuthgateCore
import Foundation
import Testing

/// Every sample under Samples/ converts to exactly its recorded YAML and diagnostics.
/// `AUTHGATE_RECORD=1 swift test` re-records them (and fails, so a recording run is
/// never mistaken for a passing one); a mismatch prints a unified diff.
struct SampleGoldenTests {
    /// Every sample: a folder with a `Caddyfile` or a `manifests.yaml`.
    static var samples: [String] {
        let root = packageRoot.appendingPathComponent("Samples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { input(of: $0) != nil }.sorted()
    }

    static var caddySamples: [String] { samples.filter { input(of: $0)?.hasSuffix("Caddyfile") == true } }
    static var manifestSamples: [String] { samples.filter { input(of: $0)?.hasSuffix("manifests.yaml") == true } }

    /// The sample's input, relative to the package.
    static func input(of sample: String) -> String? {
        for file in ["Caddyfile", "manifests.yaml"] where FileManager.default.fileExists(atPath: packageRoot.appendingPathComponent("Samples/\(sample)/\(file)").path) {
            return "Samples/\(sample)/\(file)"
        }
        return nil
    }

    @Test func thereAreEnoughSamplesOfEachKind() {
        #expect(Self.caddySamples.count >= 8, "Samples/ has \(Self.caddySamples.count) Caddyfile samples")
        #expect(Self.manifestSamples.count >= 6, "Samples/ has \(Self.manifestSamples.count) manifest samples")
    }

    @Test(arguments: samples)
    func sampleConvertsToItsRecordedOutput(_ name: String) throws {
        let folder = packageRoot.appendingPathComponent("Samples/\(name)")
        let arguments = (try? String(contentsOf: folder.appendingPathComponent("args"), encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).map(String.init) ?? []
        let input = try #require(Self.input(of: name))
        let run = try runAuthgate(["convert", input] + arguments, directory: packageRoot)
        try expectRecorded(run.stdout, "Samples/\(name)/expected.yaml")
        try expectRecorded(run.stderr, "Samples/\(name)/expected-stderr.txt")
        try expectRecorded("exit \(run.status)\n", "Samples/\(name)/expected-exit.txt")
        let again = try runAuthgate(["convert", input] + arguments, directory: packageRoot)
        #expect(again.stdout == run.stdout, "the same input must give byte-identical output")
    }

    /// The validator itself fails on each kind of mistake: a schema type, a CEL rule,
    /// a core object's unknown field.
    @Test func theValidatorCatchesSchemaCELAndCoreMistakes() throws {
        let bad = """
            apiVersion: v1
            kind: Secret
            metadata: {name: s, namespace: a}
            stringdata: {x: y}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r, namespace: a}
            spec:
              parentRefs: [{name: g}]
              rules:
              - matches: [{path: {type: Exact, value: /a//b}}]
                backendRefs: [{name: s, port: 80, weight: "1"}]
              - matches: [{path: {type: PathPrefix, value: /}}]
                filters: [{type: RequestRedirect, requestRedirect: {statusCode: 301}}]
                backendRefs: [{name: s, port: 80}]

            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("authgate-bad-\(UUID().uuidString).yaml")
        try bad.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, text) = try Self.validate([file.path])
        guard status >= 0 else { return }
        #expect(status == 1)
        #expect(text.contains("'stringdata' was unexpected"))
        #expect(text.contains("must not contain '//'"))
        #expect(text.contains("RequestRedirect filter must not be used together with backendRefs"))
        #expect(text.contains("'1' is not of type 'integer'"))
    }

    static func validate(_ files: [String]) throws -> (Int32, String) {
        let environment = ProcessInfo.processInfo.environment
        guard let python = environment["AUTHGATE_PYTHON"] else {
            Issue.record("AUTHGATE_PYTHON is not set: run the suite with Tests/run-all, which installs the validators into .build/test-peers")
            return (-1, "")
        }
        let shared = URL(fileURLWithPath: environment["AUTHGATE_SHARED"] ?? packageRoot.deletingLastPathComponent().appendingPathComponent("shared").path)
        let crds = shared.appendingPathComponent("crds")
        guard FileManager.default.fileExists(atPath: crds.path) else {
            Issue.record("the CRDs are missing at \(crds.path); set AUTHGATE_SHARED to the shared/ folder")
            return (-1, "")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["Tests/validate-objects.py", crds.path] + files
        process.currentDirectoryURL = packageRoot
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// Every object the samples produce validates: Gateway API and Traefik objects against
    /// the CRD schemas in ../shared/crds and their CEL rules, core objects with
    /// kubernetes-validate --strict (Tests/validate-objects.py, pinned peers).
    @Test func everyEmittedObjectValidatesAgainstItsCRD() throws {
        let (status, text) = try Self.validate(Self.samples.map { "Samples/\($0)/expected.yaml" })
        guard status >= 0 else { return }
        #expect(status == 0, "validation failed:\n\(text)")
        #expect(text.contains("CEL rule evaluations"), "validate-objects.py said:\n\(text)")
        #expect(!text.contains("CEL rule not evaluated"), "some CEL rules were not evaluated:\n\(text)")
    }

}
