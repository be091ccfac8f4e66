@testable import AuthgateCore
import Foundation
import Testing

/// Which controller served an Ingress decides what its annotations and paths meant:
/// IngressClass objects first, then the flags, then the class name, and for an Ingress
/// without a class the default class, else the annotations it carries — and where
/// nothing tells, the paths the two controllers route differently are unknown.
struct IngressControllerTests {
    static func ingressClass(_ name: String, controller: String, isDefault: Bool = false) -> String {
        var text = "---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: \(name)\n"
        if isDefault { text += "  annotations:\n    ingressclass.kubernetes.io/is-default-class: \"true\"\n" }
        return text + "spec:\n  controller: \(controller)\n"
    }

    static let nginxAuth = ["nginx.ingress.kubernetes.io/auth-url": "http://authelia.auth.svc.cluster.local:9091/api/authz/auth-request"]

    static func isProtected(_ result: Conversion.Result?, host: String = "a.example.com", path: String = "/") -> Bool {
        routed(result, host: host, path: path).protected
    }

    @Test func aClassLessIngressTakesTheDefaultIngressClassesController() throws {
        // ingress-nginx is the default: its auth-url protects the class-less Ingress.
        let yaml = Self.ingressClass("public", controller: "k8s.io/ingress-nginx", isDefault: true)
            + ingress("app", className: nil, annotations: Self.nginxAuth)
        let (result, diagnostics) = convertManifests(yaml)
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(Self.isProtected(converted))
        #expect(!diagnostics.all.contains { $0.message.contains("no default class") })
    }

    @Test func aClassLessIngressWithNginxAnnotationsIsReadAsNginxsNeverStrippedOfItsAuth() throws {
        let (result, diagnostics) = convertManifests(ingress("app", className: nil, annotations: Self.nginxAuth))
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(Self.isProtected(converted))
        let warning = try #require(diagnostics.warnings.first { $0.message.contains("'apps/app' has no class") })
        #expect(warning.message.contains("read as ingress-nginx's, whose annotations it carries"))
        #expect(warning.message.contains("--default-ingress-class CLASS"))
    }

    @Test func aClassLessIngressWithBothFamiliesIsUnknown() throws {
        var annotations = Self.nginxAuth
        annotations["traefik.ingress.kubernetes.io/router.entrypoints"] = "websecure"
        let (result, _) = convertManifests(ingress("app", className: nil, annotations: annotations))
        let converted = try #require(result)
        let unknown = try #require(converted.failures.first { $0.kind == .unknown })
        #expect(unknown.unknown.first?.construct == "Ingress 'apps/app' without a class")
        #expect(unknown.message.contains("both Traefik and ingress-nginx annotations"))
    }

    @Test func aClassLessIngressWithoutAnnotationsIsUnknownOnlyWhereTheControllersDiffer() throws {
        // Traefik's Prefix /api takes /apix, ingress-nginx's does not; / and /api/x agree.
        let yaml = ingress("api", path: "/api", service: "api", className: nil)
            .replacingOccurrences(of: "      - path: /api\n", with: "      - path: /\n        pathType: Prefix\n        backend: {service: {name: web, port: {number: 80}}}\n      - path: /api\n")
        let (result, _) = convertManifests(yaml)
        let converted = try #require(result)
        let unknown = try #require(converted.failures.first { $0.kind == .unknown })
        #expect(unknown.paths.allSatisfy { $0.hasPrefix("/api") && !$0.hasPrefix("/api/") && $0 != "/api" })
        #expect(!unknown.paths.isEmpty)
        // Saying which controller it was resolves it.
        var importer = IngressImporter()
        importer.defaultClass = "traefik"
        let (resolved, _) = convertManifests(yaml, importer: importer)
        #expect(try #require(resolved).failures.isEmpty)
    }

