@testable import AuthgateCore
import Testing

/// Converts a Caddyfile that must convert.
private func converted(_ caddyfile: String, ignoring: Set<String> = []) throws -> Conversion.Result {
    let (result, diagnostics) = try convert(caddyfile, importer: CaddyImporter(ignoredDirectives: ignoring))
    return try #require(result, "conversion failed: \(diagnostics.all.map(\.description))")
}

private func output(_ result: Conversion.Result, host: String, path: String, request: RequestVariant = .baseline) -> OutputOutcome {
    outputOutcome(result, host: host, path: path, request: request)
}

/// Header, method and query matchers become HTTPRoute match conditions, and the coverage
/// check probes requests with and without them.
struct ExpressibleMatcherTests {
    static let bearerSkipsAuth = """
        app.example.com {
        \t@bearer header Authorization "Bearer *"
        \thandle @bearer {
        \t\treverse_proxy app:8080
        \t}
        \thandle {
        \t\tforward_auth authelia:9091 {
        \t\t\turi /api/authz/forward-auth
        \t\t}
        \t\treverse_proxy app:8080
        \t}
        }
        """

    @Test func aBearerTokenSkipsAuthOnlyForRequestsThatCarryIt() throws {
        let result = try converted(Self.bearerSkipsAuth)
        #expect(result.failures.isEmpty, "\(result.failures.map(\.message))")
        let bearer = RequestVariant(headers: [.init("Authorization", "Bearer abc")])
        #expect(output(result, host: "app.example.com", path: "/x", request: bearer).auth.isEmpty)
        #expect(output(result, host: "app.example.com", path: "/x").auth == [0])
        // Another scheme is not the glob's prefix: it keeps auth.
        let basic = RequestVariant(headers: [.init("Authorization", "Basic abc")])
        #expect(output(result, host: "app.example.com", path: "/x", request: basic).auth == [0])
        let headerMatch = result.emission.routes.flatMap(\.rules).flatMap(\.matches).first { !$0.conditions.headers.isEmpty }
        #expect(headerMatch?.conditions.headers == [.init(.regularExpression, "Authorization", "^Bearer ")])
    }

    @Test func droppingTheHeaderRuleIsCaughtByTheHeaderProbe() throws {
        var result = try converted(Self.bearerSkipsAuth)
        // Without the header rule the bearer requests would need auth: more protection,
        // a warning; without the plain rule's auth every other request loses it.
        for index in result.emission.routes.indices {
            for rule in result.emission.routes[index].rules.indices {
                result.emission.routes[index].rules[rule].filters.removeAll { $0 == .extensionRef(middleware: "authelia-forward-auth") }
            }
        }
        let findings = CoverageCheck.run(plan: result.plan, emission: result.emission)
        #expect(findings.contains { $0.kind == .lostProtection && $0.variant == nil })
    }

    @Test func aCorsPreflightAnswerTouchesOnlyOptionsRequests() throws {
        let result = try converted("""
            (cors) {
            \t@options method OPTIONS
            \trespond @options 204
            }
            app.example.com {
            \timport cors
            \treverse_proxy app:8080
            }
            """)
        #expect(result.failures.isEmpty, "\(result.failures.map(\.message))")
        #expect(output(result, host: "app.example.com", path: "/api", request: RequestVariant(method: "OPTIONS")).backends.isEmpty)
        for method in ["GET", "POST", "DELETE"] {
            #expect(output(result, host: "app.example.com", path: "/api", request: RequestVariant(method: method)).backends.map(\.name) == ["app"], "\(method)")
        }
    }

    @Test func aMethodMatcherNamingGetKeepsOtherMethodsOnTheirOwnOutcome() throws {
        // GET is public; every other method, also ones Gateway API has no name for,
        // needs auth.
        let result = try converted("""
            files.example.com {
            \t@read method GET HEAD
            \thandle @read {
            \t\treverse_proxy files:80
            \t}
            \thandle {
            \t\tforward_auth authelia:9091 {
            \t\t\turi /api/authz/forward-auth
            \t\t}
            \t\treverse_proxy files:80
            \t}
            }
            """)
        #expect(result.failures.isEmpty, "\(result.failures.map(\.message))")
        #expect(output(result, host: "files.example.com", path: "/a", request: RequestVariant(method: "GET")).auth.isEmpty)
        for method in ["POST", "PROPFIND", "DELETE"] {
            #expect(output(result, host: "files.example.com", path: "/a", request: RequestVariant(method: method)).auth == [0], "\(method)")
        }
    }

