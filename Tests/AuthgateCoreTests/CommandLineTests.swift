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
        for format in ["text", "markdown", "json"] {
            let report = try runAuthgate(["report", "Samples/basic/Caddyfile", "--format", format, "--authentik-token-file", folder.appendingPathComponent("token").path], directory: packageRoot)
            #expect(report.status == 0)
            #expect(!report.stdout.contains("tok-123") && !report.stderr.contains("tok-123"), "the \(format) report shows the token")
        }
    }

    @Test(arguments: [
        ["convert", "--namespace", "Bad_NS", "Samples/basic/Caddyfile"],
        ["convert", "--gateway", "just-a-name", "Samples/basic/Caddyfile"],
        ["convert", "--outpost-port", "0", "Samples/basic/Caddyfile"],
        ["convert", "--authentik-host", "auth.example.com", "Samples/basic/Caddyfile"],
        ["convert", "--ingress-controller", "internal=haproxy", "Samples/ingress-traefik/manifests.yaml"],
        ["convert", "--ingress-controller", "internal", "Samples/ingress-traefik/manifests.yaml"],
    ])
    func badFlagsAreUsageErrors(_ arguments: [String]) throws {
        let run = try runAuthgate(arguments, directory: packageRoot)
        #expect(run.status == 64)
        #expect(run.stdout.isEmpty)
    }

    @Test func anEnvironmentFileFillsTheSiteAddressAndAMissingOneIsBadInput() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("authgate-env-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "app.{$AUTHGATE_TEST_DOMAIN} {\n\treverse_proxy app:80\n}\n".write(to: folder.appendingPathComponent("Caddyfile"), atomically: true, encoding: .utf8)
        try "# written by compose\nAUTHGATE_TEST_DOMAIN=example.org\n".write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let run = try runAuthgate(["convert", "--env-file", ".env", "Caddyfile"], directory: folder)
        #expect(run.status == 0)
        #expect(run.stdout.contains("- app.example.org\n"))
        let unset = try runAuthgate(["convert", "Caddyfile"], directory: folder)
        #expect(unset.status == 2)
        #expect(unset.stdout.isEmpty)
        #expect(unset.stderr.contains("Caddyfile:1:1: error: site address 'app.' is not a host name: {$AUTHGATE_TEST_DOMAIN} stood in it"))
        let missing = try runAuthgate(["convert", "--env-file", "absent.env", "Caddyfile"], directory: folder)
        #expect(missing.status == 2)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr.contains("cannot read --env-file absent.env"))
    }

    @Test func aPortOnlySiteConvertsOnlyWithAListenerForItsPort() throws {
        let caddyfile = ":8085 {\n\tforward_auth authelia:9091 {\n\t\turi /api/authz/forward-auth\n\t}\n\treverse_proxy admin:80\n}\n"
        let without = try runAuthgate(["convert", "-"], stdin: caddyfile)
        #expect(without.status == 1)
        #expect(without.stdout.isEmpty)
        #expect(without.stderr.contains("--listener 8085=LISTENER"))
        let with = try runAuthgate(["convert", "--listener", "8085=admin", "-"], stdin: caddyfile)
        #expect(with.status == 0)
        #expect(with.stdout.contains("sectionName: admin"))
        #expect(with.stderr.contains("<stdin>:1:1: warning: site address :8085 answers every host on port 8085"))
        let bad = try runAuthgate(["convert", "--listener", "8085", "-"], stdin: caddyfile)
        #expect(bad.status == 64)
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
        let run = try runAuthgate(["convert", "-"], stdin: "a.com {\n\timport nothing-here/*.caddy\n\treverse_proxy app:80\n}\n", directory: FileManager.default.temporaryDirectory)
        #expect(run.status == 0)
        #expect(run.stderr.hasPrefix("<stdin>:2:2: warning: no files match the import pattern 'nothing-here/*.caddy'"))
    }
}

/// Work grows linearly with the input: a file eight times larger may take at most
/// two and a half times the linear time (a quadratic step would take 64 times as long). Each
/// site here needs a case repair, the most work a site can cause.
struct ScaleTests {
    static func caddyfile(sites: Int) -> String {
        var text = "(sso) {\n\tforward_auth authentik.lan:9000 {\n\t\turi /outpost.goauthentik.io/auth/caddy\n\t}\n}\n"
        for index in 0..<sites {
            text += "app\(index).example.com {\n\thandle /api/* {\n\t\treverse_proxy api\(index):80\n\t}\n\thandle {\n\t\timport sso\n\t\treverse_proxy app\(index):80\n\t}\n}\n"
        }
        return text
    }

    func timedConversion(sites: Int) throws -> Duration {
        let clock = ContinuousClock()
        var run: CommandRun?
        let elapsed = try clock.measure {
            run = try runAuthgate(["convert", "-", "--namespace", "apps"], stdin: Self.caddyfile(sites: sites))
        }
        let done = try #require(run)
        #expect(done.status == 0, "\(done.stderr.suffix(500))")
        #expect(done.stdout.components(separatedBy: "\nkind: HTTPRoute\n").count - 1 == sites)
        return elapsed
    }

    /// Every site's refusal is its own error line (errors are never grouped), so this
    /// run's stderr is far larger than a pipe's buffer: the run must not block on it.
    @Test func aRunWhoseStderrOutgrowsAPipeBufferEnds() throws {
        let text = (0..<400).map { "app\($0).example.com {\n\tcrowdsec\n\treverse_proxy app\($0):80\n}\n" }.joined()
        let run = try runAuthgate(["convert", "-"], stdin: text)
        #expect(run.status == 1)
        #expect(run.stderr.utf8.count > 65_536)
        #expect(run.stdout.isEmpty)
    }

    @Test func eightTimesTheSitesTakesAboutEightTimesAsLong() throws {
        // Other tests run alongside; the bound leaves room for that (linear is 8,
        // quadratic 64).
        let small = min(try timedConversion(sites: 300), try timedConversion(sites: 300))
        let large = try timedConversion(sites: 2_400)
        #expect(large < small * 20, "300 sites took \(small), 2,400 took \(large)")
        print("scale: 300 sites \(small), 2,400 sites \(large)")
    }

    /// One site with many path handlers (an `import apps/*.caddy` of one `handle` per
    /// app): each added rule is probed against every other, so the work is at most
    /// quadratic: four times the handlers may take 16 times as long, not 64 (removing
    /// rules one by one used to re-route every probe through every rule: 100 handlers
    /// took 9 s, 200 took 72 s).
    @Test func fourTimesTheHandlersInOneSiteTakesAtMostQuadraticTime() throws {
        func timed(_ handlers: Int) throws -> Duration {
            var text = "a.example.com {\n"
            for index in 0..<handlers { text += "\thandle /app\(index)/* {\n\t\treverse_proxy app\(index):80\n\t}\n" }
            text += "}\n"
            let clock = ContinuousClock()
            var run: CommandRun?
            let elapsed = try clock.measure { run = try runAuthgate(["convert", "-"], stdin: text) }
            let done = try #require(run)
            #expect(done.status == 0, "\(done.stderr.suffix(500))")
            #expect(done.stdout.contains("value: (?i)^/app\(handlers - 1)/"))
            return elapsed
        }
        let small = min(try timed(50), try timed(50))
        let large = try timed(200)
        #expect(large < small * 40, "50 handlers took \(small), 200 took \(large)")
        print("scale: one site with 50 handlers \(small), 200 handlers \(large)")
    }
}