    @Test func theIngressClassControllerDecidesOverTheClassName() throws {
        // `internal-nginx` is served by Traefik here, so its nginx annotation did nothing
        // and the Traefik Middleware protected it.
        let yaml = Self.ingressClass("internal-nginx", controller: "traefik.io/ingress-controller") + forwardAuthMiddleware
            + ingress("app", className: "internal-nginx", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "apps-sso@kubernetescrd"])
        let (result, diagnostics) = convertManifests(yaml)
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(Self.isProtected(converted))
        #expect(!diagnostics.all.contains { $0.message.contains("from its name") })
    }

    @Test func aClassOfAnotherControllerIsSkippedNamingTheFlag() throws {
        let yaml = Self.ingressClass("alb", controller: "ingress.k8s.aws/alb") + ingress("app", className: "alb", annotations: Self.nginxAuth)
        let (result, diagnostics) = convertManifests(yaml)
        #expect(result?.plan.sites.isEmpty != false)
        #expect(diagnostics.warnings.contains { $0.message.contains("controller 'ingress.k8s.aws/alb'") && $0.message.contains("--ingress-controller alb=traefik|nginx") })
    }

    @Test func theControllerFlagPlacesAClassTheInputDoesNotDescribe() throws {
        var importer = IngressImporter()
        importer.controllers = ["internal": .nginx]
        let (result, diagnostics) = convertManifests(ingress("app", className: "internal", annotations: Self.nginxAuth), importer: importer)
        let converted = try #require(result)
        #expect(Self.isProtected(converted))
        #expect(!diagnostics.warnings.contains { $0.message.contains("'internal'") })
    }

    @Test func anUnknownClassWithOneFamilyOfAnnotationsIsReadAsThatFamilyWithAWarning() throws {
        let (result, diagnostics) = convertManifests(ingress("app", className: "external", annotations: Self.nginxAuth))
        #expect(Self.isProtected(try #require(result)))
        #expect(diagnostics.warnings.contains { $0.message.contains("class 'external'") && $0.message.contains("--ingress-controller external=traefik") })
    }

    @Test func ingressClassNginxTakesClassLessIngressesWhenNginxIsTheDefault() throws {
        let yaml = Self.ingressClass("nginx", controller: "k8s.io/ingress-nginx", isDefault: true)
            + ingress("plain", host: "p.example.com", className: nil, annotations: Self.nginxAuth)
            + ingress("traefik", host: "t.example.com", className: "traefik")
        let (result, _) = convertManifests(yaml, importer: IngressImporter(ingressClass: "nginx"))
        #expect(result?.plan.sites.flatMap(\.hosts) == ["p.example.com"])
    }

    @Test func twoDefaultClassesMakeNoDefault() throws {
        let yaml = Self.ingressClass("a", controller: "k8s.io/ingress-nginx", isDefault: true) + Self.ingressClass("b", controller: "traefik.io/ingress-controller", isDefault: true)
            + ingress("app", className: nil, annotations: Self.nginxAuth)
        let (result, diagnostics) = convertManifests(yaml)
        #expect(diagnostics.warnings.contains { $0.message.contains("IngressClasses a, b are all marked is-default-class") })
        #expect(Self.isProtected(try #require(result)))
    }
}

/// ingress-nginx's `auth-url`, read as nginx runs it.
struct NginxAuthURLTests {
    static func authAddress(_ result: Conversion.Result?) -> [String] {
        let lines = (result?.yaml ?? "").split(separator: "\n").map(String.init)
        return lines.filter { $0.hasPrefix("    address: ") }.map { String($0.dropFirst("    address: ".count)) }
    }

