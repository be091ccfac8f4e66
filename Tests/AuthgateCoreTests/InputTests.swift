@testable import AuthgateCore
import Foundation
import Testing

/// Reading inputs: kind detection, YAML syntax errors with positions, and file access
/// that never blocks on something that is not a regular file.
struct InputTests {
    @Test(arguments: [
        ("Caddyfile", "a.com {\n}\n", InputKind.caddyfile),
        ("routes.yaml", "a: b\n", .manifests),
        ("dump", "# from kubectl\napiVersion: v1\nkind: List\n", .manifests),
        ("dump", "---\nkind: Ingress\n", .manifests),
        ("-", "\n\n:8080 {\n}\n", .caddyfile),
    ])
    func kindIsDetectedFromNameAndContent(_ path: String, _ text: String, _ kind: InputKind) {
        #expect(InputKind.detect(path: path, bytes: Array(text.utf8)) == kind)
    }

    @Test func yamlSyntaxErrorHasItsPosition() {
        var diagnostics = Diagnostics()
        #expect(throws: DiagnosticError.self) {
            _ = try ManifestFrontEnd().parse(text: "kind: Ingress\nmetadata:\n  name: [unclosed\n", file: "in.yaml", diagnostics: &diagnostics)
        }
        do {
            _ = try ManifestFrontEnd().parse(text: "kind: Ingress\nmetadata:\n  name: [unclosed\n", file: "in.yaml", diagnostics: &diagnostics)
        } catch {
            #expect(error.diagnostic.location?.file == "in.yaml")
            #expect((error.diagnostic.location?.line ?? 0) >= 3)
            #expect(error.diagnostic.message.hasPrefix("invalid YAML"))
        }
    }

    @Test func yamlDocumentsAreReadAndNonObjectsWarned() throws {
        var diagnostics = Diagnostics()
        let documents = try ManifestFrontEnd().parse(
            text: "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n- a list\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: b}\n---\nkind: Secret\n",
            file: "x.yaml", diagnostics: &diagnostics)
        #expect(documents.map(\.kind) == ["Service", "Ingress"])
        #expect(documents.map(\.location.line) == [1, 7])
        #expect(diagnostics.warnings.map { $0.location?.line } == [5, 11])
    }

    @Test func aKubectlListIsOpenedIntoItsItemsButNotAListInsideIt() throws {
        var diagnostics = Diagnostics()
        let objects = try ManifestFrontEnd().objects(text: """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Service
              metadata: {name: a, namespace: x}
            - apiVersion: v1
              kind: List
              items: []
            """, file: "dump.yaml", diagnostics: &diagnostics)
        #expect(objects.map(\.name) == ["a"])
        #expect(objects.first?.location.line == 4)
        #expect(diagnostics.warnings.map(\.description) == ["dump.yaml:7:3: warning: a List inside a List is not something kubectl prints; skipped"])
    }

    @Test func anAliasBombIsRefusedWithItsPosition() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        var diagnostics = Diagnostics()
        do {
            _ = try ManifestFrontEnd().objects(text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  " + text.replacingOccurrences(of: "\n", with: "\n  "), file: "bomb.yaml", diagnostics: &diagnostics)
            Issue.record("an alias bomb was read")
        } catch {
            #expect(error.diagnostic.message.contains("more nodes than the budget allows"))
            #expect(error.diagnostic.location?.file == "bomb.yaml")
        }
    }

    @Test func aDuplicateKeyIsAnErrorNamingTheKeyAndItsLine() throws {
        var diagnostics = Diagnostics()
        do {
            _ = try ManifestFrontEnd().objects(text: "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nkind: Secret\n", file: "d.yaml", diagnostics: &diagnostics)
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(error.description == "d.yaml:2:1: error: duplicate key 'kind' in a mapping")
        }
    }

    @Test func aFIFOIsRefusedWithoutOpeningIt() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("authgate-fifo-\(ProcessInfo.processInfo.processIdentifier)").path
        unlink(path)
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        #expect(throws: FileAccessError.notRegularFile(kind: "FIFO")) { _ = try DiskFileSystem().read(path) }
        #expect(throws: FileAccessError.notRegularFile(kind: "directory")) { _ = try DiskFileSystem().read("/tmp") }
        #expect(throws: FileAccessError.notFound) { _ = try DiskFileSystem().read("/nonexistent/authgate") }
    }

    @Test func filesOverTheLimitAreRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("authgate-big-\(ProcessInfo.processInfo.processIdentifier)").path
        try String(repeating: "x", count: 100).write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        #expect(throws: FileAccessError.tooLarge(limit: 10)) { _ = try DiskFileSystem(maxFileBytes: 10).read(path) }
    }

    @Test func conversionStopsAtTheFirstErrorAndKeepsWarnings() {
        let files = InMemoryFileSystem(["good": "a.com {\n\timport none/*\n}\n", "bad": "b.com {\n"])
        var diagnostics = Diagnostics()
        let result = Conversion(fileSystem: files, environment: [:], forcedKind: .caddyfile, options: TraefikOptions()).run([.init(path: "good"), .init(path: "bad")], diagnostics: &diagnostics)
        #expect(result == nil)
        #expect(diagnostics.sorted.map(\.description) == [
            "bad:1:7: error: unexpected end of file: the '{' opened here is never closed (expected '}')",
            "good:2:2: warning: no files match the import pattern 'none/*'; nothing imported",
        ])
    }

    @Test func globMatchesGoSemantics() {
        #expect(Path.matches(".hidden", pattern: "*"))
        #expect(Path.matches("a.caddy", pattern: "*.caddy"))
        #expect(!Path.matches("a.caddyx", pattern: "*.caddy"))
        #expect(Path.matches("ab", pattern: "a?"))
        #expect(Path.matches("a*", pattern: "a\\*"))
        #expect(!Path.matches("ab", pattern: "a\\*"))
        #expect(Path.clean("a/../../b/./c//") == "../b/c")
        #expect(Path.directory(of: "Caddyfile") == ".")
        #expect(Path.join(".", "sites/*.caddy") == "sites/*.caddy")
    }
}

/// Yams hashes mapping keys whole before authgate's node budget runs: a key built from
/// aliases is refused first (the fuzzer found one that ran for minutes).
struct AliasKeyTests {
    @Test func aliasesAsValuesAreFineAndAliasesInKeysAreRefusedWithTheirPosition() throws {
        try ManifestFrontEnd.refuseAliasKeys("a: &x 1\nb: *x\nc: [*x, *x]\n", file: "ok.yaml")
        #expect(throws: DiagnosticError.self) { try ManifestFrontEnd.refuseAliasKeys("a: &x [1]\n? *x\n: v\n", file: "bad.yaml") }
        do {
            try ManifestFrontEnd.refuseAliasKeys("a: &x [1]\nb:\n  *x : v\n", file: "bad.yaml")
            Issue.record("an alias used as a key was not refused")
        } catch {
            #expect(error.diagnostic.location?.line == 3)
        }
    }
}
