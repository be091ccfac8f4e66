@testable import AuthgateCore
import Foundation
import Testing

/// The coverage check proves the output on probe paths it derives from the source.
/// Here random Caddyfiles, built from overlapping matchers, auth and rewrites, are
/// converted, and every conversion that passes the check is checked again on random
/// paths the probes never chose: a path that loses its auth or reaches another backend
/// there is a hole the probes missed. The seed is fixed, so a failure repeats.
struct RandomizedCoverageTests {
    /// SplitMix64: small, fast, and the same on every machine.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let paths = ["/api/*", "/api*", "/api", "/api/v1/*", "/api/v1", "/admin/*", "/admin*", "*.js", "*.php",
                        "*admin*", "/a/*/b", "/API/*", "/static/*", "/api/*/x", "/ap*", "/", "/static", "/a/b/*"]
    static let expressions = ["^/api/v[0-9]+/", "\\.(css|js)$", "^/admin", "^/static/[a-z]+$", "/x$"]
    static let segments = ["api", "API", "v1", "v2", "admin", "Admin", "static", "a", "b", "x", "app.js", "x.php",
                           "apix", "ap", "css.css", "ADMIN.JS"]

    /// One to three sites (a.example.com, b.example.com, a wildcard that may dispatch
    /// on `host`), each with one to five blocks of matchers, auth and rewrites.
    static func caddyfile(_ random: inout Generator) -> String {
        caddyfile(&random, requests: false)
    }

    /// The same, with matchers on headers, methods, query, client address and ones
    /// authgate cannot evaluate, plus plugin directives.
    static func caddyfileWithRequestMatchers(_ random: inout Generator) -> String {
        caddyfile(&random, requests: true)
    }

    static func caddyfile(_ random: inout Generator, requests: Bool) -> String {
        var backend = 0
        var text = ""
        // Names longer than the wildcard's, as real ones are: a one-letter name ties
        // with `*.example.com` in Traefik's priority (a limit the README states).
        var hosts = ["app.example.com"]
        for extra in ["git.example.com", "*.example.com"] where Int.random(in: 0..<3, using: &random) == 0 { hosts.append(extra) }
        for host in hosts {
            text += "\(host) {\n" + site(&random, backend: &backend, wildcard: host.hasPrefix("*."), requests: requests).map { "\t" + $0 + "\n" }.joined() + "}\n"
        }
        return text
    }

    static let requestMatchers = [
        "header Authorization \"Bearer *\"", "method POST PUT", "method GET", "query debug=1", "query format=*",
        "remote_ip 10.0.0.0/8", "client_ip private_ranges", "header X-Key secret", "header_regexp X-Groups ^admins$",
        "not header X-Internal *", "expression {http.request.proto} == \"HTTP/1.0\"", "vars {debug} on",
    ]

    static func site(_ random: inout Generator, backend: inout Int, wildcard: Bool, requests: Bool = false) -> [String] {
        var next = backend
        defer { backend = next }
        func proxy() -> String {
            next += 1
            return "reverse_proxy b\(next):80"
        }
        let auth = "forward_auth authentik:9000 {\n\t\turi /outpost.goauthentik.io/auth/caddy\n\t}"
        // Inline, only a pattern starting with '/' is a matcher token; a named
        // matcher takes any.
        func path() -> String { paths.filter { $0.hasPrefix("/") }.randomElement(using: &random)! }
        func anyPath() -> String { paths.randomElement(using: &random)! }
        var lines: [String] = []
        var matchers = 0
        func matcher() -> String {
            matchers += 1
            let name = "@m\(matchers)"
            if requests && Int.random(in: 0..<3, using: &random) > 0 {
                let condition = requestMatchers.randomElement(using: &random)!
                if Bool.random(using: &random) {
                    lines.append("\(name) \(condition)")
                } else {
                    lines.append("\(name) {\n\t\tpath \(anyPath())\n\t\t\(condition)\n\t}")
                }
                return name
            }
            switch Int.random(in: 0..<(wildcard ? 5 : 4), using: &random) {
            case 0: lines.append("\(name) path \(anyPath()) \(anyPath())")
            case 1: lines.append("\(name) {\n\t\tnot path \(anyPath())\n\t}")
            case 2: lines.append("\(name) path_regexp \(expressions.randomElement(using: &random)!)")
            case 3: lines.append("\(name) path \(anyPath())")
            default: lines.append("\(name) host \(["app.example.com", "cloud.example.com"].randomElement(using: &random)!)")
            }
            return name
        }
        func inner(_ protected: Bool) -> String {
            (protected ? "\t\(auth.replacingOccurrences(of: "\n", with: "\n\t"))\n" : "") + "\t\t\(proxy())"
        }
        for _ in 0..<Int.random(in: 1...5, using: &random) {
            let protected = Bool.random(using: &random)
            if requests && Int.random(in: 0..<5, using: &random) == 0 {
                // What guards or answers by itself: a refusal for a matcher, a plugin.
                switch Int.random(in: 0..<3, using: &random) {
                case 0: lines.append("respond \(matcher()) 403")
                case 1: lines.append("abort \(matcher())")
                default: lines.append("route \(matcher()) {\n\t\tcrowdsec\n\t\t\(proxy())\n\t}")
                }
                continue
            }
            switch Int.random(in: 0..<10, using: &random) {
            case 0: lines.append("handle \(path()) {\n\(inner(protected))\n\t}")
            case 1:
                let prefix = ["/api", "/admin", "/static", "/a"].randomElement(using: &random)!
                lines.append("handle_path \(prefix)/* {\n\(inner(protected))\n\t}")
            case 2:
                next += 1
                lines.append("reverse_proxy \(path()) b\(next):80")
            case 3: lines.append("forward_auth \(path()) authentik:9000 {\n\t\turi /outpost.goauthentik.io/auth/caddy\n\t}")
            case 4:
                let name = matcher()
                lines.append("handle \(name) {\n\(inner(protected))\n\t}")
            case 5: lines.append("redir \(path()) /moved \([302, 301, 308].randomElement(using: &random)!)")
            case 6: lines.append("uri strip_prefix \(["/api", "/static", "/a"].randomElement(using: &random)!)")
            case 7: lines.append("rewrite \(["/api", "/admin", "/static"].randomElement(using: &random)!) /rewritten")
            case 8:
                // handle blocks nested in one another.
                let outer = ["/api", "/admin", "/a"].randomElement(using: &random)!
                lines.append("handle \(outer)/* {\n\t\thandle \(outer)/v1/* {\n\t\(inner(protected))\n\t\t}\n\t\thandle {\n\t\(inner(!protected))\n\t\t}\n\t}")
            default:
                let name = matcher()
                lines.append("route \(name) {\n\(inner(protected))\n\t}")
            }
        }
        switch Int.random(in: 0..<3, using: &random) {
        case 0: lines.append("handle {\n\(inner(Bool.random(using: &random)))\n\t}")
        case 1: lines.append(proxy())
        default: break
        }
        return lines
    }

    /// Requests meeting several of a site's variants at once, chosen at random: the
    /// probes send each variant and pairs of matchers, not every combination.
    static func randomRequests(_ random: inout Generator, from variants: [RequestVariant], count: Int) -> [RequestVariant] {
        guard variants.count > 1 else { return variants }
        var result = variants
        for _ in 0..<count {
            var request = variants.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let other = variants.randomElement(using: &random)!
                if Bool.random(using: &random) { request.method = other.method }
                for field in other.headers where !request.headers.contains(field) { request.headers.append(field) }
                for field in other.query where !request.query.contains(field) { request.query.append(field) }
                if Bool.random(using: &random) { request.clientIP = other.clientIP }
            }
            result.append(request)
        }
        return result
    }

    @Test func conversionsWithRequestMatchersHoldOnRandomPathsAndRequests() throws {
        var random = Generator(state: 0x5EED_0E0E)
        let verbose = ProcessInfo.processInfo.environment["AUTHGATE_RANDOM_VERBOSE"] != nil
        var passed = 0, reported = 0, unknown = 0
        // A seeded 100 by default; AUTHGATE_RANDOM_COUNT runs more (the same first 100).
        let count = ProcessInfo.processInfo.environment["AUTHGATE_RANDOM_COUNT"].flatMap(Int.init) ?? 100
        for _ in 0..<count {
            let text = Self.caddyfileWithRequestMatchers(&random)
            let extra = Self.randomPaths(&random, count: 40)
            let (result, diagnostics) = try convert(text)
            let converted = try #require(result, "a random Caddyfile was refused as bad input: \(diagnostics.errors.first?.description ?? "")\n\(text)")
            if !converted.failures.isEmpty {
                reported += 1
                if converted.failures.contains(where: { $0.kind == .unknown }) { unknown += 1 }
                if verbose { print("REPORTED \(converted.failures.map { "\($0.kind) \($0.paths.prefix(2))" })\n\(text)") }
                continue
            }
            passed += 1
            // Chosen here, in site order, so a failure repeats (the check runs sites
            // side by side).
            var requestsOfSite: [String: [RequestVariant]] = [:]
            for site in converted.plan.sites {
                requestsOfSite[site.hosts.joined(separator: ",")] = Self.randomRequests(&random, from: site.behaviour.variants.map(\.request), count: 8)
            }
            let holes = CoverageCheck.run(plan: converted.plan, emission: converted.emission, paths: { _ in extra }, variants: { site in
                requestsOfSite[site.hosts.joined(separator: ",")] ?? []
            }).filter(\.isFailure)
            #expect(holes.isEmpty, "the probes missed \(holes.map { "\($0.kind) \($0.host) \($0.paths.prefix(3)) \($0.variant.map(\.description) ?? ""): expected \($0.expected), got \($0.actual)" }) for:\n\(text)")
            if !holes.isEmpty { break }
        }
        print("randomized request matchers: \(passed) passed and held, \(reported) reported by the check (\(unknown) of them unknown)")
        #expect(passed > count * 2 / 5, "only \(passed) of \(count) converted cleanly")
    }

    static func randomPaths(_ random: inout Generator, count: Int) -> [String] {
        var found = Set<String>()
        while found.count < count {
            let depth = Int.random(in: 1...4, using: &random)
            var path = (0..<depth).map { _ in "/" + segments.randomElement(using: &random)! }.joined()
            if Bool.random(using: &random) && !path.hasSuffix("/") { path += "/" }
            found.insert(path)
        }
        return found.sorted()
    }

    @Test func conversionsThatPassTheCheckHoldOnPathsTheProbesDidNotChoose() throws {
        var random = Generator(state: 0x5EED_A17E)
        let counts = try Self.checkRandomConversions(400, extraPaths: 200, random: &random, make: Self.caddyfile) { text in try convert(text) }
        print("randomized coverage: \(counts.passed) passed and held, \(counts.reported) reported by the check, \(counts.refused) refused")
        // Most random files convert, so the property is not held vacuously.
        #expect(counts.passed > 300, "only \(counts.passed) of 400 random Caddyfiles converted cleanly (\(counts.reported) reported, \(counts.refused) refused)")
    }

    /// Converts `count` random inputs; each that passes the coverage check is checked
    /// again on `extraPaths` random paths and must hold there too. Stops at the first
    /// hole. `AUTHGATE_RANDOM_VERBOSE=1` prints the refused and reported inputs.
    static func checkRandomConversions(
        _ count: Int, extraPaths: Int, random: inout Generator, make: (inout Generator) -> String,
        convert: (String) throws -> (Conversion.Result?, Diagnostics)
    ) throws -> (passed: Int, reported: Int, refused: Int) {
        let verbose = ProcessInfo.processInfo.environment["AUTHGATE_RANDOM_VERBOSE"] != nil
        var passed = 0, reported = 0, refused = 0
        for _ in 0..<count {
            let text = make(&random)
            let extra = randomPaths(&random, count: extraPaths)
            let (result, diagnostics) = try convert(text)
            guard let result else {
                refused += 1
                if verbose { print("REFUSED \(diagnostics.errors.first?.message ?? "?")\n\(text)") }
                continue
            }
            if !result.failures.isEmpty {
                reported += 1
                if verbose { print("REPORTED \(result.failures.map { "\($0.kind) \($0.paths.prefix(2))" })\n\(text)") }
                continue
            }
            passed += 1
            let holes = CoverageCheck.run(plan: result.plan, emission: result.emission, paths: { _ in extra }).filter(\.isFailure)
            #expect(holes.isEmpty, "the probes missed \(holes.map { "\($0.kind) \($0.host) \($0.paths.prefix(3)): expected \($0.expected), got \($0.actual)" }) for:\n\(text)")
            if !holes.isEmpty { break }
        }
        return (passed, reported, refused)
    }
}