    @Test func theQueryStringIsKeptAndTellsProvidersApart() throws {
        let yaml = ingress("admin", host: "admin.example.com", className: "nginx", annotations: ["nginx.ingress.kubernetes.io/auth-url": "http://oauth2-proxy.auth.svc.cluster.local:4180/oauth2/auth?allowed_groups=admins"])
            + ingress("wiki", host: "wiki.example.com", className: "nginx", annotations: ["nginx.ingress.kubernetes.io/auth-url": "http://oauth2-proxy.auth.svc.cluster.local:4180/oauth2/auth"])
        let (result, _) = convertManifests(yaml)
        #expect(Self.authAddress(result).sorted() == [
            "http://oauth2-proxy.auth.svc.cluster.local:4180/oauth2/auth",
            "http://oauth2-proxy.auth.svc.cluster.local:4180/oauth2/auth?allowed_groups=admins",
        ])
    }

    @Test func hostMeansTheServiceTheSameHostRoutesTheAuthPathTo() throws {
        // oauth2-proxy's documented setup: its own Ingress serves /oauth2 on the app's host.
        let yaml = ingress("app", className: "nginx", annotations: [
            "nginx.ingress.kubernetes.io/auth-url": "https://$host/oauth2/auth",
            "nginx.ingress.kubernetes.io/auth-signin": "https://$host/oauth2/start?rd=$escaped_request_uri",
        ]) + ingress("oauth2-proxy", path: "/oauth2", service: "oauth2-proxy", port: "{number: 4180}", className: "nginx")
        let (result, _) = convertManifests(yaml)
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(Self.authAddress(converted) == ["http://oauth2-proxy.apps.svc.cluster.local:4180/oauth2/auth"])
        // Traefik uses authSigninURL as written: $host is the router's host, and the rd=
        // parameter nginx filled in per request is left out.
        #expect(converted.yaml.contains("authSigninURL: https://a.example.com/oauth2/start\n"))
        #expect(routed(converted, host: "a.example.com", path: "/").protected)
        #expect(!routed(converted, host: "a.example.com", path: "/oauth2/start").protected)
    }

    @Test func hostWithoutARouteForTheAuthPathIsUnknown() throws {
        let (result, _) = convertManifests(ingress("app", className: "nginx", annotations: ["nginx.ingress.kubernetes.io/auth-url": "https://$host/oauth2/auth"]))
        let unknown = try #require(result?.failures.first { $0.kind == .unknown })
        #expect(unknown.message.contains("a.example.com/oauth2/auth is itself behind auth in the input"))
        let (narrow, _) = convertManifests(ingress("app", path: "/app", className: "nginx", annotations: ["nginx.ingress.kubernetes.io/auth-url": "https://$host/oauth2/auth"]))
        let unrouted = try #require(narrow?.failures.first { $0.kind == .unknown })
        #expect(unrouted.message.contains("no Ingress in the input routes a.example.com/oauth2/auth to a Service"))
    }

    @Test func anyOtherVariableInAuthURLIsUnknown() throws {
        let (result, _) = convertManifests(ingress("app", className: "nginx", annotations: ["nginx.ingress.kubernetes.io/auth-url": "http://auth.auth.svc.cluster.local/verify?uri=$request_uri"]))
        let unknown = try #require(result?.failures.first { $0.kind == .unknown })
        #expect(unknown.message.contains("nginx fills in $request_uri for each request"))
    }

    @Test(arguments: ["http://auth service.auth:80/verify", "ftp://auth/verify", "auth.example.com/verify", "https:///verify"])
    func anAuthURLThatIsNoURLIsBadInput(_ url: String) throws {
        let (result, diagnostics) = convertManifests(ingress("app", className: "nginx", annotations: ["nginx.ingress.kubernetes.io/auth-url": url]))
        #expect(result == nil)
        let error = try #require(diagnostics.errors.first)
        #expect(error.message.hasPrefix("auth-url '\(url)' is not an http:// or https:// URL"))
        #expect(error.location?.line == 8)
    }

    @Test func nginxVariablesAreFoundInBothSpellings() {
        #expect(NginxAuthAnnotations.variables(in: "https://$host/x?rd=${escaped_request_uri}&a=$arg_b") == ["$host", "$escaped_request_uri", "$arg_b"])
        #expect(NginxAuthAnnotations.variables(in: "https://a/$") == [])
    }
}

/// ingress-nginx's access annotations besides auth-url: basic and digest auth, the
/// client address lists, client certificates, snippets, and its redirects.
struct NginxAccessTests {
    static func nginx(_ annotations: [String: String], path: String = "/", tls: Bool = false) -> String {
        var text = ingress("app", path: path, className: "nginx", annotations: annotations)
        if tls { text = text.replacingOccurrences(of: "spec:\n", with: "spec:\n  tls:\n  - hosts: [a.example.com]\n    secretName: a-tls\n") }
        return text
    }

    static let htpasswd = """
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: basic-auth, namespace: apps}
        type: Opaque
        data:
          auth: \(Data("alice:$apr1$x9Yq2KQz$Dfgj8ZkzJKm7n3pB6b1Cf.\nbob:$2y$05$abcdefghijklmnopqrstuu5Z6ZgKlQm0l9g6Qq3K0mE1pSx8vW4yG\n".utf8).base64EncodedString())

        """

    @Test func basicAuthBecomesATraefikBasicAuthWithTheUsersOfTheSecret() throws {
        let yaml = Self.htpasswd + Self.nginx(["nginx.ingress.kubernetes.io/auth-type": "basic", "nginx.ingress.kubernetes.io/auth-secret": "basic-auth", "nginx.ingress.kubernetes.io/auth-realm": "Staff only"])
        let (result, diagnostics) = convertManifests(yaml)
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(routed(converted, host: "a.example.com", path: "/x").protected)
        #expect(converted.yaml.contains("users: |\n    alice:$apr1$x9Yq2KQz$Dfgj8ZkzJKm7n3pB6b1Cf.\n    bob:$2y$05$"))
        #expect(converted.yaml.contains("basicAuth:\n    secret: basic-auth-users\n    realm: Staff only"))
        #expect(!diagnostics.warnings.contains { $0.message.contains("auth-type") })
    }

