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
