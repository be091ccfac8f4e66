@testable import AuthgateCore
import Foundation
import Testing

/// Converts Caddyfile text in memory.
func convert(
    _ caddyfile: String, options: TraefikOptions = TraefikOptions(), environment: [String: String] = [:], importer: CaddyImporter = CaddyImporter()
) throws -> (Conversion.Result?, Diagnostics) {
    var diagnostics = Diagnostics()
    var conversion = Conversion(fileSystem: InMemoryFileSystem([:]), environment: environment, forcedKind: .caddyfile, options: options)
    conversion.caddyImporter = importer
    let result = conversion.run([.init(path: "Caddyfile", bytes: Array(caddyfile.utf8))], diagnostics: &diagnostics)
    return (result, diagnostics)
}

/// What Traefik does with one request to the converted objects.
func outputOutcome(_ result: Conversion.Result, host: String, path: String, request: RequestVariant = .baseline) -> OutputOutcome {
    let routing = TraefikRouting(routes: result.emission.routes) { namespace, name in result.emission.middlewareEffects[namespace + "/" + name] != nil }
    return OutputOutcome(routing: routing, emission: result.emission, host: host, path: path, request: request)
}

/// Caddy path patterns, as Caddy's path matcher reads them (after lower-casing).
struct PathPatternTests {
    @Test(arguments: [
        ("/foo", "/foo", true), ("/foo", "/foo/", false), ("/foo", "/foobar", false),
        ("/foo/*", "/foo/", true), ("/foo/*", "/foo/x/y", true), ("/foo/*", "/foo", false), ("/foo/*", "/foobar", false),
        ("/foo*", "/foo", true), ("/foo*", "/foobar", true), ("/foo*", "/fo", false),
        ("*.php", "/a/b.php", true), ("*.php", "/a/b.phps", false),
        ("*admin*", "/x/admin/y", true), ("*admin*", "/x/adm", false),
        ("/a/*/c", "/a/b/c", true), ("/a/*/c", "/a/b/b/c", false), ("/a/?/c", "/a/b/c", true),
        ("/a/[bc]/d", "/a/c/d", true), ("/a/[^bc]/d", "/a/c/d", false),
        ("*", "/anything", true),
    ])
    func caddyPathPatternMatches(_ pattern: String, _ path: String, _ expected: Bool) {
        #expect(PathPattern.caddy(pattern).matches(path) == expected, "\(pattern) on \(path)")
    }

    @Test func requestPathsAreCleanedBeforeMatching() {
        #expect(CaddyPath.clean("//admin//x") == "/admin/x")
        #expect(CaddyPath.clean("/public/../admin/") == "/admin/")
        #expect(CaddyPath.clean("/./a") == "/a")
        // Paths already clean come back unchanged (the fast path), others do not.
        for (path, cleaned) in [("/", "/"), ("/a", "/a"), ("/a/", "/a/"), ("/a/b.c", "/a/b.c"), ("/a/.well-known", "/a/.well-known"),
                                ("/a//", "/a/"), ("/a/.", "/a"), ("/a/..", "/"), ("a/b", "/a/b"), ("", "/"), ("/..", "/")] {
            #expect(CaddyPath.clean(path) == cleaned, "\(path)")
        }
    }
}

/// How each source pattern is written as a Gateway API match for Traefik.
struct GatewayPathMatchTests {
    @Test(arguments: [
        (PathPattern.any, PathMatch(.pathPrefix, "/")),
        (.exact("/health"), PathMatch(.exact, "/health")),
        (.prefix("/api/"), PathMatch(.pathPrefix, "/api/")),
        // A character prefix is not a segment prefix: /api* matches /apix.
        (.prefix("/api"), PathMatch(.regularExpression, "^/api")),
        (.prefix("/outpost.goauthentik.io/"), PathMatch(.pathPrefix, "/outpost.goauthentik.io/")),
        (.suffix(".php"), PathMatch(.regularExpression, "\\.php$")),
        (.glob("/a/*/c"), PathMatch(.regularExpression, "^/a/[^/]*/c$")),
        // Characters the CRD refuses in Exact values become an anchored expression.
        (.exact("/a b"), PathMatch(.regularExpression, "^/a b$")),
        (.exact("/a//b"), PathMatch(.regularExpression, "^/a//b$")),
        // A backtick would end Traefik's PathRegexp(`…`) rule and drop the router.
        (.exact("/a`b"), PathMatch(.regularExpression, "^/a\\x60b$")),
    ])
    func patternBecomesMatch(_ pattern: PathPattern, _ expected: PathMatch) {
        #expect(GatewayPathMatch.match(for: pattern) == expected)
    }
}

/// Traefik 3.7's router priorities for Gateway API matches.
struct TraefikRoutingTests {
    func route(_ host: [String], _ matches: [PathMatch]) -> HTTPRoute {
        HTTPRoute(name: "r", namespace: "ns", parentRefs: [], hostnames: host, rules: matches.map { HTTPRouteRule(matches: [$0]) })
    }

