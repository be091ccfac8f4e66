@testable import AuthgateCore
import Testing

private func run(_ caddyfile: String, environment: [String: String] = [:], importer: CaddyImporter = CaddyImporter()) -> (Conversion.Result?, Diagnostics) {
    (try? convert(caddyfile, environment: environment, importer: importer)) ?? (nil, Diagnostics())
}

private func backends(_ result: Conversion.Result, host: String, path: String, request: RequestVariant = .baseline) -> [String] {
    outputOutcome(result, host: host, path: path, request: request).backends.map(\.description)
}

/// Forward auth as people write it besides `forward_auth`.
struct HandWrittenForwardAuthTests {
    static let explicit = """
        app.example.com {
        \treverse_proxy authelia:9091 {
        \t\tmethod GET
        \t\trewrite "/api/authz/forward-auth?authelia_url=https://auth.example.com/"
        \t\theader_up X-Forwarded-Method {method}
        \t\theader_up X-Forwarded-Uri {uri}
        \t\t@good status 2xx
        \t\thandle_response @good {
        \t\t\trequest_header Remote-User {http.reverse_proxy.header.Remote-User}
        \t\t\trequest_header X-Groups {rp.header.Remote-Groups}
        \t\t}
        \t}
        \treverse_proxy app:80
        }
        """

    @Test func aProxyToTheAuthServerWithA2xxHandlerIsForwardAuthNotAPublicRoute() throws {
        let (result, diagnostics) = run(Self.explicit)
        let converted = try #require(result, "\(diagnostics.all.map(\.description))")
        #expect(converted.failures.isEmpty, "\(converted.failures.map(\.message))")
        let provider = try #require(converted.plan.authProviders.first)
        #expect(provider.endpoint == "/api/authz/forward-auth?authelia_url=https://auth.example.com/")
        #expect(provider.copyHeaders == ["Remote-User", "Remote-Groups"])
        #expect(provider.renamedHeaders.map(\.to) == ["X-Groups"])
        #expect(converted.yaml.contains("address: http://authelia.default.svc.cluster.local:9091/api/authz/forward-auth?authelia_url=https://auth.example.com/"))
        #expect(backends(converted, host: "app.example.com", path: "/x") == ["default/app:80"])
        #expect(converted.plan.sites[0].decisions.allSatisfy { $0.outcome.isProtected })
        // The forwarded-for-auth header_up lines are what forwardAuth sends anyway.
        #expect(!diagnostics.warnings.contains { $0.message.contains("X-Forwarded-Method") })
    }

    @Test func aHandleResponseThatMayLetARequestThroughIsUnknown() throws {
        // This block writes no answer for a 401: Caddy goes on to the backend.
        let (result, _) = run("""
            app.example.com {
            \treverse_proxy auth:9000 {
            \t\t@denied status 401
            \t\thandle_response @denied {
            \t\t\trequest_header X-Denied yes
            \t\t}
            \t}
            \treverse_proxy app:80
            }
            """)
        let converted = try #require(result)
        #expect(converted.failures.contains { $0.kind == .unknown && $0.message.contains("reverse_proxy handle_response") })
    }

    @Test func oauth2ProxysSignInRedirectBecomesAuthSigninURL() throws {
        let (result, diagnostics) = run("""
            app.example.com {
            \tforward_auth oauth2-proxy:4180 {
            \t\turi /oauth2/auth
            \t\t@error status 401
            \t\thandle_response @error {
            \t\t\tredir * /oauth2/sign_in?rd={scheme}://{host}{uri}
            \t\t}
            \t}
            \treverse_proxy app:80
            }
            """)
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(converted.yaml.contains("authSigninURL: /oauth2/sign_in\n"))
        #expect(diagnostics.warnings.contains { $0.message.contains("rd={scheme}://{host}{uri}") && $0.location?.line == 6 })
    }

    @Test func aForwardAuthHandleResponseThatFallsThroughIsUnknown() throws {
        let (result, _) = run("""
            app.example.com {
            \tforward_auth auth:9000 {
            \t\turi /verify
            \t\t@error status 401
            \t\thandle_response @error {
            \t\t\theader X-Why denied
            \t\t}
            \t}
            \treverse_proxy app:80
            }
            """)
        let converted = try #require(result)
        #expect(converted.failures.contains { $0.kind == .unknown && $0.location?.line == 5 })
    }