/// Go's stable sort, as Caddy sorts routes with it: for a consistent order it must
/// agree with any stable sort, at every length that exercises its block merging.
struct GoStableSortTests {
    @Test func aConsistentOrderSortsStably() {
        var random = RandomizedCoverageTests.Generator(state: 7)
        for count in [0, 1, 2, 19, 20, 21, 39, 40, 41, 64, 100, 257] {
            let items = (0..<count).map { (key: Int.random(in: 0..<8, using: &random), position: $0) }
            var ours = items
            GoStableSort.sort(&ours) { $0.key < $1.key }
            let expected = items.sorted { $0.key != $1.key ? $0.key < $1.key : $0.position < $1.position }
            #expect(ours.map(\.position) == expected.map(\.position), "\(count) items")
        }
    }
}

/// Holes and model errors the randomized tests found, each kept as a named case.
struct RandomizedFindingsTests {
    /// Caddy gives a host with its own site block to that block; a wildcard site's
    /// `host` matcher for it never matches and must not become that host's route.
    @Test func aWildcardsHostMatcherForAHostWithItsOwnSiteIsDead() throws {
        let (result, diagnostics) = try convert("""
            a.example.com {
            \treverse_proxy own:80
            }
            *.example.com {
            \tredir /ap* /moved 302
            \t@a host a.example.com
            \thandle @a {
            \t\treverse_proxy dead:80
            \t}
            \thandle {
            \t\treverse_proxy other:80
            \t}
            }
            """)
        #expect(result?.failures.isEmpty == true)
        #expect(routed(result, host: "a.example.com", path: "/app").backend == "default/own:80")
        #expect(routed(result, host: "b.example.com", path: "/x").backend == "default/other:80")
        #expect(diagnostics.all.contains { $0.message.hasPrefix("the host matcher for a.example.com here never matches") })
    }