    @Test func exactBeatsPrefixAndLongerPrefixBeatsShorter() {
        let routing = TraefikRouting(routes: [route(["a.com"], [PathMatch(.pathPrefix, "/"), PathMatch(.pathPrefix, "/api/"), PathMatch(.exact, "/api/x")])])
        #expect(routing.winners(host: "a.com", path: "/api/x").map(\.rule) == [2])
        #expect(routing.winners(host: "a.com", path: "/api/y").map(\.rule) == [1])
        #expect(routing.winners(host: "a.com", path: "/other").map(\.rule) == [0])
    }

    @Test func pathPrefixIsSegmentWiseAndIgnoresItsTrailingSlash() {
        let routing = TraefikRouting(routes: [route([], [PathMatch(.pathPrefix, "/api/")])])
        #expect(!routing.winners(host: "x", path: "/api").isEmpty)
        #expect(!routing.winners(host: "x", path: "/api/v1").isEmpty)
        #expect(routing.winners(host: "x", path: "/apix").isEmpty)
    }

    @Test func regularExpressionsAreUnanchoredAndRankByLength() {
        let routing = TraefikRouting(routes: [route([], [PathMatch(.regularExpression, "admin"), PathMatch(.pathPrefix, "/")])])
        #expect(routing.winners(host: "x", path: "/x/admin/y").map(\.rule) == [0])
        #expect(TraefikRouting.pathPriority(PathMatch(.regularExpression, "^/api")) == TraefikRouting.pathPriority(PathMatch(.pathPrefix, "/api/")))
    }

    @Test func anEscapedBacktickStillMatchesABacktick() {
        let routing = TraefikRouting(routes: [route([], [GatewayPathMatch.match(for: .exact("/a`b"))])])
        #expect(!routing.winners(host: "x", path: "/a`b").isEmpty)
        #expect(routing.winners(host: "x", path: "/a_b").isEmpty)
    }

    @Test func aLongerHostnameOutranksAWildcardOnTheSamePath() {
        let routing = TraefikRouting(routes: [route(["*.example.com"], [PathMatch(.pathPrefix, "/")]), route(["app.example.com"], [PathMatch(.pathPrefix, "/")])])
        #expect(routing.winners(host: "app.example.com", path: "/").map(\.route) == [1])
        #expect(routing.winners(host: "other.example.com", path: "/").map(\.route) == [0])
        #expect(routing.winners(host: "example.com", path: "/").isEmpty)
    }
}

/// What the importer makes of Caddy's directives.
struct CaddyImportTests {
    func plan(_ caddyfile: String) throws -> (MigrationPlan, Diagnostics) {
        var diagnostics = Diagnostics()
        let document = try CaddyfileFrontEnd(fileSystem: InMemoryFileSystem([:]), environment: [:]).parse(text: caddyfile, file: "Caddyfile", diagnostics: &diagnostics)
        return (try CaddyImporter().plan(from: document, diagnostics: &diagnostics), diagnostics)
    }

    @Test func authentikEndpointAndCopiedHeadersBecomeOneProvider() throws {
        let (plan, diagnostics) = try plan("""
            (sso) {
            \tforward_auth authentik.lan:9000 {
            \t\turi /outpost.goauthentik.io/auth/caddy
            \t\tcopy_headers X-Authentik-Username {
            \t\t\tX-Authentik-Groups>X-Groups
            \t\t}
            \t\ttrusted_proxies private_ranges
            \t}
            }
            a.example.com {
            \timport sso
            \treverse_proxy a:80
            }
            b.example.com {
            \timport sso
            \treverse_proxy b:80
            }
            """)
        #expect(plan.authProviders.count == 1)
        let provider = try #require(plan.authProviders.first)
        #expect(provider.kind == .authentik)
        #expect(provider.copyHeaders == ["X-Authentik-Username", "X-Authentik-Groups"])
        #expect(provider.renamedHeaders.map { "\($0.from)>\($0.to)" } == ["X-Authentik-Groups>X-Groups"])
        #expect(provider.trustedProxies == ["private_ranges"])
        #expect(diagnostics.warnings.contains { $0.message.contains("X-Authentik-Groups") && $0.message.contains("X-Groups") })
    }

    @Test(arguments: [
        ("grafana:3000", Upstream.Placement.service(name: "grafana", namespace: nil)),
        ("grafana.monitoring:3000", .service(name: "grafana", namespace: "monitoring")),
        ("grafana.monitoring.svc:3000", .service(name: "grafana", namespace: "monitoring")),
        ("grafana.monitoring.svc.cluster.local:3000", .service(name: "grafana", namespace: "monitoring")),
        ("authentik.lan:9000", .externalHost("authentik.lan")),
        ("nas.home.example.com:5000", .externalHost("nas.home.example.com")),
        ("192.168.1.20:5000", .ip("192.168.1.20", v6: false)),
        ("[fd00::1]:5000", .ip("fd00::1", v6: true)),
        ("localhost:8080", .loopback),
        (":8080", .loopback),
    ])
    func upstreamPlacement(_ written: String, _ expected: Upstream.Placement) throws {
        let token = Token(text: written, line: 1, location: SourceLocation(file: "Caddyfile", line: 1, column: 1))
        #expect(try UpstreamAddress.parse(token).placement == expected)
    }