    @Test func forwardAuthOverTLSKeepsItsCertificateSettings() throws {
        let (result, diagnostics) = run("""
            app.example.com {
            \tforward_auth authelia.auth:9091 {
            \t\turi /api/authz/forward-auth
            \t\ttransport http {
            \t\t\ttls_trust_pool file /etc/caddy/authelia-ca.pem
            \t\t}
            \t}
            \treverse_proxy app:80
            }
            """)
        let converted = try #require(result)
        #expect(converted.yaml.contains("address: https://authelia.auth.svc.cluster.local:9091/api/authz/forward-auth"))
        #expect(converted.yaml.contains("caSecret: authelia-forward-auth-ca"))
        #expect(diagnostics.all.contains { $0.message.contains("--from-file=ca.crt=/etc/caddy/authelia-ca.pem") })
    }
}

/// Redirects that keep the request's host and path.
struct RedirectPlaceholderTests {
    @Test(arguments: [
        ("https://{host}{uri}", Redirect(status: 302, scheme: "https")),
        ("https://{hostport}{http.request.uri}", Redirect(status: 302, scheme: "https")),
        ("https://{http.request.host}/support", Redirect(status: 302, scheme: "https", path: "/support")),
        ("https://shop.example.com{uri}", Redirect(status: 302, scheme: "https", hostname: "shop.example.com")),
        ("https://{host}", Redirect(status: 302, scheme: "https", path: "/")),
    ])
    func aRedirectKeepsTheRequestsHostWherePlaceholdersSaySo(_ target: String, _ expected: Redirect) throws {
        let (result, diagnostics) = run("a.example.com {\n\tredir \(target)\n}\n")
        let converted = try #require(result, "\(diagnostics.all.map(\.description))")
        #expect(converted.plan.sites[0].decisions.first?.outcome.terminal == .redirect(expected))
    }

    @Test func aHostOnlyCaddyKnowsIsRefusedQuotingThePlaceholder() {
        let (result, diagnostics) = run("a.example.com {\n\tredir https://{http.request.header.X-Target}/\n}\n")
        #expect(result == nil)
        #expect(diagnostics.errors.first?.message.contains("'{http.request.header.X-Target}'") == true)
    }

    @Test func anHTTPSiteThatOnlyUpgradesBecomesTheHTTPListenersRedirect() throws {
        let (result, _) = run("http://a.example.com {\n\tredir https://{host}{uri} permanent\n}\na.example.com {\n\treverse_proxy app:80\n}\n")
        let converted = try #require(result)
        #expect(converted.plan.sites.map(\.httpsRedirect) == [301])
        #expect(converted.plan.droppedSites.isEmpty)
    }
}

/// Upstreams outside the cluster, and placeholders only Caddy fills in.
struct OutsideUpstreamTests {
    @Test func upstreamFlagNamesTheServiceALocalPortBecame() throws {
        let importer = CaddyImporter(upstreamMappings: ["localhost:3000": "grafana.monitoring:3000", "unix//run/app.sock": "app:8000"])
        let (result, _) = run("a.example.com {\n\treverse_proxy :3000\n}\nb.example.com {\n\treverse_proxy unix//run/app.sock\n}\n", importer: importer)
        let converted = try #require(result)
        #expect(backends(converted, host: "a.example.com", path: "/") == ["monitoring/grafana:3000"])
        #expect(backends(converted, host: "b.example.com", path: "/") == ["default/app:8000"])
    }

    @Test func aUnixSocketWithoutAMappingConvertsWithAWarningNamingTheFlag() throws {
        let (result, diagnostics) = run("a.example.com {\n\treverse_proxy unix//run/app.sock\n}\n")
        #expect(result != nil)
        #expect(diagnostics.warnings.contains { $0.message.contains("--upstream unix//run/app.sock=SERVICE.NAMESPACE:PORT") })
    }

    @Test func aPortRangeIsOneBackendPerPort() throws {
        let (result, _) = run("a.example.com {\n\treverse_proxy app:8001-8003\n}\n")
        let converted = try #require(result)
        #expect(converted.emission.routes[0].rules[0].backendRefs.map(\.port) == [8001, 8002, 8003])
    }