    /// A compensating rule takes the effect the source gave the failing path: `/x$`
    /// cuts across `/static/*`, so /static/x needs the `/x$` rule raised, not the
    /// prefix's.
    @Test func aCompensationUsesTheDecisionThatEndsThePathAsTheSourceDid() throws {
        let (result, _) = try convert("""
            a.example.com {
            \t@x path_regexp /x$
            \thandle @x {
            \t\treverse_proxy x:80
            \t}
            \t@static path /static/*
            \troute @static {
            \t\treverse_proxy never:80
            \t}
            \thandle {
            \t\treverse_proxy web:80
            \t}
            }
            """)
        #expect(result?.failures.isEmpty == true)
        #expect(routed(result, host: "a.example.com", path: "/static/x").backend == "default/x:80")
        #expect(routed(result, host: "a.example.com", path: "/static/y").backend == "default/web:80")
    }

    /// `uri strip_prefix` runs before the matchers: an anchored path_regexp then
    /// matches paths under the stripped prefix too, which must be probed.
    @Test func anAnchoredExpressionAfterAStripIsProbedBehindThePrefix() throws {
        let (result, _) = try convert("""
            a.example.com {
            \t@admin path_regexp ^/admin
            \troute @admin {
            \t\tforward_auth authelia:9091 {
            \t\t\turi /api/authz/forward-auth
            \t\t}
            \t\treverse_proxy admin:80
            \t}
            \turi strip_prefix /static
            \treverse_proxy /api/* api:80
            }
            """)
        #expect(result?.failures.isEmpty == true)
        #expect(routed(result, host: "a.example.com", path: "/static/admin/x") == ("default/admin:80", true))
    }
}