    @Test(arguments: [
        ("a.com {\n\tforward_auth auth:9000\n\treverse_proxy app:80\n}\n", "Caddyfile:2:2: error: forward_auth needs the 'uri' sub-directive"),
        ("a.com {\n\treverse_proxy @nope app:80\n}\n", "Caddyfile:2:16: error: unrecognized matcher name: @nope"),
        ("a.com {\n\thandle_path api {\n\t\treverse_proxy app:80\n\t}\n}\n", "Caddyfile:2:14: error: path matcher must begin with '/'"),
        ("a.com {\n\tredir /a /b 399x\n}\n", "Caddyfile:2:14: error: redir status must be"),
        ("a.com {\n\treverse_proxy app:99999\n}\n", "Caddyfile:2:16: error: invalid port '99999'"),
    ])
    func badDirectivesAreErrorsWithTheirPosition(_ caddyfile: String, _ expected: String) throws {
        let (result, diagnostics) = try convert(caddyfile)
        #expect(result == nil)
        let error = try #require(diagnostics.errors.first)
        #expect(error.description.hasPrefix(expected), "got \(error.description)")
    }

    @Test(arguments: [
        ("a.com {\n\tencode gzip\n\treverse_proxy app:80\n}\n", "Caddyfile:2:2: warning: 'encode'"),
        ("a.com {\n\thandle_errors {\n\t\trespond \"oops\"\n\t}\n\treverse_proxy app:80\n}\n", "Caddyfile:2:2: warning: 'handle_errors'"),
        ("a.com {\n\trespond /health 200\n\treverse_proxy app:80\n}\n", "Caddyfile:2:2: warning: 'respond' answers requests itself"),
        ("a.com {\n\treverse_proxy app:80 {\n\t\tlb_policy ip_hash\n\t}\n}\n", "Caddyfile:3:3: warning: 'reverse_proxy' sub-directive 'lb_policy'"),
        ("a.com {\n\tforward_auth auth:9000 {\n\t\turi /x\n\t\tmethod GET\n\t}\n\treverse_proxy app:80\n}\n", "Caddyfile:4:3: warning: 'forward_auth' sub-directive 'method'"),
        ("a.com {\n\ttls internal\n\treverse_proxy app:80\n}\n", "Caddyfile:2:2: warning: 'tls'"),
        ("my_app.example.com, b.com {\n\treverse_proxy app:80\n}\n", "Caddyfile:1:1: warning: site address my_app.example.com"),
        ("10.0.0.5, b.com {\n\treverse_proxy app:80\n}\n", "Caddyfile:1:1: warning: site address 10.0.0.5 is an IP address"),
    ])
    func whatCannotBeMigratedIsAWarningWithItsLine(_ caddyfile: String, _ expected: String) throws {
        let (_, diagnostics) = try convert(caddyfile)
        #expect(!diagnostics.hasErrors)
        #expect(diagnostics.warnings.contains { $0.description.hasPrefix(expected) }, "warnings: \(diagnostics.warnings.map(\.description))")
    }
}

/// The coverage check, with outputs built to fail.
struct CoverageCheckTests {
    func emission(for caddyfile: String) throws -> (MigrationPlan, TraefikEmission) {
        let (result, diagnostics) = try convert(caddyfile)
        let converted = try #require(result, "conversion failed: \(diagnostics.all.map(\.description))")
        return (converted.plan, converted.emission)
    }

    static let protectedAdmin = """
        app.example.com {
        \thandle /admin/* {
        \t\tforward_auth authelia:9091 {
        \t\t\turi /api/authz/forward-auth
        \t\t}
        \t\treverse_proxy app:80
        \t}
        \thandle {
        \t\treverse_proxy app:80
        \t}
        }
        """

    @Test func theConvertedOutputPassesIncludingUpperCasePaths() throws {
        let (plan, emission) = try emission(for: Self.protectedAdmin)
        let failures = CoverageCheck.run(plan: plan, emission: emission).filter(\.isFailure)
        #expect(failures.isEmpty, "\(failures.map(\.message))")
        // /ADMIN/x reaches the protected rule only through a case-insensitive match.
        #expect(emission.routes.flatMap(\.rules).flatMap(\.matches).contains { $0.value.hasPrefix("(?i)") && $0.value.contains("/admin/") })
    }

    @Test func droppingTheAuthFilterIsReportedAsLostProtection() throws {
        var (plan, emission) = try emission(for: Self.protectedAdmin)
        for route in emission.routes.indices {
            for rule in emission.routes[route].rules.indices {
                emission.routes[route].rules[rule].filters.removeAll { if case .extensionRef = $0 { return true }; return false }
            }
        }
        let failures = CoverageCheck.run(plan: plan, emission: emission).filter(\.isFailure)
        let lost = try #require(failures.first { $0.kind == .lostProtection })
        #expect(lost.paths.contains("/admin/x"))
        #expect(lost.message.contains("app.example.com"))
        plan.sites.removeAll()
    }