    @Test func envPlaceholdersInUpstreamsAreReadFromTheEnvironmentGiven() throws {
        let caddyfile = "a.example.com {\n\treverse_proxy {env.APP_HOST}:8080\n}\n"
        let (withValue, _) = run(caddyfile, environment: ["APP_HOST": "app.apps"])
        let resolved = try #require(withValue)
        #expect(backends(resolved, host: "a.example.com", path: "/") == ["apps/app:8080"])
        let (without, _) = run(caddyfile)
        let unknown = try #require(without?.failures.first { $0.kind == .unknown })
        #expect(unknown.message.contains("set APP_HOST in the environment"))
    }

    @Test func anUnsetVariableThatEmptiesASiteAddressIsAnErrorNamingIt() {
        let (result, diagnostics) = run("app.{$DOMAIN} {\n\treverse_proxy app:80\n}\n")
        #expect(result == nil)
        #expect(diagnostics.errors.first?.message.contains("{$DOMAIN}") == true)
        #expect(diagnostics.errors.first?.location?.line == 1)
    }

    @Test func anEnvironmentFileReadsAsComposeWritesIt() {
        let parsed = EnvironmentFile.parse("# comment\nDOMAIN=example.com\nexport TOKEN='a b'\n  QUOTED=\"x=y\"\r\nbad line\n")
        #expect(parsed.map(\.0) == ["DOMAIN", "TOKEN", "QUOTED"])
        #expect(parsed.map(\.1) == ["example.com", "a b", "x=y"])
    }
}

/// What is left out is never success when it had auth, and nothing converted never is.
struct LeftOutSiteTests {
    static let portOnlyProtected = ":8085 {\n\tbasic_auth {\n\t\talice $2a$14$Zkx19XLiW6VYouLHR5NmfOFU0z2GTNmpkT/5qqR7hx4IjWJPDhjvG\n\t}\n\treverse_proxy app:80\n}\n"

    @Test func aProtectedPortOnlySiteWithoutAListenerIsARefusal() throws {
        let (result, diagnostics) = run(Self.portOnlyProtected)
        let converted = try #require(result)
        #expect(converted.failures.map(\.kind) == [.siteLeftOut])
        #expect(diagnostics.warnings.contains { $0.message.contains("--listener 8085=LISTENER") })
    }

    @Test func aPortOnlySiteAttachesToTheListenerNamedForItsPort() throws {
        var importer = CaddyImporter()
        importer.portListeners = ["8085": "admin"]
        let (result, _) = run(Self.portOnlyProtected, importer: importer)
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(converted.emission.routes.flatMap(\.parentRefs).map(\.sectionName) == ["admin"])
        #expect(converted.emission.routes[0].hostnames.isEmpty)
    }

    @Test func aSiteThatOnlyAnswersItselfIsNothingToConvert() throws {
        let (result, _) = run("a.example.com {\n\trespond \"hello\"\n}\n")
        let converted = try #require(result)
        #expect(converted.failures.map(\.kind) == [.nothingConverted])
    }

    @Test func aWildcardHeaderDeletionIsAWarningNotAnInvalidName() throws {
        let (result, diagnostics) = run("a.example.com {\n\trequest_header -Remote-*\n\treverse_proxy app:80\n}\n")
        let converted = try #require(result)
        #expect(!converted.yaml.contains("Remote-*"))
        #expect(diagnostics.warnings.contains { $0.message.contains("'-Remote-*'") })
    }

    @Test func aWildcardHeaderDeletionRemovesTheNamesTheFileUsesThatMatchIt() throws {
        // Authelia's headers come back from the auth server; a client must not be
        // able to send its own Remote-User. The file names them in copy_headers.
        let (result, diagnostics) = run("""
            a.example.com {
            	request_header -Remote-*
            	forward_auth authelia:9091 {
            		uri /api/authz/forward-auth
            		copy_headers Remote-User Remote-Groups X-Other>Remote-Email
            	}
            	reverse_proxy app:80
            }

            """)
        let converted = try #require(result)
        // Remote-Email is removed once (as the renamed copy, and as a match), in a set.
        #expect(converted.yaml.contains("remove:\n        - Remote-Email\n        - Remote-User\n        - Remote-Groups\n    backendRefs:"))
        let warning = try #require(diagnostics.warnings.first { $0.message.contains("'-Remote-*'") })
        #expect(warning.message.contains("3 names this Caddyfile uses that match it (Remote-User, Remote-Groups, Remote-Email)"))
    }

