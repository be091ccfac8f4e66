@testable import AuthgateCore
import Foundation
import Testing

/// Converts manifests in memory.
func convertManifests(_ yaml: String, importer: IngressImporter = IngressImporter(), options: TraefikOptions = TraefikOptions()) -> (Conversion.Result?, Diagnostics) {
    var diagnostics = Diagnostics()
    var conversion = Conversion(fileSystem: InMemoryFileSystem([:]), environment: [:], forcedKind: .manifests, options: options)
    conversion.ingressImporter = importer
    let result = conversion.run([.init(path: "in.yaml", bytes: Array(yaml.utf8))], diagnostics: &diagnostics)
    return (result, diagnostics)
}

/// An Ingress for `host` with one path and optional annotations.
func ingress(_ name: String, namespace: String = "apps", host: String = "a.example.com", path: String = "/", pathType: String = "Prefix", service: String = "app", port: String = "{number: 80}", className: String? = "traefik", annotations: [String: String] = [:]) -> String {
    var text = "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: \(name)\n  namespace: \(namespace)\n"
    if !annotations.isEmpty {
        text += "  annotations:\n" + annotations.keys.sorted().map { "    \($0): \"\(annotations[$0]!)\"\n" }.joined()
    }
    text += "spec:\n"
    if let className { text += "  ingressClassName: \(className)\n" }
    text += "  rules:\n  - host: \(host)\n    http:\n      paths:\n      - path: \(path)\n        pathType: \(pathType)\n        backend: {service: {name: \(service), port: \(port)}}\n"
    return text
}

let forwardAuthMiddleware = """
    ---
    apiVersion: traefik.io/v1alpha1
    kind: Middleware
    metadata: {name: sso, namespace: apps}
    spec:
      forwardAuth:
        address: http://authelia.auth.svc.cluster.local:9091/api/authz/forward-auth
        authResponseHeaders: [Remote-User]

    """

/// A stripPrefix Middleware `strip` removing `/app`, in `apps`.
let stripAppMiddleware = """
    ---
    apiVersion: traefik.io/v1alpha1
    kind: Middleware
    metadata: {name: strip, namespace: apps}
    spec: {stripPrefix: {prefixes: [/app]}}

    """

/// What the emitted routes do, as Traefik routes them.
func routed(_ result: Conversion.Result?, host: String, path: String) -> (backend: String?, protected: Bool) {
    guard let emission = result?.emission else { return (nil, false) }
    let routing = TraefikRouting(routes: emission.routes)
    guard let hit = routing.winners(host: host, path: path).first else { return (nil, false) }
    let rule = emission.routes[hit.route].rules[hit.rule]
    let protected = rule.filters.contains { filter in
        if case .extensionRef(let name) = filter, case .auth = emission.middlewareEffects["\(emission.routes[hit.route].namespace)/\(name)"] { return true }
        return false
    }
    return (rule.backendRefs.first?.description, protected)
}

struct IngressImportTests {
    @Test func aByteOrderMarkAndWindowsLineEndingsReadLikeAPlainFile() throws {
        let plain = String(Self.adminBehindAuth.drop { $0 == "-" || $0 == "\n" })
        let windows = "\u{FEFF}" + plain.replacingOccurrences(of: "\n", with: "\r\n")
        let (expected, expectedDiagnostics) = convertManifests(plain)
        let (result, diagnostics) = convertManifests(windows)
        #expect(!diagnostics.hasErrors, "\(diagnostics.all)")
        #expect(diagnostics.all.map(\.message) == expectedDiagnostics.all.map(\.message))
        #expect(result?.yaml == expected?.yaml)
        #expect(routed(result, host: "a.example.com", path: "/admin/x") == ("apps/app:80", true))
    }

