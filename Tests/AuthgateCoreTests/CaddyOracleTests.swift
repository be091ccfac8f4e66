@testable import AuthgateCore
import Foundation
import Testing

/// Checks authgate's reading of Caddy's semantics against Caddy itself: real Caddy
/// 2.11.7 adapts each Caddyfile to JSON, a small interpreter of that JSON (routes,
/// groups, subroutes, matchers, handlers) routes every probe path, and authgate's own
/// model must give the same outcome: same upstream, same forward auth, same path sent
/// upstream, same redirect. Needs real Caddy (`AUTHGATE_CADDY`, from Tests/run-all).
struct CaddyOracleTests {
    /// Semantics where a naive reading goes wrong, each a Caddyfile on its own.
    static let cases: [(name: String, caddyfile: String)] = [
        ("directive order puts forward_auth before reverse_proxy", """
            a.example.com {
            \treverse_proxy app:80
            \tforward_auth auth:9000 {
            \t\turi /outpost.goauthentik.io/auth/caddy
            \t}
            }
            """),
        ("handle blocks are exclusive, most specific first, bare handle last", """
            a.example.com {
            \thandle {
            \t\treverse_proxy fallback:80
            \t}
            \thandle /api/* {
            \t\treverse_proxy api:80
            \t}
            \thandle /api/admin/* {
            \t\tforward_auth auth:9000 {
            \t\t\turi /api/authz/forward-auth
            \t\t}
            \t\treverse_proxy admin:80
            \t}
            }
            """),
        ("handle_path strips its prefix and nested matchers see the stripped path", """
            a.example.com {
            \thandle_path /files/* {
            \t\treverse_proxy /public/* public:80
            \t\treverse_proxy files:80
            \t}
            \treverse_proxy web:80
            }
            """),
        ("path forms: exact, /x/*, character prefix, suffix, substring, glob", """
            a.example.com {
            \treverse_proxy /exact exact:80
            \treverse_proxy /dir/* dir:80
            \treverse_proxy /chars* chars:80
            \t@php path *.php
            \treverse_proxy @php php:80
            \t@secret path *secret*
            \treverse_proxy @secret secret:80
            \treverse_proxy /a/*/b glob:80
            \treverse_proxy web:80
            }
            """),
        ("named matchers with not, and inline matchers on forward_auth", """
            a.example.com {
            \t@protected {
            \t\tnot path /public/* /health
            \t}
            \tforward_auth @protected authelia:9091 {
            \t\turi /api/authz/forward-auth
            \t\tcopy_headers Remote-User
            \t}
            \t@api path /api/*
            \treverse_proxy @api api:8080
            \treverse_proxy web:80
            }
            """),
        ("route keeps written order", """
            a.example.com {
            \troute {
            \t\treverse_proxy /open/* open:80
            \t\tforward_auth auth:9000 {
            \t\t\turi /outpost.goauthentik.io/auth/caddy
            \t\t}
            \t\treverse_proxy app:80
            \t}
            }
            """),
        ("redirects and rewrites", """
            a.example.com {
            \tredir /old /new permanent
            \tredir /moved/* https://b.example.com{uri} 307
            \trewrite /app /app/
            \turi /legacy/* strip_prefix /legacy
            \treverse_proxy app:80
            }
            """),
        ("uri strip_prefix changes what later matchers see", """
            a.example.com {
            \turi strip_prefix /api
            \treverse_proxy /v1/* v1:80
            \tforward_auth authelia:9091 {
            \t\turi /api/authz/forward-auth
            \t}
            \treverse_proxy other:80
            }
            """),
        ("basic_auth protects like forward auth", """
            a.example.com {
            \tbasic_auth /private/* {
            \t\talice $2a$14$Zkx19XLiW6VYouLHR5NmfOFU0z2GTNmpkT/5qqR7hx4IjWJPDhjvG
            \t}
            \treverse_proxy app:80
            }
            """),
        ("named matchers with one path sort by it; repeated path lines are one matcher", """
            a.example.com {
            \t@two {
            \t\tpath /a/*
            \t\tpath /b/*
            \t}
            \treverse_proxy @two two:80
            \t@php path *.php
            \treverse_proxy @php php:80
            \treverse_proxy /exact exact:80
            \treverse_proxy /dir/* dir:80
            \treverse_proxy /chars* chars:80
            \t@zz {
            \t\tpath /zz/*
            \t\thost a.example.com
            \t}
            \treverse_proxy @zz zz:80
            \treverse_proxy web:80
            }
            """),
        ("a wildcard site dispatching on host matchers", """
            *.example.com {
            \t@grafana host grafana.example.com
            \thandle @grafana {
            \t\treverse_proxy grafana:3000
            \t}
            \thandle {
            \t\tforward_auth auth:9000 {
            \t\t\turi /outpost.goauthentik.io/auth/caddy
            \t\t}
            \t\treverse_proxy other:80
            \t}
            }
            """),
    ]