/// The same property for Ingress manifests: random Ingresses for Traefik's provider
/// (forwardAuth and stripPrefix Middlewares, Exact, Prefix and
/// `router.pathmatcher` paths) and for ingress-nginx (`auth-url`, regex paths), in one
/// or two namespaces, converted together.
struct RandomizedIngressCoverageTests {
    static let middlewares = forwardAuthMiddleware + """
        ---
        apiVersion: traefik.io/v1alpha1
        kind: Middleware
        metadata: {name: strip, namespace: apps}
        spec:
          stripPrefix:
            prefixes: [/api]

        """

    static func manifests(_ random: inout RandomizedCoverageTests.Generator) -> String {
        var text = middlewares
        let paths = ["/", "/api", "/api/", "/api/v1", "/admin", "/static", "/ap", "/a/b"]
        // One controller per host: a host is served by the controller its DNS name
        // points at, never by both (the source-side oracle serves them together).
        let nginxHosts = Set(["a.example.com", "b.example.com"].filter { _ in Int.random(in: 0..<3, using: &random) == 0 })
        for index in 0..<Int.random(in: 1...5, using: &random) {
            let host = ["a.example.com", "a.example.com", "b.example.com"].randomElement(using: &random)!
            let path = paths.randomElement(using: &random)!
            let namespace = Int.random(in: 0..<4, using: &random) == 0 ? "other" : "apps"
            var annotations: [String: String] = [:]
            var className = "traefik"
            var pathType = ["Prefix", "Prefix", "Exact", "ImplementationSpecific"].randomElement(using: &random)!
            var written = path
            switch nginxHosts.contains(host) ? Int.random(in: 3...4, using: &random) : [0, 1, 2, 5].randomElement(using: &random)! {
            case 0, 1:
                if namespace == "apps" { annotations["traefik.ingress.kubernetes.io/router.middlewares"] = "apps-sso@kubernetescrd" }
            case 2:
                if namespace == "apps" { annotations["traefik.ingress.kubernetes.io/router.middlewares"] = "apps-strip@kubernetescrd,apps-sso@kubernetescrd" }
            case 3:
                className = "nginx"
                annotations["nginx.ingress.kubernetes.io/auth-url"] = "http://authelia.auth.svc.cluster.local:9091/api/authz/forward-auth"
            case 4:
                className = "nginx"
                if Bool.random(using: &random) {
                    annotations["nginx.ingress.kubernetes.io/use-regex"] = "true"
                    pathType = "ImplementationSpecific"
                    written = path == "/" ? "/" : path + "(/|$)"
                }
            default:
                annotations["traefik.ingress.kubernetes.io/router.pathmatcher"] = ["PathPrefix", "Path"].randomElement(using: &random)!
            }
            if pathType == "ImplementationSpecific" && className == "traefik" && annotations["traefik.ingress.kubernetes.io/router.pathmatcher"] == nil {
                pathType = "Prefix"
            }
            text += ingress("i\(index)", namespace: namespace, host: host, path: written, pathType: pathType,
                            service: "s\(index)", className: className, annotations: annotations)
        }
        return text
    }