    @Test func anAuthMapSecretAndDigestAuthAreReadToo() throws {
        let yaml = """
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: users, namespace: apps}
            stringData: {carol: "$2y$05$abcdefghijklmnopqrstuu5Z6ZgKlQm0l9g6Qq3K0mE1pSx8vW4yG"}

            """ + Self.nginx(["nginx.ingress.kubernetes.io/auth-type": "digest", "nginx.ingress.kubernetes.io/auth-secret": "apps/users", "nginx.ingress.kubernetes.io/auth-secret-type": "auth-map"])
        let (result, _) = convertManifests(yaml)
        let converted = try #require(result)
        #expect(converted.yaml.contains("digestAuth:"))
        #expect(converted.yaml.contains("carol:$2y$05$"))
        #expect(routed(converted, host: "a.example.com", path: "/").protected)
    }

    @Test func aBasicAuthSecretTheInputLacksKeepsTheAuthAndSaysHowToFillIt() throws {
        let (result, diagnostics) = convertManifests(Self.nginx(["nginx.ingress.kubernetes.io/auth-type": "basic", "nginx.ingress.kubernetes.io/auth-secret": "basic-auth"]))
        #expect(routed(result, host: "a.example.com", path: "/").protected)
        #expect(diagnostics.warnings.contains { $0.message.contains("Secret apps/basic-auth with the users is not in the input") && $0.message.contains("base64 -d") })
    }

    @Test func anAllowListBecomesAnIPAllowListAndCountsAsProtection() throws {
        let (result, _) = convertManifests(Self.nginx(["nginx.ingress.kubernetes.io/whitelist-source-range": "10.0.0.0/8, 192.168.1.0/24\n"]))
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(converted.yaml.contains("ipAllowList:\n    sourceRange:\n    - 10.0.0.0/8\n    - 192.168.1.0/24"))
        #expect(converted.plan.sites[0].decisions.allSatisfy { $0.outcome.upstreams.isEmpty || $0.outcome.isProtected })
    }

    @Test func aBadRangeIsBadInput() {
        let (result, diagnostics) = convertManifests(Self.nginx(["nginx.ingress.kubernetes.io/allowlist-source-range": "10.0.0.0/8,lan"]))
        #expect(result == nil)
        #expect(diagnostics.errors.first?.message == "'lan' in allowlist-source-range is not an IP address or CIDR range")
    }

    @Test(arguments: [
        ("nginx.ingress.kubernetes.io/denylist-source-range", "203.0.113.0/24", "denylist-source-range"),
        ("nginx.ingress.kubernetes.io/auth-tls-secret", "apps/ca", "auth-tls-secret (client certificates)"),
        ("nginx.ingress.kubernetes.io/server-snippet", "location /admin { deny all; }", "server-snippet (deny, location)"),
        ("nginx.ingress.kubernetes.io/configuration-snippet", "if ($http_x_token != s3cret) { return 403; }", "configuration-snippet (if, return)"),
    ])
    func accessTheOutputCannotExpressIsUnknown(_ key: String, _ value: String, _ construct: String) throws {
        let (result, _) = convertManifests(Self.nginx([key: value]))
        let unknown = try #require(result?.failures.first { $0.kind == .unknown })
        #expect(unknown.unknown.map(\.construct) == [construct])
    }

    @Test func aSnippetWithoutAccessDirectivesIsAWarning() throws {
        let (result, diagnostics) = convertManifests(Self.nginx(["nginx.ingress.kubernetes.io/configuration-snippet": "more_set_headers X-Frame-Options:DENY; proxy_set_header X-Forwarded-Prefix /;"]))
        #expect(result?.failures.isEmpty == true)
        #expect(diagnostics.warnings.contains { $0.message.contains("configuration-snippet is nginx configuration and cannot be migrated") })
        #expect(NginxAuthAnnotations.directives(in: "more_set_headers \"a; deny\";\n# deny all;\nallow 10.0.0.0/8; deny all;") == ["more_set_headers", "allow", "deny"])
    }

    @Test func anIngressWithTLSRedirectsPlainHTTPToHTTPSByDefault() throws {
        let (result, _) = convertManifests(Self.nginx([:], tls: true))
        #expect(result?.plan.sites.first?.httpsRedirect == 308)
        let (off, _) = convertManifests(Self.nginx(["nginx.ingress.kubernetes.io/ssl-redirect": "false"], tls: true))
        #expect(off?.plan.sites.first?.httpsRedirect == nil)
        let (forced, _) = convertManifests(Self.nginx(["nginx.ingress.kubernetes.io/force-ssl-redirect": "true"]))
        #expect(forced?.plan.sites.first?.httpsRedirect == 308)
    }