    @Test func caddyHeaderPatternsMatchPrefixesSuffixesAndInfixesWithoutCase() {
        #expect(HeaderDirective.wildcard("Remote-*", matches: "remote-user"))
        #expect(HeaderDirective.wildcard("*-Token", matches: "X-Auth-Token"))
        #expect(HeaderDirective.wildcard("X-*-Id", matches: "x-request-id"))
        #expect(!HeaderDirective.wildcard("X-*-Id", matches: "x-id"))
        #expect(!HeaderDirective.wildcard("Remote-*", matches: "X-Remote-User"))
    }
}

/// `--case-sensitive-paths`: plain rules, never at the cost of auth.
struct CaseSensitivePathsTests {
    private func convertCaseSensitive(_ caddyfile: String) throws -> Conversion.Result {
        var options = TraefikOptions()
        options.caseSensitivePaths = true
        return try #require(try convert(caddyfile, options: options).0)
    }

    @Test func anUpperCaseSpellingThatStaysBehindAuthIsAWarningAndNeedsNoCaseRule() throws {
        // /PUBLIC/x was public in Caddy; the output sends it to the protected catch-all.
        let result = try convertCaseSensitive("""
            app.example.com {
            \thandle /public/* {
            \t\treverse_proxy app:80
            \t}
            \thandle {
            \t\tforward_auth authelia:9091 {
            \t\t\turi /api/authz/forward-auth
            \t\t}
            \t\treverse_proxy app:80
            \t}
            }
            """)
        #expect(result.failures.isEmpty, "\(result.failures.map(\.message))")
        #expect(!result.yaml.contains("(?i)"))
    }

    @Test func anUpperCaseSpellingThatWouldLoseAuthIsStillRepaired() throws {
        // /ADMIN/x was protected in Caddy: a plain rule would send it to the public
        // catch-all, so the case-insensitive rule stays.
        let result = try convertCaseSensitive(CoverageCheckTests.protectedAdmin)
        #expect(result.failures.isEmpty, "\(result.failures.map(\.message))")
        #expect(result.yaml.contains("(?i)"))
    }
}

/// Defects a review of 55 real Caddyfiles found, each in our own minimal words.
struct CorpusFindingsTests {
    private func converted(_ caddyfile: String) throws -> Conversion.Result {
        let (result, diagnostics) = run(caddyfile)
        return try #require(result, "\(diagnostics.all.map(\.description))")
    }

    @Test func aRenamedCopyHeaderCannotBeForgedByTheClient() throws {
        // Caddy sets Display-Name from the auth server's answer; Traefik passes only the
        // auth server's own name, so a client-sent Display-Name must not reach the app.
        let result = try converted("a.example.com {\n\tforward_auth auth:9000 {\n\t\turi /check\n\t\tcopy_headers Auth-Name>Display-Name\n\t}\n\treverse_proxy app:80\n}\n")
        #expect(result.failures.isEmpty)
        let removed = result.emission.routes.flatMap(\.rules).flatMap(\.filters).compactMap { filter -> [String]? in
            if case .requestHeaderModifier(let changes) = filter { return changes.remove }
            return nil
        }
        #expect(removed.contains(["Display-Name"]))
    }

    @Test func anExpressionWithDotStarInTheMiddleKeepsItsRoute() throws {
        let result = try converted("""
            a.example.com {
            \t@admin path_regexp ^/api/.*/admin
            \thandle @admin {
            \t\tforward_auth auth:9000 {
            \t\t\turi /check
            \t\t}
            \t\treverse_proxy admin:8080
            \t}
            \thandle {
            \t\treverse_proxy app:8080
            \t}
            }
            """)
        #expect(result.failures.isEmpty)
        #expect(backends(result, host: "a.example.com", path: "/api/v1/admin") == ["default/admin:8080"])
        #expect(RegexSample.generate("^/api/.*/admin") == "/api/x/admin")
    }

