@testable import AuthgateCore
import Foundation
import Testing

/// The command-line contract: exit codes, nothing on stdout on failure, diagnostics on
/// stderr in compiler form.
struct CommandLineTests {
    @Test func theSampleConvertsToYAMLOnStdoutAndASummaryOnStderr() throws {
        let run = try runAuthgate(["convert", "Samples/basic/Caddyfile"], directory: packageRoot)
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("---\napiVersion: v1\nkind: Namespace\n"))
        #expect(run.stdout.contains("kind: HTTPRoute"))
        #expect(run.stderr.contains("authgate: wrote 8 objects for 2 hosts"))
    }

    /// Two routers of equal priority (Exact /123 on two hostnames of equal length, with
    /// the same rule index) leave Traefik's choice undefined: the protected path might
    /// be served by the wildcard site without auth. No rule can outrank an Exact match.
    static let unkeepable = "*.example.com {\n\treverse_proxy /123 public:80\n\treverse_proxy other:80\n}\nb.example.com {\n\tforward_auth authelia:9091 {\n\t\turi /api/authz/forward-auth\n\t}\n\treverse_proxy secret:80\n}\n"

    @Test func aPathThatCannotKeepItsProtectionExitsOneWithNothingOnStdout() throws {
        let run = try runAuthgate(["convert", "-"], stdin: Self.unkeepable)
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("<stdin>:9:2: error: ambiguous routing on b.example.com /123"))
        #expect(run.stderr.contains("authgate: error: 1 path would not keep the backend and auth the source gave it; nothing was written"))
    }

    @Test func allowUnprotectedWritesAnywayAndWarns() throws {
        let run = try runAuthgate(["convert", "--allow-unprotected", "-"], stdin: Self.unkeepable)
        #expect(run.status == 0)
        #expect(run.stdout.contains("kind: HTTPRoute"))
        #expect(run.stderr.contains("<stdin>:9:2: warning: ambiguous routing on b.example.com /123"))
    }

    @Test func theOutpostTokenComesFromAFileAndIsPrintedNowhereElse() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("authgate-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "tok-123-secret\n".write(to: folder.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        let run = try runAuthgate(["convert", "Samples/basic/Caddyfile", "--authentik-token-file", folder.appendingPathComponent("token").path, "--authentik-host", "https://auth.example.com", "--authentik-version", "2025.12.4"], directory: packageRoot)
        #expect(run.status == 0)
        #expect(run.stdout.contains("authentik_token: tok-123-secret\n"))
        #expect(run.stdout.components(separatedBy: "tok-123-secret").count == 2)
        #expect(!run.stderr.contains("tok-123"))
        #expect(!run.stderr.contains("REPLACE-ME"))
    }

    @Test(arguments: [
        ["convert", "--namespace", "Bad_NS", "Samples/basic/Caddyfile"],
        ["convert", "--gateway", "just-a-name", "Samples/basic/Caddyfile"],
        ["convert", "--outpost-port", "0", "Samples/basic/Caddyfile"],
        ["convert", "--authentik-host", "auth.example.com", "Samples/basic/Caddyfile"],
    ])
    func badFlagsAreUsageErrors(_ arguments: [String]) throws {
        let run = try runAuthgate(arguments, directory: packageRoot)
        #expect(run.status == 64)
        #expect(run.stdout.isEmpty)
    }

    @Test func anErrorInAnImportedFileNamesItsLineAndTheImport() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("authgate-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sites"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "import sites/*.caddy\n".write(to: folder.appendingPathComponent("Caddyfile"), atomically: true, encoding: .utf8)
        try "a.com {\n\theader\n\t{\n\t}\n}\n".write(to: folder.appendingPathComponent("sites/a.caddy"), atomically: true, encoding: .utf8)
        let run = try runAuthgate(["convert", "Caddyfile"], directory: folder)
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == """
            sites/a.caddy:3:2: error: unexpected '{' on a new line; did you mean to place the '{' on the previous line?
            Caddyfile:1:1: note: imported from here

            """)
    }

    @Test func aYAMLSyntaxErrorExitsTwoWithItsPosition() throws {
        let run = try runAuthgate(["convert", "--from", "manifests", "-"], stdin: "kind: Ingress\nmetadata: {name: x\n")
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("<stdin>:"))
        #expect(run.stderr.contains(": error: invalid YAML"))
    }

    @Test func aMissingInputExitsTwoNamingIt() throws {
        let run = try runAuthgate(["convert", "/nonexistent/Caddyfile"])
        #expect(run.status == 2)
        #expect(run.stderr == "authgate: error: cannot read /nonexistent/Caddyfile: no such file\n")
    }

    @Test func oversizedStandardInputIsRefused() throws {
        let run = try runAuthgate(["convert", "--max-input-bytes", "10", "-"], stdin: "a.com {\n\trespond hello\n}\n")
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("larger than --max-input-bytes"))
    }

    @Test(arguments: [
        ["convert"],
        ["convert", "--from", "nginx", "x"],
        ["convert", "-", "-"],
        ["frobnicate"],
    ])
    func badUsageExitsSixtyFour(_ arguments: [String]) throws {
        let run = try runAuthgate(arguments)
        #expect(run.status == 64, "\(arguments): \(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func warningsDoNotChangeTheExitCode() throws {
        let run = try runAuthgate(["convert", "-"], stdin: "a.com {\n\timport nothing-here/*.caddy\n}\n", directory: FileManager.default.temporaryDirectory)
        #expect(run.status == 0)
        #expect(run.stderr.hasPrefix("<stdin>:2:2: warning: no files match the import pattern 'nothing-here/*.caddy'"))
    }
}