    @Test func permanentRedirectAndAppRootAnswerWithRedirects() throws {
        let (moved, _) = convertManifests(Self.nginx(["nginx.ingress.kubernetes.io/permanent-redirect": "https://new.example.com/start"]))
        let movedConverted = try #require(moved)
        #expect(movedConverted.failures.isEmpty)
        #expect(movedConverted.yaml.contains("hostname: new.example.com"))
        #expect(movedConverted.yaml.contains("statusCode: 301"))
        let (root, _) = convertManifests(Self.nginx(["nginx.ingress.kubernetes.io/app-root": "/dashboard"]))
        let rootConverted = try #require(root)
        #expect(rootConverted.failures.isEmpty)
        #expect(rootConverted.plan.sites[0].decisions.contains { $0.match == .exact("/") && $0.outcome.terminal == .redirect(Redirect(status: 302, path: "/dashboard")) })
        #expect(routed(rootConverted, host: "a.example.com", path: "/x").backend == "apps/app:80")
    }
}

/// Flux's postBuild substitution: `${VAR}` in manifests is filled from the environment,
/// and one nothing fills is an error where it stands in a host, a name or a URL.
struct PostBuildSubstitutionTests {
    static func convert(_ yaml: String, environment: [String: String]) -> (Conversion.Result?, Diagnostics) {
        var diagnostics = Diagnostics()
        let conversion = Conversion(fileSystem: InMemoryFileSystem([:]), environment: environment, forcedKind: .manifests, options: TraefikOptions())
        let result = conversion.run([.init(path: "in.yaml", bytes: Array(yaml.utf8))], diagnostics: &diagnostics)
        return (result, diagnostics)
    }

    @Test func variablesAreFilledFromTheEnvironment() throws {
        let yaml = ingress("app", host: "app.${SECRET_DOMAIN}", className: "nginx", annotations: ["nginx.ingress.kubernetes.io/auth-url": "http://authelia.auth.svc.cluster.local:9091/api/verify?rd=https://auth.${SECRET_DOMAIN:=example.org}"])
        let (result, diagnostics) = Self.convert(yaml, environment: ["SECRET_DOMAIN": "example.com"])
        let converted = try #require(result)
        #expect(converted.plan.sites.flatMap(\.hosts) == ["app.example.com"])
        #expect(converted.yaml.contains("/api/verify?rd=https://auth.example.com"))
        #expect(diagnostics.all.contains { $0.message == "filled in ${SECRET_DOMAIN} from the environment, as Flux's postBuild substitution would" })
    }

    @Test func anUnsetVariableInAHostIsAnErrorNamingIt() throws {
        let (result, diagnostics) = Self.convert(ingress("app", host: "app.${SECRET_DOMAIN}"), environment: [:])
        #expect(result == nil)
        let error = try #require(diagnostics.errors.first)
        #expect(error.message == "host 'app.${SECRET_DOMAIN}' holds ${SECRET_DOMAIN}, which nothing filled in: set SECRET_DOMAIN in the environment or an --env-file, as Flux's postBuild substitution (or envsubst) would")
        #expect(error.location?.line == 10)
    }

    @Test func bashStyleOperationsAskForARenderedInput() throws {
        let (_, diagnostics) = Self.convert(ingress("app", host: "app.${DOMAIN//./-}"), environment: ["DOMAIN": "example.com"])
        #expect(diagnostics.errors.first?.message.contains("render the manifests first (flux build kustomization, or envsubst)") == true)
    }

    @Test func anEscapedVariableStaysLiteral() {
        #expect(PostBuildSubstitution.apply("a $${X} b ${X}", environment: ["X": "1"]).text == "a ${X} b 1")
        #expect(PostBuildSubstitution.apply("${Y:-d} ${Z:=e} ${W}", environment: ["Y": ""]).text == "d e ${W}")
    }

    @Test func anInvalidHostIsBadInputNotADroppedHost() throws {
        let (result, diagnostics) = Self.convert(ingress("app", host: "__INGRESS_HOST__"), environment: [:])
        #expect(result == nil)
        #expect(diagnostics.errors.first?.message.contains("is not a host name") == true)
    }
}