    @Test func aMatcherWithSeveralConditionsIsTheirIntersection() throws {
        let result = try converted("""
            app.example.com {
            \t@hook {
            \t\tpath /hooks/*
            \t\theader X-Token secret
            \t}
            \thandle @hook {
            \t\treverse_proxy hooks:80
            \t}
            \thandle {
            \t\tbasic_auth {
            \t\t\talice $2a$14$Zkx19XLiW6VYouLHR5NmfOFU0z2GTNmpkT/5qqR7hx4IjWJPDhjvG
            \t\t}
            \t\treverse_proxy app:80
            \t}
            }
            """)
        #expect(result.failures.isEmpty, "\(result.failures.map(\.message))")
        let token = RequestVariant(headers: [.init("X-Token", "secret")])
        #expect(output(result, host: "app.example.com", path: "/hooks/a", request: token).backends.map(\.name) == ["hooks"])
        #expect(output(result, host: "app.example.com", path: "/other", request: token).backends.map(\.name) == ["app"])
        #expect(output(result, host: "app.example.com", path: "/hooks/a").backends.map(\.name) == ["app"])
        #expect(output(result, host: "app.example.com", path: "/hooks/a").auth == [0])
    }

    @Test(arguments: [
        ("Bearer *", "Bearer x", true), ("Bearer *", "bearer x", false), ("*json", "application/json", true),
        ("*json*", "a/json+b", true), ("*", "", true), ("exact", "exact", true), ("exact", "exactly", false),
    ])
    func caddyHeaderValueFormsAndTheirGatewayMatchAgree(_ test: String, _ value: String, _ expected: Bool) {
        #expect(CaddyCondition.HeaderTest.valueMatches(test, value) == expected)
        let match = CaddyVariants.headerValue(test, field: "X").match
        let request = RequestVariant(headers: [.init("x", value)])
        #expect(RequestConditions(headers: [match]).holds(for: request) == expected, "\(match)")
    }
}

/// Client-address matchers: a restriction becomes an ipAllowList, and losing it fails.
struct ClientAddressTests {
    static let lanOnly = """
        nas.example.com {
        \t@lan remote_ip private_ranges
        \thandle @lan {
        \t\treverse_proxy nas:5000
        \t}
        \trespond 403
        }
        """

    @Test func aLanOnlySiteBecomesAnIpAllowListWithCaddysPrivateRanges() throws {
        let result = try converted(Self.lanOnly)
        #expect(result.failures.isEmpty, "\(result.failures.map(\.message))")
        let inside = RequestVariant(clientIP: "192.168.1.20")
        #expect(output(result, host: "nas.example.com", path: "/", request: inside).backends.map(\.name) == ["nas"])
        #expect(output(result, host: "nas.example.com", path: "/").refusedBy == "ip-allow-private-ranges")
        #expect(result.yaml.contains("- 172.16.0.0/12"))
        #expect(result.plan.sites[0].decisions.contains { $0.outcome.isProtected })
    }

    @Test func losingTheAllowListIsAFailure() throws {
        var result = try converted(Self.lanOnly)
        for index in result.emission.routes.indices {
            for rule in result.emission.routes[index].rules.indices {
                result.emission.routes[index].rules[rule].filters.removeAll { $0 == .extensionRef(middleware: "ip-allow-private-ranges") }
            }
        }
        let failures = CoverageCheck.run(plan: result.plan, emission: result.emission).filter(\.isFailure)
        #expect(failures.contains { $0.kind == .newlyReachable })
    }