    @Test(arguments: ["\\binfra\\b", "^public\\.", "(^|,)(ops|infra)(,|$)"])
    func aHeaderExpressionIsProbedWithAValueItMatches(_ pattern: String) throws {
        let value = try #require(RegexSample.value(pattern))
        #expect(RegexCache([pattern]).firstMatch(pattern, in: value))
    }

    @Test func aMatcherOnAHeaderTheAuthServerSetsIsUnknown() throws {
        // After forward_auth the header is the auth server's; Traefik would match the
        // client's, before the auth runs: anyone could send it.
        let result = try converted("""
            a.example.com {
            \troute /admin/* {
            \t\tforward_auth oauth2-proxy:4180 {
            \t\t\turi /oauth2/auth
            \t\t\tcopy_headers X-Auth-Request-Groups
            \t\t}
            \t\t@outsider not header X-Auth-Request-Groups *admins*
            \t\trespond @outsider 403
            \t\treverse_proxy app:80
            \t}
            \treverse_proxy app:80
            }
            """)
        let unknown = try #require(result.failures.first { $0.kind == .unknown })
        #expect(unknown.location?.line == 7)
        #expect(unknown.message.contains("header 'X-Auth-Request-Groups'"))
    }

    @Test func anUnsupportedHashIsARefusalNotBadInput() throws {
        let result = try converted("a.example.com {\n\tbasic_auth argon2id {\n\t\tbob $argon2id$v=19$m=47104,t=1,p=1$c2FsdA$aGFzaA\n\t}\n\treverse_proxy app:80\n}\n")
        #expect(result.failures.contains { $0.kind == .unknown && $0.message.contains("basic_auth argon2id") })
        let fromFile = try converted("a.example.com {\n\tbasic_auth {\n\t\tbob {file./run/secrets/bob}\n\t}\n\treverse_proxy app:80\n}\n")
        #expect(fromFile.failures.contains { $0.kind == .unknown })
    }

    @Test func aMatcherAuthgateCannotEvaluateBeforeRespondIsNotTakenToAlwaysHold() throws {
        // Where it held, Caddy answered 403; where not, the app answered.
        let result = try converted("a.example.com {\n\t@geo not geo_country SG\n\trespond @geo 403\n\treverse_proxy app:80\n}\nb.example.com {\n\treverse_proxy b:80\n}\n")
        #expect(result.failures.contains { $0.kind == .unknown && $0.host == "a.example.com" })
    }

    @Test func clientCertificatesOnTheSiteAreUnknown() throws {
        let result = try converted("a.example.com {\n\ttls {\n\t\tclient_auth {\n\t\t\tmode require_and_verify\n\t\t\ttrust_pool file /ca.pem\n\t\t}\n\t}\n\treverse_proxy app:80\n}\n")
        #expect(result.failures.contains { $0.kind == .unknown && $0.message.contains("frontendValidation") })
    }
}

/// What the end-to-end run of real Caddyfiles against real Caddy showed.
struct CorpusDifferentialFindingsTests {
    @Test func anAuthServerOnTheCaddyHostIsUnknownUntilMapped() throws {
        let caddyfile = "a.example.com {\n\tforward_auth 127.0.0.1:9091 {\n\t\turi /api/authz/forward-auth\n\t}\n\treverse_proxy app:80\n}\n"
        let (result, _) = run(caddyfile)
        let unknown = try #require(result?.failures.first { $0.kind == .unknown })
        #expect(unknown.message.contains("--upstream localhost:9091=SERVICE.NAMESPACE:PORT"))
        let (mapped, _) = run(caddyfile, importer: CaddyImporter(upstreamMappings: ["127.0.0.1:9091": "authelia.auth:9091"]))
        #expect(mapped?.failures.isEmpty == true)
    }

    @Test func lbPolicyFirstKeepsOnlyTheFirstUpstream() throws {
        let (result, diagnostics) = run("a.example.com {\n\treverse_proxy primary:80 spare:80 {\n\t\tlb_policy first\n\t}\n}\n")
        let converted = try #require(result)
        #expect(converted.emission.routes[0].rules[0].backendRefs.map(\.name) == ["primary"])
        #expect(diagnostics.warnings.contains { $0.message.contains("lb_policy first") })
    }