/// Traefik 1.7's annotations, read as 1.7 ran them (later Traefiks ignore them, so
/// reading them can only add protection).
struct TraefikV1AnnotationTests {
    @Test func forwardAuthOfTraefik1IsAForwardAuth() throws {
        let (result, diagnostics) = convertManifests(ingress("app", className: "traefik", annotations: [
            "ingress.kubernetes.io/auth-type": "forward",
            "ingress.kubernetes.io/auth-url": "http://traefik-forward-auth.auth.svc.cluster.local:4181",
            "ingress.kubernetes.io/auth-response-headers": "X-Forwarded-User",
        ]))
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(routed(converted, host: "a.example.com", path: "/").protected)
        #expect(converted.yaml.contains("address: http://traefik-forward-auth.auth.svc.cluster.local:4181/"))
        #expect(diagnostics.warnings.contains { $0.message.contains("Traefik 2 and later ignore Traefik 1.7's annotations") })
    }

    @Test func basicAuthAndTheAllowListOfTraefik1AreReadToo() throws {
        let (result, _) = convertManifests(ingress("app", className: "traefik", annotations: [
            "traefik.ingress.kubernetes.io/auth-type": "basic",
            "traefik.ingress.kubernetes.io/auth-secret": "users",
            "ingress.kubernetes.io/whitelist-source-range": "10.0.0.0/8",
        ]))
        let converted = try #require(result)
        #expect(converted.yaml.contains("basicAuth:"))
        #expect(converted.yaml.contains("ipAllowList:"))
        #expect(converted.failures.isEmpty)
    }
}

/// A directory with a kustomization.yaml is read as `kustomize build` reads it: its
/// resources only, its namespace on every namespaced object.
struct KustomizationTests {
    @Test func resourcesAndNamespaceAreApplied() throws {
        let files = InMemoryFileSystem([
            "app/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: media\nresources:\n- ingress.yaml\n- ../shared\npatches:\n- path: patch.yaml\n",
            "app/ingress.yaml": ingress("jellyfin", namespace: "default", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "media-sso@kubernetescrd"]),
            "app/unlisted.yaml": ingress("stray", host: "stray.example.com"),
            "shared/kustomization.yaml": "resources: [middleware.yaml]\n",
            "shared/middleware.yaml": forwardAuthMiddleware.replacingOccurrences(of: "namespace: apps", with: "namespace: other"),
        ])
        var diagnostics = Diagnostics()
        let conversion = Conversion(fileSystem: files, environment: [:], forcedKind: .manifests, options: TraefikOptions())
        let result = try #require(conversion.run([.init(path: "app")], diagnostics: &diagnostics))
        #expect(result.plan.sites.flatMap(\.hosts) == ["a.example.com"])
        #expect(routed(result, host: "a.example.com", path: "/") == ("media/app:80", true))
        #expect(diagnostics.warnings.contains { $0.message.contains("kustomization field 'patches' is not applied by authgate; run kustomize build app") })
    }
}

/// Traefik's ipAllowList (and v2's ipWhiteList) Middleware is protection the check sees.
struct TraefikAllowListTests {
    @Test func anIPAllowListMiddlewareCountsAsProtection() throws {
        let yaml = """
            ---
            apiVersion: traefik.containo.us/v1alpha1
            kind: Middleware
            metadata: {name: lan, namespace: apps}
            spec: {ipWhiteList: {sourceRange: [192.168.0.0/16]}}

            """ + ingress("nas", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "apps-lan@kubernetescrd"])
        let (result, _) = convertManifests(yaml)
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(converted.plan.sites[0].decisions.contains { $0.outcome.allowedSources == [IPRange("192.168.0.0/16")!] })
        #expect(converted.yaml.contains("ipAllowList:\n    sourceRange:\n    - 192.168.0.0/16"))
    }
}

/// Backends and controller-wide settings the Ingress alone does not show.
struct IngressBackendAndGlobalTests {
    @Test func anExternalNameBackendBecomesASelectorlessServiceWithAnFQDNEndpointSlice() throws {
        let yaml = """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: nas, namespace: apps}
            spec: {type: ExternalName, externalName: nas.lan.example.net, ports: [{name: http, port: 5000}]}

            """ + ingress("nas", service: "nas", port: "{name: http}", className: "nginx")
        let (result, _) = convertManifests(yaml)
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(converted.yaml.contains("addressType: FQDN"))
        #expect(converted.yaml.contains("- nas.lan.example.net"))
        #expect(!converted.yaml.contains("type: ExternalName"))
    }