    /// Traefik 3.7 drops a router whose Middleware does not exist; the public
    /// catch-all then serves the protected paths.
    @Test func aMisspeltMiddlewareIsReportedAsLostProtection() throws {
        let (plan, emission) = try emission(for: Self.protectedAdmin)
        var broken = emission
        broken.middlewareEffects = [:]
        let failures = CoverageCheck.run(plan: plan, emission: broken).filter(\.isFailure)
        let lost = try #require(failures.first { $0.kind == .lostProtection })
        #expect(lost.paths.contains("/admin/x"))
    }

    @Test func aPrefixWhereCaddyHadAnExactPathIsReported() throws {
        // Without the compensating Exact rule, /admin would be served by the PathPrefix
        // /admin/ rule; Caddy's /admin/* does not match /admin.
        let (plan, emission) = try emission(for: """
            app.example.com {
            \thandle /admin/* {
            \t\treverse_proxy admin:80
            \t}
            \thandle {
            \t\tforward_auth authelia:9091 {
            \t\t\turi /api/authz/forward-auth
            \t\t}
            \t\treverse_proxy app:80
            \t}
            }
            """)
        #expect(emission.routes.flatMap(\.rules).flatMap(\.matches).contains(PathMatch(.exact, "/admin")))
        // What a naive converter writes: PathPrefix /admin/ for the public handle, and
        // the protected catch-all. Traefik's PathPrefix /admin/ also takes /admin.
        var broken = emission
        let route = try #require(broken.routes.first)
        let open = try #require(route.rules.first { $0.filters.isEmpty })
        let protected = try #require(route.rules.first { !$0.filters.isEmpty })
        broken.routes = [HTTPRoute(name: route.name, namespace: route.namespace, parentRefs: route.parentRefs, hostnames: route.hostnames, rules: [
            HTTPRouteRule(matches: [PathMatch(.pathPrefix, "/admin/")], backendRefs: open.backendRefs),
            HTTPRouteRule(matches: [PathMatch(.pathPrefix, "/")], filters: protected.filters, backendRefs: protected.backendRefs),
        ])]
        let failures = CoverageCheck.run(plan: plan, emission: broken).filter(\.isFailure)
        #expect(failures.contains { $0.paths.contains("/admin") }, "\(failures.map(\.message))")
    }

    @Test func aWildcardSiteCannotServeAPathOfAMoreSpecificProtectedSite() throws {
        let (plan, emission) = try emission(for: """
            *.example.com {
            \treverse_proxy /files/* public:80
            \treverse_proxy other:80
            }
            secret.example.com {
            \tforward_auth authelia:9091 {
            \t\turi /api/authz/forward-auth
            \t}
            \treverse_proxy secret:80
            }
            """)
        #expect(CoverageCheck.run(plan: plan, emission: emission).filter(\.isFailure).isEmpty)
        // The specific host's own route answers /files/ itself, behind auth.
        let secret = try #require(emission.routes.first { $0.hostnames == ["secret.example.com"] })
        let routing = TraefikRouting(routes: emission.routes)
        let hit = try #require(routing.winners(host: "secret.example.com", path: "/files/x").first)
        #expect(emission.routes[hit.route] == secret)
        // Removing the secret host's own /files rules hands the path to the wildcard site.
        var broken = emission
        let index = try #require(broken.routes.firstIndex(of: secret))
        broken.routes[index].rules.removeAll { $0.matches.contains { $0.value.contains("files") } }
        let failures = CoverageCheck.run(plan: plan, emission: broken).filter(\.isFailure)
        #expect(failures.contains { $0.host == "secret.example.com" && $0.paths.contains("/files/x") })
    }
}

/// Objects and names.
struct EmitterTests {
    @Test func anInClusterAuthentikNeedsNoOutpostAndNoGrantInItsOwnNamespace() throws {
        var options = TraefikOptions()
        options.namespace = "apps"
        let (result, _) = try convert("""
            a.example.com {
            \tforward_auth authentik-outpost.authentik.svc.cluster.local:9000 {
            \t\turi /outpost.goauthentik.io/auth/caddy
            \t}
            \treverse_proxy app:80
            }
            """, options: options)
        let objects = try #require(result).emission.objects
        #expect(!objects.contains { $0.kind == "Deployment" })
        let middleware = try #require(objects.first { $0.kind == "Middleware" })
        #expect(YAMLWriter.document(middleware.yaml).contains("address: http://authentik-outpost.authentik.svc.cluster.local:9000/outpost.goauthentik.io/auth/traefik"))
        let grant = try #require(objects.first { $0.kind == "ReferenceGrant" })
        #expect(grant.namespace == "authentik")
        #expect(YAMLWriter.document(grant.yaml).contains("name: authentik-outpost"))
    }