    @Test func rangesOnlyCaddyFillsInAreAnOpaqueMatcher() throws {
        let (result, diagnostics) = run("a.example.com {\n\t@ok remote_ip {env.TRUSTED}\n\thandle @ok {\n\t\treverse_proxy app:80\n\t}\n\trespond 403\n}\n")
        #expect(!diagnostics.hasErrors)
        #expect(result?.failures.contains { $0.kind == .unknown } == true)
    }
}

/// `report` labels each row with the rule that serves the row's own paths.
struct ReportRowTests {
    @Test func theCatchAllAfterAnExactRootIsItsOwnPathPrefixRow() throws {
        let (result, diagnostics) = run("a.example.com {\n\theader / X-Root yes\n\treverse_proxy app:80\n}\n")
        let converted = try #require(result)
        let report = MigrationReport(result: converted, diagnostics: diagnostics)
        #expect(report.hosts[0].rules.map(\.match.description) == ["Exact /", "PathPrefix /"])
    }
}

/// Where an auth server lives, and what the output writes for it.
struct AuthServerPlacementTests {
    static let outsideAuthentik = "a.example.com {\n\tforward_auth 192.168.1.5:9000 {\n\t\turi /outpost.goauthentik.io/auth/caddy\n\t}\n\treverse_proxy app:80\n}\n"

    @Test func anOutpostThatRunsOutsideTheClusterIsUsedNotDeployed() throws {
        var options = TraefikOptions()
        options.authentikOutpostURL = Upstream.url("http://192.168.1.5:9000")
        let converted = try #require(try convert(Self.outsideAuthentik, options: options).0)
        #expect(converted.failures.isEmpty)
        #expect(!converted.emission.objects.contains { $0.kind == "Deployment" })
        #expect(converted.yaml.contains("address: http://192.168.1.5:9000/outpost.goauthentik.io/auth/traefik"))
        #expect(outputOutcome(converted, host: "a.example.com", path: "/outpost.goauthentik.io/start").backends.map(\.name) == ["ip-192-168-1-5"])
    }

    @Test func anAuthServerOnlyTheMiddlewareCallsGetsNoService() throws {
        let converted = try #require(try convert("a.example.com {\n\tforward_auth auth.example.net:9091 {\n\t\turi /api/authz/forward-auth\n\t}\n\treverse_proxy app:80\n}\n").0)
        #expect(converted.failures.isEmpty)
        #expect(!converted.emission.objects.contains { $0.kind == "Service" || $0.kind == "EndpointSlice" })
        #expect(converted.yaml.contains("address: http://auth.example.net:9091/api/authz/forward-auth"))
    }

    @Test(arguments: [("outpost.company", false), ("authentik.auth", true), ("nas.lan", false), ("grafana.monitoring", true), ("app.io", false)])
    func aTwoLabelNameIsAServiceOnlyWhenItsLastLabelIsNoTopLevelDomain(_ host: String, _ isService: Bool) {
        #expect(Upstream(scheme: .http, host: host, port: 80).isInClusterService == isService, "\(host)")
    }
}

/// Repeats of one warning shape print once, with the count and where the next ones are.
struct DiagnosticGroupingTests {
    @Test func repeatedWarningsOfOneShapeAreOneLine() {
        var diagnostics = Diagnostics()
        for (line, name) in [(2, "tls"), (5, "log"), (9, "tls"), (12, "encode")] {
            diagnostics.append(.warning("'\(name)' has no equivalent in Gateway API routing; it is left out", at: SourceLocation(file: "Caddyfile", line: line, column: 2)))
        }
        diagnostics.append(.error("first error", at: SourceLocation(file: "Caddyfile", line: 3, column: 1)))
        diagnostics.append(.error("second error", at: SourceLocation(file: "Caddyfile", line: 4, column: 1)))
        let grouped = diagnostics.grouped
        #expect(grouped.count == 3)
        #expect(grouped.filter { $0.severity == .warning }.map(\.message) == ["'tls' has no equivalent in Gateway API routing; it is left out (4 times; also 'log' at line 5, 'tls' at line 9, 'encode' at line 12)"])
    }
}