    @Test func anOptOutOfGlobalAuthMakesTheOtherNginxIngressesUnknown() throws {
        let yaml = ingress("public", host: "p.example.com", className: "nginx", annotations: ["nginx.ingress.kubernetes.io/enable-global-auth": "false"])
            + ingress("app", host: "a.example.com", className: "nginx")
        let (result, _) = convertManifests(yaml)
        let unknown = try #require(result?.failures.first { $0.kind == .unknown })
        #expect(unknown.host == "a.example.com")
        #expect(unknown.unknown.first?.construct == "ingress-nginx's global-auth-url")
    }
}

/// ingress-nginx's rewrite-target: `rewrite "(?i)PATH" TARGET break;` replaces the path.
struct NginxRewriteTests {
    @Test func theDocumentedPrefixFormStripsThePrefix() throws {
        let yaml = ingress("app", path: "/something(/|$)(.*)", pathType: "ImplementationSpecific", className: "nginx", annotations: [
            "nginx.ingress.kubernetes.io/use-regex": "true", "nginx.ingress.kubernetes.io/rewrite-target": "/$2",
        ])
        let (result, _) = convertManifests(yaml)
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(converted.plan.sites[0].decisions.contains { $0.outcome.rewrites == [.stripPrefix("/something")] })
        #expect(NginxServers.rewrite(path: "/api/(.*)", target: "/$1") == .stripPrefix("/api"))
        #expect(NginxServers.rewrite(path: "/hook", target: "/hooks/flux") == .replacePath("/hooks/flux"))
    }

    @Test func anyOtherRewriteIsUnknown() throws {
        let yaml = ingress("app", path: "/v([0-9]+)/(.*)", pathType: "ImplementationSpecific", className: "nginx", annotations: ["nginx.ingress.kubernetes.io/rewrite-target": "/api/$2?v=$1"])
        let (result, _) = convertManifests(yaml)
        let unknown = try #require(result?.failures.first { $0.kind == .unknown })
        #expect(unknown.unknown.first?.construct == "rewrite-target '/api/$2?v=$1'")
    }
}

/// router.middlewares runs in the order written, and so does the rule's filter list.
struct TraefikMiddlewareOrderTests {
    @Test func aRateLimitWrittenBeforeTheAuthStaysBeforeIt() throws {
        let yaml = forwardAuthMiddleware + """
            ---
            apiVersion: traefik.io/v1alpha1
            kind: Middleware
            metadata: {name: limit, namespace: apps}
            spec: {rateLimit: {average: 10}}
            ---
            apiVersion: traefik.io/v1alpha1
            kind: Middleware
            metadata: {name: compress, namespace: apps}
            spec: {compress: {}}

            """ + ingress("app", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "apps-limit@kubernetescrd, apps-sso@kubernetescrd, apps-compress@kubernetescrd"])
        let (result, _) = convertManifests(yaml)
        let rule = try #require(result?.emission.routes.first?.rules.first { !$0.backendRefs.isEmpty })
        let names = rule.filters.compactMap { filter -> String? in if case .extensionRef(let name) = filter { return name }; return nil }
        #expect(names.firstIndex(of: "limit")! < names.firstIndex { $0.contains("sso") || $0.contains("forward") || $0.contains("auth") }!)
        #expect(names.last == "compress")
    }
}

/// `NAME@file`: Traefik's file-provider dynamic configuration given as an input.
struct FileProviderMiddlewareTests {
    @Test func aFileProviderForwardAuthResolvesAndIsCopiedIntoTheRoutesNamespace() throws {
        let yaml = """
            http:
              middlewares:
                authelia:
                  forwardAuth:
                    address: http://authelia.auth.svc.cluster.local:9091/api/authz/forward-auth
                    authResponseHeaders: [Remote-User]

            """ + ingress("app", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "authelia@file"])
        let (result, diagnostics) = convertManifests(yaml)
        let converted = try #require(result)
        #expect(converted.failures.isEmpty)
        #expect(routed(converted, host: "a.example.com", path: "/").protected)
        #expect(converted.yaml.contains("kind: Middleware\nmetadata:\n  name: authelia\n  namespace: apps"))
        #expect(diagnostics.all.contains { $0.message.contains("Traefik file-provider configuration: 1 Middleware read") })
    }
}


/// What the review found untested: kept outpost routes, ExternalName under Traefik, named
/// objects authgate does not convert, hashes Traefik cannot check, positioned errors.
struct IngressReviewTests {
    static let authentikMiddleware = """
        ---
        apiVersion: traefik.io/v1alpha1
        kind: Middleware
        metadata: {name: ak, namespace: apps}
        spec: {forwardAuth: {address: "http://ak-outpost.authentik.svc.cluster.local:9000/outpost.goauthentik.io/auth/traefik"}}

        """