    @Test func ingressConversionsThatPassTheCheckHoldOnPathsTheProbesDidNotChoose() throws {
        var random = RandomizedCoverageTests.Generator(state: 0x1A6E55)
        let counts = try RandomizedCoverageTests.checkRandomConversions(300, extraPaths: 150, random: &random, make: Self.manifests) { text in
            convertManifests(text)
        }
        print("randomized Ingress coverage: \(counts.passed) passed and held, \(counts.reported) reported by the check, \(counts.refused) refused")
        #expect(counts.passed > 220, "only \(counts.passed) of 300 random manifests converted cleanly (\(counts.reported) reported, \(counts.refused) refused)")
    }
}

/// A large route's routers are indexed by the first path segment their matches fix;
/// the index must choose exactly the winners a scan of every router chooses.
struct TraefikRoutingIndexTests {
    @Test func theSegmentIndexChoosesTheWinnersAFullScanChooses() {
        var random = RandomizedCoverageTests.Generator(state: 0x1DE7)
        let values = ["/api", "/api/", "/api/v1", "/API/", "/admin", "/ap", "/static/x", "/a/b", "/", "/x.js"]
        let expressions = ["^/api/", "(?i)^/api/v[0-9]+/", "(?i)^^^/static/", "^/ap", "\\.js$", "(?i)^/s", "^/a(/|$)", "^(?s:.*)(?:/x$)"]
        for _ in 0..<20 {
            var rules: [HTTPRouteRule] = []
            for _ in 0..<Int.random(in: 12...40, using: &random) {
                let match: PathMatch
                switch Int.random(in: 0..<3, using: &random) {
                case 0: match = PathMatch(.exact, values.randomElement(using: &random)!)
                case 1: match = PathMatch(.pathPrefix, values.randomElement(using: &random)!)
                default: match = PathMatch(.regularExpression, expressions.randomElement(using: &random)!)
                }
                rules.append(HTTPRouteRule(matches: [match, PathMatch(.exact, values.randomElement(using: &random)!)]))
            }
            let route = HTTPRoute(name: "r", namespace: "ns", parentRefs: [], hostnames: ["app.example.com"], rules: rules)
            let routing = TraefikRouting(routes: [route])
            let paths = RandomizedCoverageTests.randomPaths(&random, count: 60) + ["/", "/api", "/API/V1/x", "/\u{17F}tatic/x", "/ap", "/a"]
            for path in paths {
                // Every router, scanned: the highest priority wins, ties keep rule order.
                var best = Int.min
                var expected: [Int] = []
                for (index, rule) in rules.enumerated() {
                    for match in rule.matches where routing.matches(match, path) {
                        let priority = TraefikRouting.pathPriority(match) + "app.example.com".utf8.count + rules.count - index
                        if priority > best {
                            best = priority
                            expected = [index]
                        } else if priority == best && !expected.contains(index) {
                            expected.append(index)
                        }
                    }
                }
                #expect(routing.winners(host: "app.example.com", path: path).map(\.rule) == expected, "\(path)")
            }
        }
    }
}