    static var caseNames: [String] { cases.map(\.name) }

    @Test(arguments: caseNames)
    func authgateRoutesLikeCaddy(_ name: String) throws {
        let caddyfile = try #require(Self.cases.first { $0.name == name }).caddyfile
        try compareWithCaddy(caddyfile: caddyfile + "\n", file: "Caddyfile")
    }

    @Test(arguments: SampleGoldenTests.caddySamples)
    func sampleRoutesLikeCaddy(_ name: String) throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("Samples/\(name)/Caddyfile"), encoding: .utf8)
        try compareWithCaddy(caddyfile: text, file: "Samples/\(name)/Caddyfile")
    }

    /// Caddy's route comparison is no consistent order when routes with one path mix
    /// with routes with other matchers (a path can neither pass nor be passed by them),
    /// so the order is whatever Go's stable sort makes of it: this list (23 routes, so
    /// Go merges sorted blocks) comes out differently from Swift's stable sort with
    /// the same comparison. authgate must arrange the routes exactly as real Caddy does.
    @Test func routesThatMixPathsAndOtherMatchersAreOrderedAsCaddyOrdersThem() throws {
        let kinds = ["/xxx0*", "c1", "/xxxx2/*", "n3", "/x4/*", "c5", "n6", "n7", "c8", "/xxxxxx9*", "n10", "/x11*", "/xxx12*",
                     "n13", "/xxxx14/*", "/xxx15*", "/x16/*", "/xxx17*", "/xxxxx18/*", "/xxx19*", "n20", "/xxxxx21*", "/xx22*"]
        var text = "a.example.com {\n"
        var expectedOrder: [String] = []
        for (index, kind) in kinds.enumerated() {
            let upstream = "u\(index)"
            if kind.hasPrefix("n") {
                text += "\t@m\(index) path /a\(index) /b\(index)\n\treverse_proxy @m\(index) \(upstream):80\n"
            } else if kind.hasPrefix("c") {
                text += "\treverse_proxy \(upstream):80\n"
            } else {
                text += "\treverse_proxy \(kind) \(upstream):80\n"
            }
            expectedOrder.append(upstream)
        }
        text += "}\n"
        let json = try adaptWithCaddy(text)
        let servers = try #require((json["apps"] as? [String: Any])?["http"] as? [String: Any])["servers"] as? [String: Any]
        let siteRoute = try #require(((servers?.values.first as? [String: Any])?["routes"] as? [[String: Any]])?.first)
        let subroutes = try #require(((siteRoute["handle"] as? [[String: Any]])?.first?["routes"]) as? [[String: Any]])
        // Caddy puts consecutive routes without matchers into one route.
        let theirs = subroutes.flatMap { route -> [String] in
            (route["handle"] as? [[String: Any]] ?? []).compactMap { handler in
                ((handler["upstreams"] as? [[String: Any]])?.first?["dial"] as? String).map { String($0.prefix { $0 != ":" }) }
            }
        }
        let (result, diagnostics) = try convert(text)
        let program = try #require(result?.plan.sites.first?.behaviour as? CaddyProgram, "\(diagnostics.all)")
        let ours = program.routes.compactMap { route -> String? in
            for case .proxy(let upstreams, _, _, _) in route.handlers { return upstreams.first?.host }
            return nil
        }
        #expect(theirs.count == kinds.count)
        #expect(ours == theirs)
        #expect(ours != expectedOrder)
    }

    /// Random Caddyfiles (RandomizedCoverageTests' generator, another seed), each read
    /// by authgate and adapted by real Caddy, routed on the probes and on random paths:
    /// the model must route as Caddy's own JSON does. The first file that differs is
    /// printed whole.
    @Test func randomCaddyfilesRouteLikeCaddy() throws {
        var random = RandomizedCoverageTests.Generator(state: 0x0_C0FFEE)
        for index in 0..<150 {
            let text = RandomizedCoverageTests.caddyfile(&random)
            let extra = RandomizedCoverageTests.randomPaths(&random, count: 60)
            let differences = try compareWithCaddy(caddyfile: text, file: "random \(index)", extraPaths: extra)
            if differences > 0 {
                Issue.record("random Caddyfile \(index) routes differently from Caddy:\n\(text)")
                break
            }
        }
    }

    @discardableResult
    func compareWithCaddy(caddyfile: String, file: String, extraPaths: [String] = []) throws -> Int {
        let json = try adaptWithCaddy(caddyfile)
        var diagnostics = Diagnostics()
        let document = try CaddyfileFrontEnd(fileSystem: InMemoryFileSystem([:]), environment: [:])
            .parse(text: caddyfile, file: file, diagnostics: &diagnostics)
        let plan = try CaddyImporter().plan(from: document, diagnostics: &diagnostics)
        let oracle = CaddyJSONRouter(json: json)
        var compared = 0
        var differences = 0
        for site in plan.sites {
            let hosts = site.hosts.isEmpty ? ["authgate-probe.invalid"] : site.hosts.map { $0.hasPrefix("*.") ? "authgate-probe" + $0.dropFirst() : $0 }
            for host in hosts {
                for path in RuleSimplifier.probes(for: site) + extraPaths where !path.lowercased().hasPrefix("/outpost.goauthentik.io") || !site.addedOutpostRoute {
                    // Every request variant the check sends; conditions neither side can
                    // evaluate (an `expression`) are taken not to hold on both.
                    for variant in site.behaviour.variants.map(\.request) {
                        let ours = site.behaviour.outcome(host: host, path: path, request: variant)
                        let theirs = oracle.route(host: host, path: path, request: variant)
                        let mine = OracleOutcome(ours, providers: plan.authProviders, path: path, host: host)
                        #expect(mine == theirs, "\(file): \(host)\(path) \(variant): authgate says \(mine), Caddy's JSON says \(theirs)")
                        if mine != theirs { differences += 1 }
                        compared += 1
                        if differences >= 5 { return differences }
                    }
                }
            }
        }
        #expect(compared > 0)
        return differences
    }

    func adaptWithCaddy(_ caddyfile: String) throws -> [String: Any] {
        let caddy = ProcessInfo.processInfo.environment["AUTHGATE_CADDY"] ?? packageRoot.appendingPathComponent(".build/test-peers/bin/caddy").path
        try #require(FileManager.default.isExecutableFile(atPath: caddy), "real Caddy is missing at \(caddy): run `bash Tests/run-all` or set AUTHGATE_CADDY")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("authgate-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("Caddyfile")
        try caddyfile.write(to: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: caddy)
        process.arguments = ["adapt", "--config", path.path, "--adapter", "caddyfile"]
        process.environment = ["HOME": folder.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "caddy adapt refused the Caddyfile")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

/// An outcome both sides can state: where the request ends, behind which auth servers,
/// with which path upstream.
struct OracleOutcome: Equatable, CustomStringConvertible {
    var terminal: String
    var auth: [String]
    var upstreamPath: String?

    init(terminal: String, auth: [String], upstreamPath: String?) {
        self.terminal = terminal
        self.auth = auth
        self.upstreamPath = upstreamPath
    }

    init(_ outcome: RequestOutcome, providers: [AuthProvider], path: String, host: String = "") {
        auth = outcome.auth.map { providers[$0].upstream.map(Self.dial) ?? "basic" }
        switch outcome.terminal {
        case .proxy(let upstreams):
            terminal = "proxy " + upstreams.map(Self.dial).sorted().joined(separator: ",")
            upstreamPath = outcome.upstreamPath(for: path)
        case .redirect(let redirect):
            var target = ""
            if let scheme = redirect.scheme { target = "\(scheme)://\(redirect.hostname ?? host)" + (redirect.port.map { ":\($0)" } ?? "") }
            target += redirect.path ?? path
            terminal = "redirect \(redirect.status) \(target)"
        case .answeredByProxy:
            terminal = "answer"
        case .unhandled:
            terminal = "unhandled"
        }
    }

    static func dial(_ upstream: Upstream) -> String {
        "\(upstream.host):\(upstream.port)"
    }

    var description: String {
        (auth.isEmpty ? "" : "auth[\(auth.joined(separator: ","))] ") + terminal + (upstreamPath.map { " path \($0)" } ?? "")
    }
}

/// Routes a request through Caddy's adapted JSON config the way Caddy's HTTP app does.
struct CaddyJSONRouter {
    /// An address in a CIDR range, by the C library's own address parser.
    static func address(_ text: String, isIn range: String) -> Bool {
        let parts = range.split(separator: "/", maxSplits: 1).map(String.init)
        func bytes(_ address: String) -> [UInt8]? {
            var v4 = in_addr()
            if inet_pton(AF_INET, address, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
            var v6 = in6_addr()
            if inet_pton(AF_INET6, address, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
            return nil
        }
        guard let network = bytes(parts[0]), let candidate = bytes(text), network.count == candidate.count else { return false }
        let length = parts.count == 2 ? Int(parts[1]) ?? 0 : network.count * 8
        for bit in 0..<length {
            let mask = UInt8(0x80 >> (bit % 8))
            if network[bit / 8] & mask != candidate[bit / 8] & mask { return false }
        }
        return true
    }

    let routes: [[String: Any]]

    init(json: [String: Any]) {
        let servers = ((json["apps"] as? [String: Any])?["http"] as? [String: Any])?["servers"] as? [String: Any] ?? [:]
        // The HTTPS server (or the only one) holds the sites.
        let chosen = servers.keys.sorted().map { servers[$0] as? [String: Any] ?? [:] }
            .first { (($0["listen"] as? [String]) ?? []).contains(":443") } ?? servers.values.first as? [String: Any] ?? [:]
        routes = chosen["routes"] as? [[String: Any]] ?? []
    }

    struct State {
        var path: String
        var request: RequestVariant = .baseline
        var auth: [String] = []
        var terminal: String?
    }

    func route(host: String, path: String, request: RequestVariant = .baseline) -> OracleOutcome {
        var state = State(path: path, request: request)
        _ = run(routes, host: host, state: &state, original: path)
        let terminal = state.terminal ?? "unhandled"
        return OracleOutcome(terminal: terminal, auth: state.auth, upstreamPath: terminal.hasPrefix("proxy") ? state.path : nil)
    }

    private func run(_ routes: [[String: Any]], host: String, state: inout State, original: String) -> Bool {
        var finished = Set<String>()
        for route in routes {
            if let group = route["group"] as? String, finished.contains(group) { continue }
            let sets = route["match"] as? [[String: Any]]
            if let sets, !sets.contains(where: { matches($0, host: host, path: state.path, request: state.request) }) { continue }
            if let group = route["group"] as? String { finished.insert(group) }
            for handler in route["handle"] as? [[String: Any]] ?? [] {
                if handle(handler, host: host, state: &state, original: original) { return true }
            }
            if route["terminal"] as? Bool == true { return false }
        }
        return false
    }

    private func handle(_ handler: [String: Any], host: String, state: inout State, original: String) -> Bool {
        switch handler["handler"] as? String {
        case "subroute":
            return run(handler["routes"] as? [[String: Any]] ?? [], host: host, state: &state, original: original)
        case "reverse_proxy":
            let dials = (handler["upstreams"] as? [[String: Any]] ?? []).compactMap { $0["dial"] as? String }.map { $0.lowercased() }
            if handler["handle_response"] != nil {
                state.auth += dials
                return false
            }
            let tls = ((handler["transport"] as? [String: Any])?["tls"]) != nil
            state.terminal = "proxy " + dials.map { dial in dial.contains(":") ? dial : dial + (tls ? ":443" : ":80") }.sorted().joined(separator: ",")
            return true
        case "rewrite":
            if let prefix = handler["strip_path_prefix"] as? String {
                state.path = PathRewrite.stripPrefix(prefix).apply(to: state.path)
            } else if let uri = handler["uri"] as? String {
                if uri.hasSuffix("{http.request.uri}") {
                    state.path = String(uri.dropLast("{http.request.uri}".count)) + state.path
                } else {
                    state.path = uri
                }
            }
            return false
        case "static_response":
            let status = handler["status_code"].map { "\($0)" } ?? "200"
            if let headers = handler["headers"] as? [String: Any], let location = (headers["Location"] as? [String])?.first {
                var target = location.replacingOccurrences(of: "{http.request.uri}", with: state.path)
                for placeholder in ["{http.request.hostport}", "{http.request.host}"] { target = target.replacingOccurrences(of: placeholder, with: host) }
                state.terminal = "redirect \(status) \(target)"
            } else {
                state.terminal = "answer"
            }
            return true
        case "authentication":
            state.auth.append("basic")
            return false
        case "file_server", "error", "php_fastcgi":
            state.terminal = "answer"
            return true
        default:
            return false
        }
    }

    private func matches(_ set: [String: Any], host: String, path: String, request: RequestVariant) -> Bool {
        func sent(_ field: String) -> [String] {
            request.headers.filter { $0.name.lowercased() == field.lowercased() }.map(\.value)
        }
        for (kind, value) in set {
            switch kind {
            case "host":
                let hosts = value as? [String] ?? []
                if !hosts.contains(where: { HostName.matches(pattern: $0.lowercased(), host: host) }) { return false }
            case "path":
                let patterns = value as? [String] ?? []
                let cleaned = CaddyPath.clean(path.lowercased())
                if !patterns.contains(where: { PathPattern.caddy($0.lowercased()).matches(cleaned) }) { return false }
            case "path_regexp":
                // Caddy matches the cleaned path case-sensitively (Go's RE2); ICU's
                // engine stands in for it here, independent of authgate's own.
                let pattern = (value as? [String: Any])?["pattern"] as? String ?? ""
                let cleaned = CaddyPath.clean(path)
                guard let regex = try? NSRegularExpression(pattern: pattern),
                      regex.firstMatch(in: cleaned, range: NSRange(cleaned.startIndex..., in: cleaned)) != nil
                else { return false }
            case "not":
                let inner = value as? [[String: Any]] ?? []
                if inner.contains(where: { matches($0, host: host, path: path, request: request) }) { return false }
            case "method":
                if !(value as? [String] ?? []).contains(request.method) { return false }
            case "header":
                // Caddy's MatchHeader: every field; a null list means absent; values
                // are exact or `*` globs at either end.
                for (field, wanted) in value as? [String: Any] ?? [:] {
                    let values = sent(field)
                    guard let tests = wanted as? [String] else {
                        if !values.isEmpty { return false }
                        continue
                    }
                    let ok = values.contains { got in
                        tests.contains { test in
                            if test == "*" { return true }
                            if test.hasPrefix("*") && test.hasSuffix("*") && test.count > 1 { return got.contains(test.dropFirst().dropLast()) }
                            if test.hasPrefix("*") { return got.hasSuffix(test.dropFirst()) }
                            if test.hasSuffix("*") { return got.hasPrefix(test.dropLast()) }
                            return got == test
                        }
                    }
                    if !ok { return false }
                }
            case "header_regexp":
                for (field, spec) in value as? [String: Any] ?? [:] {
                    let pattern = (spec as? [String: Any])?["pattern"] as? String ?? ""
                    guard let regex = try? NSRegularExpression(pattern: pattern),
                          sent(field).contains(where: { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil })
                    else { return false }
                }
            case "query":
                for (key, wanted) in value as? [String: Any] ?? [:] {
                    let values = request.query.filter { $0.name == key }.map(\.value)
                    let tests = wanted as? [String] ?? []
                    if !tests.contains(where: { $0 == "*" ? !values.isEmpty : values.contains($0) }) { return false }
                }
            case "remote_ip", "client_ip":
                let ranges = (value as? [String: Any])?["ranges"] as? [String] ?? []
                if !ranges.contains(where: { Self.address(request.clientIP, isIn: $0) }) { return false }
            default:
                // expression, vars, file, protocol…: neither side evaluates them.
                return false
            }
        }
        return true
    }
}