    @Test func anOutpostRouteTheInputHasIsKeptNotReplaced() throws {
        let yaml = Self.authentikMiddleware
            + ingress("app", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "apps-ak@kubernetescrd"])
            + ingress("outpost", path: "/outpost.goauthentik.io", service: "my-outpost", port: "{number: 9000}")
        let (result, diagnostics) = convertManifests(yaml)
        let converted = try #require(result)
        #expect(routed(converted, host: "a.example.com", path: "/outpost.goauthentik.io/callback").backend == "apps/my-outpost:9000")
        #expect(!diagnostics.warnings.contains { $0.message.contains("authgate adds a route for /outpost.goauthentik.io/") })
        let (added, addedDiagnostics) = convertManifests(Self.authentikMiddleware + ingress("app", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "apps-ak@kubernetescrd"]))
        #expect(try #require(added).failures.isEmpty)
        #expect(addedDiagnostics.warnings.contains { $0.message.contains("in the input those paths were protected (authentik), then sent to apps/app:80") })
    }

    @Test func traefikSkipsAnExternalNameBackendUnlessTheProviderAllowedThem() throws {
        let yaml = forwardAuthMiddleware + """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: nas, namespace: apps}
            spec: {type: ExternalName, externalName: nas.lan.example.net, ports: [{port: 80}]}

            """ + ingress("app", annotations: ["traefik.ingress.kubernetes.io/router.middlewares": "apps-sso@kubernetescrd"])
            + ingress("nas", path: "/nas", service: "nas")
        let (skipped, diagnostics) = convertManifests(yaml)
        // Without allowExternalNameServices, /nas fell to the protected catch-all.
        #expect(routed(skipped, host: "a.example.com", path: "/nas/x") == ("apps/app:80", true))
        #expect(diagnostics.warnings.contains { $0.message.contains("--traefik-external-name-services") })
        var importer = IngressImporter()
        importer.traefikExternalNameServices = true
        let (served, _) = convertManifests(yaml, importer: importer)
        #expect(routed(served, host: "a.example.com", path: "/nas/x").protected == false)
        #expect(try #require(served).yaml.contains("addressType: FQDN"))
    }

    @Test func routingObjectsAuthgateDoesNotConvertAreNamed() throws {
        let route = """
            ---
            apiVersion: traefik.io/v1alpha1
            kind: IngressRoute
            metadata: {name: dashboard, namespace: traefik}
            spec: {routes: []}

            """
        let (_, diagnostics) = convertManifests(route + ingress("app"))
        #expect(diagnostics.warnings.contains { $0.message.hasPrefix("IngressRoute 'traefik/dashboard' is not converted") && $0.location?.line == 2 })
        let (none, onlyRoute) = convertManifests(route)
        #expect(none == nil)
        #expect(onlyRoute.errors.first?.message == "the manifests hold no Ingress, so there is nothing to convert (the IngressRoute objects are named above)")
    }

    @Test func aPasswordHashTraefikCannotCheckIsAWarning() throws {
        let yaml = """
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: users, namespace: apps}
            stringData: {auth: "dave:$6$salt$0123456789abcdef\n"}

            """ + NginxAccessTests.nginx(["nginx.ingress.kubernetes.io/auth-type": "basic", "nginx.ingress.kubernetes.io/auth-secret": "users"])
        let (result, diagnostics) = convertManifests(yaml)
        #expect(routed(result, host: "a.example.com", path: "/").protected)
        #expect(diagnostics.warnings.contains { $0.message.contains("a password hash Traefik's basicAuth does not check") })
    }

    @Test func badIngressInputIsPositioned() throws {
        let (nameless, namelessDiagnostics) = convertManifests("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: \"\"\n")
        #expect(nameless == nil)
        #expect(namelessDiagnostics.errors.first?.location?.line == 4)
        #expect(namelessDiagnostics.errors.first?.message.hasPrefix("Ingress without metadata.name: the API server refuses it") == true)
        let (_, listDiagnostics) = convertManifests(NginxAccessTests.nginx(["nginx.ingress.kubernetes.io/whitelist-source-range": "${LAN_CIDR}"]))
        #expect(listDiagnostics.errors.first?.message == "whitelist-source-range entry '${LAN_CIDR}' holds ${LAN_CIDR}, which nothing filled in: set LAN_CIDR in the environment or an --env-file, as Flux's postBuild substitution (or envsubst) would")
        #expect(listDiagnostics.errors.first?.location?.line == 8)
    }
}