    static let adminBehindAuth = forwardAuthMiddleware
        + ingress("site", path: "/")
        + ingress("admin", path: "/admin", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "apps-sso@kubernetescrd"])

    @Test func traefikPrefixIsCharacterWiseSoAdministratorStaysProtected() throws {
        let (result, diagnostics) = convertManifests(Self.adminBehindAuth)
        #expect(!diagnostics.hasErrors, "\(diagnostics.all)")
        #expect(result?.failures.isEmpty == true)
        #expect(routed(result, host: "a.example.com", path: "/administrator") == ("apps/app:80", true))
        #expect(routed(result, host: "a.example.com", path: "/admin/x") == ("apps/app:80", true))
        #expect(routed(result, host: "a.example.com", path: "/about") == ("apps/app:80", false))
    }

    /// The Ingress spec says Prefix `/api/` matches `/api`; ingress-nginx (v1.15,
    /// location.go) writes `location /api/` and `location = /api/`, so it does not, and
    /// Prefix `/api` (`location /api/` and `= /api`) takes `/api` and `/api/x` only.
    @Test func nginxPrefixIsWhatIngressNginxWritesNotWhatTheSpecSays() throws {
        let auth = ["nginx.ingress.kubernetes.io/auth-url": "http://authelia.auth.svc.cluster.local:9091/api/authz/forward-auth"]
        let (result, diagnostics) = convertManifests(ingress("api", path: "/api/", className: "nginx", annotations: auth))
        #expect(!diagnostics.hasErrors, "\(diagnostics.all)")
        #expect(result?.failures.isEmpty == true)
        #expect(routed(result, host: "a.example.com", path: "/api").backend == nil)
        #expect(routed(result, host: "a.example.com", path: "/api/x") == ("apps/app:80", true))
        #expect(routed(result, host: "a.example.com", path: "/apix").backend == nil)
        let (plain, _) = convertManifests(ingress("api", path: "/api", className: "nginx", annotations: auth))
        #expect(routed(plain, host: "a.example.com", path: "/api") == ("apps/app:80", true))
        #expect(routed(plain, host: "a.example.com", path: "/api/x") == ("apps/app:80", true))
        #expect(routed(plain, host: "a.example.com", path: "/apix").backend == nil)
    }

    /// One Ingress with use-regex makes every location of its host a case-insensitive
    /// expression, tried longest first: an Exact path of another Ingress on the host is
    /// then `^/api/v1`, and `/api/v1(/|$)` is tried before it.
    @Test func useRegexOnOneIngressMakesTheWholeHostRegexLongestFirst() throws {
        let yaml = ingress("regex", path: "/api/v1(/|$)", pathType: "ImplementationSpecific", service: "regex", className: "nginx", annotations: ["nginx.ingress.kubernetes.io/use-regex": "true"])
            + ingress("exact", path: "/api/v1", pathType: "Exact", service: "exact", className: "nginx")
        let (result, _) = convertManifests(yaml)
        #expect(routed(result, host: "a.example.com", path: "/api/v1").backend == "apps/regex:80")
        #expect(routed(result, host: "a.example.com", path: "/API/v1/x").backend == "apps/regex:80")
        #expect(routed(result, host: "a.example.com", path: "/api/v10").backend == "apps/exact:80")
    }

    /// Work per host grows with the square of its patterns, so a host with more than
    /// 1,000 is refused at its first path instead of running for hours.
    @Test func aHostWithMoreThanAThousandPatternsIsRefused() throws {
        var yaml = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: many, namespace: apps}\nspec:\n  ingressClassName: traefik\n  rules:\n  - host: a.example.com\n    http:\n      paths:\n"
        for index in 0...DecisionBuilder.maxPatternsPerHost {
            yaml += "      - {path: /p\(index), pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}\n"
        }
        let (result, diagnostics) = convertManifests(yaml)
        #expect(result == nil)
        #expect(diagnostics.errors.first?.description.hasPrefix("in.yaml:10:9: error: a.example.com has 1001 distinct path patterns") == true, "\(diagnostics.errors)")
    }

    @Test func withStrictPrefixMatchingAdministratorIsPublic() throws {
        let (result, _) = convertManifests(Self.adminBehindAuth, importer: IngressImporter(strictPrefix: true))
        #expect(routed(result, host: "a.example.com", path: "/administrator") == ("apps/app:80", false))
        #expect(routed(result, host: "a.example.com", path: "/admin/x") == ("apps/app:80", true))
    }

    @Test func middlewareReferencesResolveAgainstTheInputWhenNamesHaveDashes() throws {
        let yaml = """
            ---
            apiVersion: traefik.io/v1alpha1
            kind: Middleware
            metadata: {name: sso-auth, namespace: my-apps}
            spec: {forwardAuth: {address: "http://auth.my-apps.svc.cluster.local:80/check"}}

            """ + ingress("x", namespace: "my-apps", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "my-apps-sso-auth@kubernetescrd"])
        let (result, diagnostics) = convertManifests(yaml)
        #expect(diagnostics.warnings.isEmpty, "\(diagnostics.warnings)")
        #expect(routed(result, host: "a.example.com", path: "/") == ("my-apps/app:80", true))
    }

    /// Traefik disables a router whose Middleware does not exist and applies it when it
    /// does: a Middleware the input lacks, or one of another provider, leaves the
    /// requests unknown — never converted as if it were not there.
    @Test func aMiddlewareTheInputLacksMakesThePathsUnknown() throws {
        let yaml = ingress("x", namespace: "my-apps", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "my-apps-rate-limit@kubernetescrd, other@file"])
        let (result, _) = convertManifests(yaml)
        let unknown = try #require(result?.failures.first { $0.kind == .unknown })
        #expect(unknown.unknown.map(\.construct) == ["Middleware 'my-apps-rate-limit@kubernetescrd'", "Middleware 'other@file'"])
        #expect(unknown.message.contains("add it to the input (kubectl get middlewares.traefik.io -A -o yaml)"))
        #expect(unknown.message.contains("Traefik's file provider"))
    }

    /// A name without `@provider` is looked up as NAME@kubernetes, which never exists:
    /// Traefik disables the router, and the path goes to whatever else matches it.
    @Test func aMiddlewareWithoutProviderDisablesTheRouterAsTraefikDoes() throws {
        let yaml = forwardAuthMiddleware + ingress("open", path: "/", service: "open")
            + ingress("guarded", path: "/admin", service: "admin", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "sso"])
        let (result, diagnostics) = convertManifests(yaml)
        #expect(routed(result, host: "a.example.com", path: "/admin/x") == ("apps/open:80", false))
        #expect(diagnostics.warnings.contains { $0.message.contains("Middleware 'sso' has no @provider, so Traefik looks it up as sso@kubernetes") })
    }

    @Test func anUnknownRouterKeyMakesTraefikSkipTheWholeIngress() throws {
        let yaml = forwardAuthMiddleware + ingress("typo", annotations: ["traefik.ingress.kubernetes.io/router.middleware": "apps-sso@kubernetescrd"])
        let (result, diagnostics) = convertManifests(yaml)
        #expect(result?.plan.sites.isEmpty != false)
        #expect(diagnostics.warnings.contains { $0.message.contains("router.middleware is not one Traefik knows, so Traefik skipped this whole Ingress") })
    }

    @Test func routerKeysMatchWithoutRegardToCase() throws {
        let yaml = forwardAuthMiddleware + ingress("x", annotations: ["traefik.ingress.kubernetes.io/router.Middlewares": "apps-sso@kubernetescrd"])
        let (result, _) = convertManifests(yaml)
        #expect(routed(result, host: "a.example.com", path: "/") == ("apps/app:80", true))
    }

    @Test func chainsRewritesAndHeadersBecomeFiltersAndOtherKindsAreCopied() throws {
        let yaml = stripAppMiddleware + """
            ---
            apiVersion: traefik.io/v1alpha1
            kind: Middleware
            metadata: {name: hdr, namespace: apps}
            spec: {headers: {customRequestHeaders: {X-Env: prod, X-Drop: ""}, customResponseHeaders: {Server: ""}}}
            ---
            apiVersion: traefik.io/v1alpha1
            kind: Middleware
            metadata: {name: limit, namespace: apps}
            spec: {rateLimit: {average: 100}}
            ---
            apiVersion: traefik.io/v1alpha1
            kind: Middleware
            metadata: {name: all, namespace: apps}
            spec: {chain: {middlewares: [{name: strip}, {name: hdr}, {name: limit}]}}

            """ + ingress("x", path: "/app", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "apps-all@kubernetescrd"])
        let (result, diagnostics) = convertManifests(yaml)
        #expect(!diagnostics.hasErrors)
        let route = try #require(result?.emission.routes.first)
        let rule = try #require(route.rules.first { !$0.backendRefs.isEmpty })
        #expect(rule.filters.contains(.requestHeaderModifier(HeaderChanges(set: [HeaderValue(name: "X-Env", value: "prod")], remove: ["X-Drop"]))))
        #expect(rule.filters.contains(.responseHeaderModifier(HeaderChanges(remove: ["Server"]))))
        #expect(rule.filters.contains(.extensionRef(middleware: "limit")))
        #expect(result?.emission.objects.contains { $0.kind == "Middleware" && $0.name == "limit" } == true)
        // The strip happens: /app/x reaches the backend as /x.
        #expect(result?.failures.isEmpty == true)
        #expect(result?.findings.contains { $0.kind == .rewriteDiffers } == false)
    }

    @Test(arguments: [
        ("traefik.ingress.kubernetes.io/router.priority", "10", "warning: router.priority 10 is not migrated"),
        ("traefik.ingress.kubernetes.io/router.tls", "true", "note: router.tls: TLS is the Gateway listener's job"),
        ("traefik.ingress.kubernetes.io/service.sticky.cookie", "true", "warning: Traefik annotation service.sticky.cookie has no effect on an Ingress (Traefik reads only router.* there; service.* annotations belong on the Service)"),
        ("traefik.ingress.kubernetes.io/router.observability.accesslogs", "false", "warning: Traefik annotation router.observability.accesslogs is not migrated"),
    ])
    func traefikAnnotationsThatCannotBeMigratedAreSaid(_ key: String, _ value: String, _ expected: String) throws {
        let (_, diagnostics) = convertManifests(ingress("x", annotations: [key: value]))
        #expect(diagnostics.all.contains { $0.description.contains(expected) }, "\(diagnostics.all.map(\.description))")
        #expect(diagnostics.all.allSatisfy { $0.location?.file == "in.yaml" || $0.location == nil })
    }

    @Test func anUnknownPathMatcherIsAnErrorAtItsLine() throws {
        let (result, diagnostics) = convertManifests(ingress("x", annotations: ["traefik.ingress.kubernetes.io/router.pathmatcher": "Glob"]))
        #expect(result == nil)
        #expect(diagnostics.errors.first?.description.hasPrefix("in.yaml:8:") == true)
    }

    @Test func aBasicAuthMiddlewareCopiedElsewhereSaysItsSecretStaysBehind() throws {
        let yaml = """
            ---
            apiVersion: traefik.io/v1alpha1
            kind: Middleware
            metadata: {name: users, namespace: auth}
            spec: {basicAuth: {secret: htpasswd}}

            """ + ingress("x", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "auth-users@kubernetescrd"])
        let (result, diagnostics) = convertManifests(yaml)
        #expect(routed(result, host: "a.example.com", path: "/") == ("apps/app:80", true))
        #expect(diagnostics.warnings.contains { $0.message.hasPrefix("Middleware auth/users is copied into namespace apps, but its Secret htpasswd stays in auth") })
    }

    @Test func redirectSchemeBecomesARouteOfItsOwnOnTheHTTPListener() throws {
        let yaml = """
            ---
            apiVersion: traefik.io/v1alpha1
            kind: Middleware
            metadata: {name: to-https, namespace: apps}
            spec: {redirectScheme: {scheme: https, permanent: true}}

            """ + ingress("x", annotations: [
                "traefik.ingress.kubernetes.io/router.middlewares": "apps-to-https@kubernetescrd",
                "traefik.ingress.kubernetes.io/router.entrypoints": "web,websecure",
            ])
        let (result, _) = convertManifests(yaml)
        let routes = try #require(result?.emission.routes)
        #expect(routes.map { $0.parentRefs.map(\.sectionName) } == [["websecure"], ["web"]])
        let redirect = try #require(routes.last?.rules.first)
        #expect(redirect.filters == [.requestRedirect(Redirect(status: 301, scheme: "https"))])
        #expect(redirect.backendRefs.isEmpty)
        // Never a RequestRedirect on a rule with backends (the CRD forbids it).
        #expect(!routes.flatMap(\.rules).contains { rule in !rule.backendRefs.isEmpty && rule.filters.contains { if case .requestRedirect = $0 { return true }; return false } })
        #expect(result?.failures.isEmpty == true)
    }

    @Test func entryPointsBecomeListenersThroughTheMapping() throws {
        var options = TraefikOptions()
        options.entryPointListeners = ["websecure": "https"]
        let (result, _) = convertManifests(ingress("x", annotations: ["traefik.ingress.kubernetes.io/router.entrypoints": "websecure"]), options: options)
        #expect(result?.emission.routes.first?.parentRefs.map(\.sectionName) == ["https"])
    }

    @Test func tlsNamesTheSecretTheListenerNeeds() throws {
        let yaml = ingress("x").replacingOccurrences(of: "spec:\n", with: "spec:\n  tls:\n  - hosts: [a.example.com]\n    secretName: a-tls\n")
        let (_, diagnostics) = convertManifests(yaml)
        #expect(diagnostics.all.contains { $0.message.contains("uses Secret apps/a-tls") })
    }

    @Test func otherClassesAreSkippedAndIngressClassNarrows() throws {
        let yaml = ingress("t", host: "t.example.com") + ingress("n", host: "n.example.com", className: "nginx") + ingress("h", host: "h.example.com", className: "haproxy")
        let (all, diagnostics) = convertManifests(yaml)
        #expect(all?.plan.sites.flatMap(\.hosts) == ["n.example.com", "t.example.com"])
        #expect(diagnostics.warnings.contains { $0.message.contains("class 'haproxy', and the input has no IngressClass saying which controller serves it; skipped (--ingress-controller haproxy=traefik|nginx says it)") })
        let (narrow, _) = convertManifests(yaml, importer: IngressImporter(ingressClass: "nginx"))
        #expect(narrow?.plan.sites.flatMap(\.hosts) == ["n.example.com"])
    }

    @Test func nginxAuthURLForAuthentikBecomesTraefiksEndpoint() throws {
        let yaml = ingress("x", className: "nginx", annotations: [
            "nginx.ingress.kubernetes.io/auth-url": "http://outpost.authentik.svc.cluster.local:9000/outpost.goauthentik.io/auth/nginx",
            "nginx.ingress.kubernetes.io/auth-response-headers": "X-authentik-username, X-authentik-groups",
            "nginx.ingress.kubernetes.io/auth-signin": "https://a.example.com/outpost.goauthentik.io/start?rd=$escaped_request_uri",
            "nginx.ingress.kubernetes.io/auth-snippet": "proxy_set_header X-Test 1;",
            "nginx.ingress.kubernetes.io/auth-method": "POST",
            "nginx.ingress.kubernetes.io/auth-cache-key": "$remote_user",
            "nginx.ingress.kubernetes.io/proxy-body-size": "10m",
        ])
        let (result, diagnostics) = convertManifests(yaml)
        let middleware = try #require(result?.emission.objects.first { $0.kind == "Middleware" })
        let text = YAMLWriter.document(middleware.yaml)
        #expect(text.contains("address: http://outpost.authentik.svc.cluster.local:9000/outpost.goauthentik.io/auth/traefik"))
        #expect(text.contains("- X-authentik-username\n    - X-authentik-groups"))
        #expect(!text.contains("authSigninURL"))
        let messages = diagnostics.all.map(\.message)
        #expect(messages.contains { $0.hasPrefix("auth-signin is not needed with Traefik") })
        #expect(messages.contains { $0.hasPrefix("auth-snippet is nginx configuration") })
        #expect(messages.contains { $0.hasPrefix("auth-method is not migrated") })
        #expect(messages.contains { $0.hasPrefix("auth-cache-key is not migrated") })
        #expect(messages.contains { $0 == "ingress-nginx annotation proxy-body-size is not migrated" })
        #expect(routed(result, host: "a.example.com", path: "/x") == ("apps/app:80", true))
    }

    @Test func nginxAuthSigninForOtherProvidersBecomesAuthSigninURL() throws {
        let yaml = ingress("x", className: "nginx", annotations: [
            "nginx.ingress.kubernetes.io/auth-url": "http://oauth2-proxy.auth.svc.cluster.local:4180/oauth2/auth",
            "nginx.ingress.kubernetes.io/auth-signin": "https://auth.example.com/oauth2/start",
        ])
        let (result, _) = convertManifests(yaml)
        let middleware = try #require(result?.emission.objects.first { $0.kind == "Middleware" })
        #expect(YAMLWriter.document(middleware.yaml).contains("authSigninURL: https://auth.example.com/oauth2/start"))
    }

    @Test func nginxPrefixIsSegmentWise() throws {
        let yaml = ingress("site", className: "nginx", annotations: ["nginx.ingress.kubernetes.io/auth-url": "http://auth.apps.svc.cluster.local:80/check"])
            + ingress("open", path: "/share", className: "nginx")
        let (result, _) = convertManifests(yaml)
        #expect(routed(result, host: "a.example.com", path: "/share/x") == ("apps/app:80", false))
        #expect(routed(result, host: "a.example.com", path: "/shared") == ("apps/app:80", true))
    }

    @Test func aNamedPortWithoutItsServiceIsAnErrorAtTheBackend() throws {
        let (result, diagnostics) = convertManifests(ingress("x", port: "{name: http}"))
        #expect(result == nil)
        let error = try #require(diagnostics.errors.first)
        #expect(error.description.hasPrefix("in.yaml:15:18: error: backend app names port 'http', and Service apps/app is not in the input"))
    }

    @Test(arguments: [
        ("spec:\n  rules: oops\n", "in.yaml:6:10: error: spec.rules must be a list"),
        ("spec:\n  rules:\n  - host: a.com\n    http: {paths: {a: b}}\n", "in.yaml:8:19: error: http.paths must be a list"),
        ("  annotations: [a]\nspec: {}\n", "in.yaml:5:16: error: metadata.annotations must be a mapping"),
    ])
    func aWrongTypeWhereAListOrMappingBelongsIsAPositionedError(_ tail: String, _ expected: String) throws {
        let yaml = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: x\n" + tail
        let (result, diagnostics) = convertManifests(yaml)
        #expect(result == nil)
        #expect(diagnostics.errors.first?.description == expected)
    }

    @Test func legacyServiceNameAndServicePortAreRead() throws {
        let yaml = """
            apiVersion: extensions/v1beta1
            kind: Ingress
            metadata: {name: old, namespace: apps}
            spec:
              rules:
              - host: a.example.com
                http:
                  paths:
                  - path: /
                    backend: {serviceName: app, servicePort: 8080}
            """
        let (result, _) = convertManifests(yaml)
        #expect(routed(result, host: "a.example.com", path: "/") == ("apps/app:8080", false))
    }
}