    @Test func aLanThatSkipsAuthKeepsAuthForEveryoneWithAWarning() throws {
        // Gateway API cannot route by client address: LAN clients now log in too.
        let result = try converted("""
            app.example.com {
            \t@lan client_ip 10.0.0.0/8
            \thandle @lan {
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
        #expect(result.findings.contains { $0.kind == .addedProtection && $0.variant?.clientIP == "10.0.0.1" })
        #expect(output(result, host: "app.example.com", path: "/", request: RequestVariant(clientIP: "10.0.0.1")).auth == [0])
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.255.0.1", true), ("10.0.0.0/8", "11.0.0.1", false), ("127.0.0.1/8", "127.9.9.9", true),
        ("fd00::/8", "fd12::1", true), ("fd00::/8", "fe80::1", false), ("::1", "::1", true), ("192.168.1.5", "192.168.1.5", true),
    ])
    func rangesContainTheirAddresses(_ range: String, _ address: String, _ expected: Bool) throws {
        let parsed = try #require(IPRange(range))
        #expect(parsed.contains(address) == expected)
        #expect(parsed.contains(parsed.sampleAddress))
    }
}

/// What authgate cannot evaluate is unknown, never guessed in the open direction.
struct UnknownConstructTests {
    @Test(arguments: ["authorize with admins_policy", "tailscale_auth", "crowdsec"])
    func aPluginDirectiveBeforeTheBackendMakesItsRequestsUnknown(_ directive: String) throws {
        let name = String(directive.split(separator: " ")[0])
        let result = try converted("app.example.com {\n\t\(directive)\n\treverse_proxy app:80\n}\n")
        let unknown = try #require(result.failures.first { $0.kind == .unknown })
        #expect(unknown.location?.line == 2)
        #expect(unknown.message.contains("directive '\(name)'"))
        #expect(unknown.message.contains("--ignore-directive \(name)"))
        // The user vouches for it: then it is only left out.
        let vouched = try converted("app.example.com {\n\t\(directive)\n\treverse_proxy app:80\n}\n", ignoring: [name])
        #expect(vouched.failures.isEmpty)
    }

    @Test func aPluginDirectiveThatNoOrderPlacesIsTakenToRunFirst() throws {
        // Plugins may register their own place in the order; without `order`, authgate
        // cannot know it runs after the proxy, so it counts for every matching request.
        let result = try converted("app.example.com {\n\treverse_proxy app:80\n\tcaddy_plugin_guard\n}\n")
        #expect(result.failures.contains { $0.kind == .unknown })
    }

    @Test func aPluginDirectiveOnlyOnPathsThatReachNoBackendIsHarmless() throws {
        let result = try converted("app.example.com {\n\tguard /static/*\n\trespond /static/* 404\n\treverse_proxy app:80\n}\n")
        #expect(result.failures.isEmpty, "\(result.failures.map(\.message))")
    }

    @Test func anExpressionDecidingBetweenBackendsIsUnknown() throws {
        let result = try converted("""
            app.example.com {
            \t@beta expression {http.request.cookie.beta} == "1"
            \treverse_proxy @beta beta:80
            \treverse_proxy stable:80
            }
            """)
        let unknown = try #require(result.failures.first { $0.kind == .unknown })
        #expect(unknown.message.contains("matcher 'expression' (@beta)"))
        #expect(unknown.location?.line == 2)
    }

    @Test func anExpressionGuardingOnlyAHeaderChangeIsNoDifference() throws {
        let result = try converted("""
            app.example.com {
            \t@old expression {http.request.proto} == "HTTP/1.0"
            \theader @old X-Old yes
            \treverse_proxy app:80
            }
            """)
        #expect(!result.failures.contains { $0.kind == .unknown }, "\(result.failures.map(\.message))")
    }

    @Test func anExpressionThatSkipsAuthKeepsAuthForEveryone() throws {
        // Under "holds" the source skipped auth, under "does not hold" it asked for it:
        // the output asks always, which loses no protection.
        let result = try converted("""
            app.example.com {
            \t@internal expression `{http.request.header.X-Internal} == "1"`
            \thandle @internal {
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
        #expect(output(result, host: "app.example.com", path: "/").auth == [0])
    }
}

/// Only Authentik's own outpost paths skip the auth in front of its server.
struct AuthServerUpstreamTests {
    @Test func aPathProxiedToTheAuthServerKeepsItsForwardAuth() throws {
        let result = try converted("""
            app.example.com {
            \tforward_auth authelia:9091 {
            \t\turi /api/authz/forward-auth
            \t}
            \treverse_proxy /api/* authelia:9091
            \treverse_proxy app:80
            }
            """)
        #expect(result.failures.isEmpty, "\(result.failures.map(\.message))")
        let api = output(result, host: "app.example.com", path: "/api/secrets")
        #expect(api.backends.map(\.name) == ["authelia"])
        #expect(api.auth == [0])
    }

    @Test func authentiksOutpostPathsStillGoStraightToIt() throws {
        let result = try converted("""
            app.example.com {
            \treverse_proxy /outpost.goauthentik.io/* authentik-server.authentik:9000
            \tforward_auth authentik-server.authentik:9000 {
            \t\turi /outpost.goauthentik.io/auth/caddy
            \t}
            \treverse_proxy app:80
            }
            """)
        #expect(result.failures.isEmpty, "\(result.failures.map(\.message))")
        #expect(output(result, host: "app.example.com", path: "/outpost.goauthentik.io/start").auth.isEmpty)
    }
}