    @Test func anAuthentikServerOutsideTheClusterIsReachedThroughTheNewOutpost() throws {
        var options = TraefikOptions()
        options.outpostNamespace = "sso"
        options.outpostName = "outpost"
        options.outpostPort = 9100
        let (result, _) = try convert("""
            a.example.com {
            \tforward_auth https://authentik.lan:9443 {
            \t\turi /outpost.goauthentik.io/auth/caddy
            \t}
            \treverse_proxy app:80
            }
            """, options: options)
        let objects = try #require(result).emission.objects
        let middleware = YAMLWriter.document(try #require(objects.first { $0.kind == "Middleware" }).yaml)
        #expect(middleware.contains("address: http://outpost.sso.svc.cluster.local:9100/outpost.goauthentik.io/auth/traefik"))
        #expect(objects.filter { $0.namespace == "sso" || $0.name == "sso" }.map(\.kind).sorted() == ["Deployment", "Namespace", "ReferenceGrant", "Secret", "Service"])
        let route = YAMLWriter.document(try #require(objects.first { $0.kind == "HTTPRoute" }).yaml)
        #expect(route.contains("name: outpost\n      namespace: sso\n      port: 9100"))
    }

    @Test func authentiksOwnUIStillGoesToTheServerWhileItsOutpostPathsGoToTheNewOutpost() throws {
        let (result, _) = try convert("""
            (sso) {
            \tforward_auth authentik-server:9000 {
            \t\turi /outpost.goauthentik.io/auth/caddy
            \t}
            }
            auth.example.com {
            \treverse_proxy authentik-server:9000
            }
            app.example.com {
            \timport sso
            \treverse_proxy app:80
            }
            """)
        let emission = try #require(result).emission
        let routing = TraefikRouting(routes: emission.routes)
        func backend(_ host: String, _ path: String) throws -> String {
            let hit = try #require(routing.winners(host: host, path: path).first)
            return emission.routes[hit.route].rules[hit.rule].backendRefs.map(\.description).joined()
        }
        #expect(try backend("auth.example.com", "/if/admin/") == "default/authentik-server:9000")
        #expect(try backend("app.example.com", "/outpost.goauthentik.io/callback") == "authentik-outpost/authentik-outpost:9000")
        #expect(try backend("app.example.com", "/") == "default/app:80")
    }

    @Test func aTokenGivenOnTheCommandLineAppearsOnlyInTheSecret() throws {
        var options = TraefikOptions()
        options.authentikToken = "s3cr3t-token-value"
        let (result, diagnostics) = try convert("""
            a.example.com {
            \tforward_auth authentik.lan:9000 {
            \t\turi /outpost.goauthentik.io/auth/caddy
            \t}
            \treverse_proxy app:80
            }
            """, options: options)
        let converted = try #require(result)
        let secrets = converted.emission.objects.filter { YAMLWriter.document($0.yaml).contains("s3cr3t-token-value") }
        #expect(secrets.map(\.kind) == ["Secret"])
        #expect(!diagnostics.all.contains { $0.description.contains("s3cr3t") })
    }

    @Test func selectorLessServicesAndEndpointSlicesNameTheirPortsAlike() throws {
        let (result, _) = try convert("a.example.com {\n\treverse_proxy https://192.168.1.1:8443\n}\n")
        let objects = try #require(result).emission.objects
        let service = YAMLWriter.document(try #require(objects.first { $0.kind == "Service" }).yaml)
        let slice = YAMLWriter.document(try #require(objects.first { $0.kind == "EndpointSlice" }).yaml)
        #expect(service.contains("name: https-8443") && slice.contains("name: https-8443"))
        #expect(service.contains("appProtocol: https"))
        #expect(slice.contains("addressType: IPv4") && slice.contains("ready: true"))
        #expect(slice.contains("kubernetes.io/service-name: ip-192-168-1-1"))
        #expect(!service.contains("selector"))
    }

    @Test func moreThanSixteenHostnamesAreSplitAcrossRoutes() throws {
        let hosts = (1...20).map { "h\($0).example.com" }.joined(separator: ", ")
        let (result, _) = try convert("\(hosts) {\n\treverse_proxy app:80\n}\n")
        let routes = try #require(result).emission.routes
        #expect(routes.count == 2)
        #expect(routes.map(\.hostnames.count) == [16, 4])
        #expect(Set(routes.map(\.name)).count == 2)
    }

    @Test(arguments: [
        ("", "\"\""), ("true", "\"true\""), ("9000", "\"9000\""), ("2025.12.4", "\"2025.12.4\""), ("*.example.com", "\"*.example.com\""),
        ("plain", "plain"), ("/api/", "/api/"), ("a: b", "\"a: b\""),
    ])
    func scalarsThatWouldReadAsSomethingElseAreQuoted(_ text: String, _ expected: String) {
        #expect(YAMLWriter.document(.string(text)) == expected + "\n")
    }

    @Test(arguments: [("Grafana.Example.COM", "grafana-example-com"), ("192.168.1.1", "x-192-168-1-1"), ("a__b", "a-b"), ("../etc", "etc")])
    func namesFromInputAreMadeValidKubernetesNames(_ text: String, _ expected: String) {
        #expect(KubernetesName.label(from: text) == expected)
        #expect(KubernetesName.isLabel(KubernetesName.label(from: text)))
    }
}

/// The unified diff golden tests print on a mismatch.
struct UnifiedDiffTests {
    @Test func sameTextsHaveNoDiff() {
        #expect(UnifiedDiff.render(old: "a\nb\n", new: "a\nb\n").isEmpty)
    }

    @Test func aChangedLineIsShownWithItsContext() {
        let old = (1...10).map { "line \($0)" }.joined(separator: "\n")
        let new = old.replacingOccurrences(of: "line 5", with: "line five")
        #expect(UnifiedDiff.render(old: old, new: new, oldName: "a", newName: "b") == """
            --- a
            +++ b
            @@ -2,7 +2,7 @@
             line 2
             line 3
             line 4
            -line 5
            +line five
             line 6
             line 7
             line 8

            """)
    }

    @Test func changesFarApartMakeTwoHunks() {
        let old = (1...20).map { "l\($0)" }.joined(separator: "\n")
        let new = old.replacingOccurrences(of: "l2\n", with: "").replacingOccurrences(of: "l19", with: "l19\nadded")
        let diff = UnifiedDiff.render(old: old, new: new)
        #expect(diff.components(separatedBy: "\n@@ ").count == 3, "\(diff)")
        #expect(diff.contains("@@ -1,5 +1,4 @@\n l1\n-l2\n l3\n"))
        #expect(diff.contains("+added\n"))
    }
}

/// Hostile nesting ends in a positioned error, never a crash.
struct NestingTests {
    @Test func blocksNestedThousandsDeepAreRefusedWithTheirLine() throws {
        let depth = 5000
        let text = "a.com {\n" + String(repeating: "route {\n", count: depth) + "reverse_proxy x:80\n" + String(repeating: "}\n", count: depth) + "}\n"
        let (result, diagnostics) = try convert(text)
        #expect(result == nil)
        #expect(diagnostics.errors.first?.description == "Caddyfile:130:1: error: blocks are nested more than 128 deep here; authgate refuses to read further")
    }

    @Test func matchersNestedThousandsDeepAreRefusedWithTheirLine() throws {
        let depth = 5000
        let text = "a.com {\n@m {\n" + String(repeating: "not {\n", count: depth) + "path /x\n" + String(repeating: "}\n", count: depth) + "}\nreverse_proxy @m x:80\n}\n"
        let (result, diagnostics) = try convert(text)
        #expect(result == nil)
        #expect(diagnostics.errors.first?.description.hasPrefix("Caddyfile:35:1: error: matchers are nested more than 32 deep") == true)
    }

    @Test func yamlNestedThousandsDeepIsAPositionedError() throws {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: " + String(repeating: "[", count: 20000) + String(repeating: "]", count: 20000) + "\n"
        let (result, diagnostics) = convertManifests(text)
        #expect(result == nil)
        #expect(diagnostics.errors.first?.description.hasPrefix("in.yaml:4:") == true)
    }
}

/// Strings a YAML 1.1 or 1.2 reader would take for something else must be quoted, or a
/// Service named `true` or a port name `1e3` changes type when kubectl reads the file.
struct YAMLQuotingTests {
    @Test func scalarsThatReadAsOtherTypesOrSyntaxAreQuoted() {
        for text in ["", "true", "No", "~", "null", ".inf", "1", "1.5", "-3", "1e3", "0x1F", "2026-11-29", "12:30", "-x", "- x", "*a", "&a", "!tag", "[x]", "{x}", "#x", "@x", "`x", "x:", "a: b", "a #b", " x", "x ", "tab\there", "bell\u{7}"] {
            #expect(YAMLValue.needsQuotes(text), "\(text.debugDescription) must be quoted")
        }
    }

    @Test func ordinaryNamesAndPathsStayPlain() {
        for text in ["app", "api-1", "a#b", "a:b", "/outpost.goauthentik.io/", "(?i)^/api/", "inf", "X-Authentik-Username", "ghcr.io/goauthentik/proxy:2025.10", "web", "v1.2.3-beta"] {
            #expect(!YAMLValue.needsQuotes(text), "\(text.debugDescription) can stay plain")
        }
    }

    @Test func quotedScalarsReadBackAsTheSameStrings() throws {
        let value = YAMLValue.object([("a", .string("true")), ("b", .string("a: b")), ("c", .string("12:30")), ("d", .string("x\ny\n"))])
        let text = YAMLWriter.document(value)
        var diagnostics = Diagnostics()
        let objects = try ManifestFrontEnd().objects(text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n" + text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"), file: "x.yaml", diagnostics: &diagnostics)
        let data = objects.first?.node["data"]
        #expect(data?["a"]?.string == "true")
        #expect(data?["b"]?.string == "a: b")
        #expect(data?["c"]?.string == "12:30")
        #expect(data?["d"]?.string == "x\ny\n")
    }
}

/// The coverage check probes a RegularExpression path with a string it matches, so the
/// paths it guards are tested; a sample that would not match is never offered.
struct RegexSampleTests {
    @Test(arguments: [
        ("^/api/v[0-9]+/", "/api/v0/"),
        ("(?i)^/admin(/|$)", "/admin/"),
        ("^/(users|groups)/[^/]+$", "/users/x"),
        ("^/a|^/b", "/a"),
        ("^/x/[|]y", "/x/|y"),
        ("^/(?:a(b|c))+z", "/abz"),
        ("^/\\d{3}-\\w", "/000-a"),
        ("^/[\\]a]q", "/]q"),
    ])
    func aSampleIsAStringThePatternMatches(_ pattern: String, _ expected: String) {
        #expect(RegexSample.generate(pattern) == expected)
    }

    @Test(arguments: ["^/(?=x)", "^/a**", "^/(unclosed", "^/[unclosed", "^/(?P<n>x)"])
    func patternsItCannotFollowGiveNoSample(_ pattern: String) {
        #expect(RegexSample.generate(pattern) == nil)
    }
}

/// The routing model rejects most paths for an anchored expression by its literal
/// start before running the regex engine; it must never reject one the engine matches.
struct RegexCacheTests {
    @Test(arguments: [
        ("^/api/v[0-9]+/", "/api/v", false),
        ("(?i)^/app1/", "/app1/", true),
        ("^/a\\.b*", "/a.", false),
        ("^/x?", "/", false),
        ("^/a|^/b", "", false),
        ("^/(a|b)/c", "/", false),
        ("^/\\d", "/", false),
        ("/api", "", false),
    ])
    func theLiteralStartOfAnAnchoredExpression(_ pattern: String, _ prefix: String, _ folded: Bool) {
        let found = RegexCache.anchoredLiteral(pattern)
        #expect(String(decoding: found.prefix, as: UTF8.self) == prefix)
        #expect(found.caseInsensitive == (folded && !prefix.isEmpty))
    }

    @Test func theShortcutAgreesWithTheEngine() throws {
        let patterns = ["^/api/v[0-9]+/", "(?i)^/app1/", "(?i)^/sk", "^/a\\.b*c", "^/x?y", "^/a|^/b", "(?i)^/(a|b)/c$", "\\.(css|js)$", "^^^/api/"]
        let paths = ["/", "/api/v2/x", "/API/V2/x", "/app1/x", "/APP1/", "/app10/", "/sk", "/SK", "/\u{17F}k", "/\u{212A}", "/a.c", "/a.bbc", "/ac",
                     "/y", "/xy", "/b", "/a", "/B/c", "/b/c", "/x.css", "/api/", "/ſk"]
        let cache = RegexCache(Set(patterns))
        for pattern in patterns {
            let engine = try Regex(pattern)
            for path in paths {
                #expect(cache.firstMatch(pattern, in: path) == ((try engine.firstMatch(in: path)) != nil), "\(pattern) on \(path)")
            }
        }
    }
}

/// A compensating rule is lengthened the readable way: `.*` after an expression open
/// at its end (the same paths), leading `^` only where the end is anchored.
struct CompensationLengthTests {
    @Test(arguments: [
        (PathPattern.prefix("/reports/"), true, 10_000 + 100 * 14, "(?i)^/reports/.*"),
        (.prefix("/reports/"), false, 10_000 + 100 * 9, "^/reports/"),
        (.prefix("/reports/"), false, 10_000 + 100 * 11, "^/reports/.*"),
        (.prefix("/reports/"), false, 10_000 + 100 * 12, "^^^^/reports/"),
        (.exact("/a"), false, 10_000 + 100 * 4, "^^/a$"),
        (.regex("^/api/v[0-9]+/"), false, 10_000 + 100 * 15, "^/api/v[0-9]+/.*"),
    ])
    func theRuleIsLengthenedOnlyAsFarAsNeeded(_ pattern: PathPattern, _ caseInsensitive: Bool, _ beaten: Int, _ expected: String) throws {
        let match = try #require(CoverageRepair.forcedMatch(for: pattern, caseInsensitive: caseInsensitive, beating: beaten))
        #expect(match.value == expected)
        #expect(10_000 + match.value.utf8.count * 100 > beaten)
    }
}

/// The auth server is asked about the path the source asked it about: Traefik 3.7.15
/// runs a rule's filters in the order written, so rewrites that ran before the auth in
/// the source come before it in the rule (an Authelia policy may depend on the path).
struct AuthAndRewriteOrderTests {
    static func filters(_ result: Conversion.Result?, host: String, path: String) -> [String] {
        guard let emission = result?.emission,
              let hit = TraefikRouting(routes: emission.routes).winners(host: host, path: path).first else { return [] }
        return emission.routes[hit.route].rules[hit.rule].filters.map { filter in
            switch filter {
            case .extensionRef(let name): name
            case .replacePrefixMatch: "ReplacePrefixMatch"
            case .replaceFullPath: "ReplaceFullPath"
            default: "other"
            }
        }
    }

    @Test func authInsideHandlePathRunsAfterTheStrip() throws {
        let (result, diagnostics) = try convert("""
            a.example.com {
            \thandle_path /app/* {
            \t\tforward_auth authelia:9091 {
            \t\t\turi /api/authz/forward-auth
            \t\t}
            \t\treverse_proxy app:80
            \t}
            }
            """)
        #expect(!diagnostics.hasErrors, "\(diagnostics.all)")
        let order = Self.filters(result, host: "a.example.com", path: "/app/x")
        #expect(order.count == 2 && order.last == "authelia-forward-auth" && order.first != "authelia-forward-auth", "\(order)")
    }

    @Test func siteLevelAuthRunsBeforeTheStrip() throws {
        let (result, diagnostics) = try convert("""
            a.example.com {
            \tforward_auth authelia:9091 {
            \t\turi /api/authz/forward-auth
            \t}
            \thandle_path /app/* {
            \t\treverse_proxy app:80
            \t}
            }
            """)
        #expect(!diagnostics.hasErrors, "\(diagnostics.all)")
        let order = Self.filters(result, host: "a.example.com", path: "/app/x")
        #expect(order.count == 2 && order.first == "authelia-forward-auth", "\(order)")
    }

    @Test func aTraefikChainKeepsItsOrder() throws {
        let yaml = stripAppMiddleware + """
            ---
            apiVersion: traefik.io/v1alpha1
            kind: Middleware
            metadata: {name: strip-then-auth, namespace: apps}
            spec: {chain: {middlewares: [{name: strip}, {name: sso}]}}

            """ + forwardAuthMiddleware + ingress("x", path: "/app", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "apps-strip-then-auth@kubernetescrd"])
        let (result, diagnostics) = convertManifests(yaml)
        #expect(!diagnostics.hasErrors, "\(diagnostics.all)")
        let order = Self.filters(result, host: "a.example.com", path: "/app/x")
        #expect(order.count == 2 && order.last == "sso" && order.first != "sso", "\(order)")
    }
}

/// `path_regexp`: a case-sensitive, unanchored Go regexp on the cleaned path, which a
/// Gateway RegularExpression is in Traefik too.
struct PathRegexpTests {
    static let sso = "(sso) {\n\tforward_auth authelia:9091 {\n\t\turi /api/authz/forward-auth\n\t}\n}\n"

    @Test func aPathRegexpBecomesARegularExpressionAndStaysCaseSensitive() throws {
        let (result, diagnostics) = try convert(Self.sso + """
            a.example.com {
            \t@versioned path_regexp ^/api/v[0-9]+/
            \thandle @versioned {
            \t\treverse_proxy api:80
            \t}
            \thandle {
            \t\timport sso
            \t\treverse_proxy app:80
            \t}
            }
            """)
        #expect(diagnostics.warnings.isEmpty, "\(diagnostics.all)")
        #expect(result?.failures.isEmpty == true)
        #expect(result?.yaml.contains("type: RegularExpression\n        value: ^/api/v[0-9]+/\n") == true)
        #expect(routed(result, host: "a.example.com", path: "/api/v2/x") == ("default/api:80", false))
        #expect(routed(result, host: "a.example.com", path: "/API/V2/x") == ("default/app:80", true))
        #expect(routed(result, host: "a.example.com", path: "/api/vx/") == ("default/app:80", true))
    }

    /// `/api/v2/app.js` matches both: Caddy takes the protected handle written first,
    /// Traefik would take the longer public expression. The check probes the end-matching
    /// samples below each start, finds it, and the repair outranks the static rule.
    @Test func aPathBothExpressionsMatchKeepsTheAuthCaddyGaveIt() throws {
        let (result, diagnostics) = try convert(Self.sso + """
            a.example.com {
            \t@versioned path_regexp ^/api/v[0-9]+/
            \thandle @versioned {
            \t\timport sso
            \t\treverse_proxy api:80
            \t}
            \t@static path_regexp \\.(css|js|png)$
            \thandle @static {
            \t\treverse_proxy static:80
            \t}
            \thandle {
            \t\treverse_proxy app:80
            \t}
            }
            """)
        #expect(!diagnostics.hasErrors, "\(diagnostics.all)")
        #expect(result?.failures.isEmpty == true)
        #expect(routed(result, host: "a.example.com", path: "/api/v2/app.js") == ("default/api:80", true))
        #expect(routed(result, host: "a.example.com", path: "/assets/app.js") == ("default/static:80", false))
    }

    /// The same crossing with Caddy's own suffix patterns: a matcher with two paths has
    /// no single length, so Caddy sorts `handle /admin/*` first; `*.thumbnail.jpg`
    /// written as a RegularExpression is longer than `/admin/`, so Traefik would rank it
    /// first.
    @Test func aSuffixPatternCrossingAProtectedPrefixIsProbed() throws {
        let (result, diagnostics) = try convert(Self.sso + """
            a.example.com {
            \thandle /admin/* {
            \t\timport sso
            \t\treverse_proxy admin:80
            \t}
            \t@thumbs path *.thumbnail.jpg *.thumbnail.png
            \thandle @thumbs {
            \t\treverse_proxy thumbs:80
            \t}
            \thandle {
            \t\treverse_proxy app:80
            \t}
            }
            """)
        #expect(!diagnostics.hasErrors, "\(diagnostics.all)")
        #expect(result?.failures.isEmpty == true)
        #expect(routed(result, host: "a.example.com", path: "/admin/x.thumbnail.jpg") == ("default/admin:80", true))
        #expect(routed(result, host: "a.example.com", path: "/photos/x.thumbnail.jpg") == ("default/thumbs:80", false))
    }
}
