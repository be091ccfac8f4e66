/// Ingress objects as their controller ran them — Traefik's Ingress provider or
/// ingress-nginx — turned into the migration plan: one site per host, its decisions
/// taken from the controller's routers, the routes in the Ingress's namespace.
public struct IngressImporter: Sendable {
    /// Only Ingresses of this class (`--ingress-class`); nil converts Traefik, nginx
    /// and class-less Ingresses.
    public var ingressClass: String?
    /// Traefik's Ingress provider ran with `strictPrefixMatching` (`Prefix` paths match
    /// segment-wise instead of character-wise).
    public var strictPrefix = false
    /// `--ingress-controller CLASS=traefik|nginx`: the controller of a class the input
    /// has no IngressClass for (or says otherwise about).
    public var controllers: [String: IngressController] = [:]
    /// `--default-ingress-class CLASS`: the class of Ingresses that name none.
    public var defaultClass: String?
    /// Traefik's Ingress provider ran with `allowExternalNameServices`
    /// (`--traefik-external-name-services`).
    public var traefikExternalNameServices = false

    public init(ingressClass: String? = nil, strictPrefix: Bool = false) {
        self.ingressClass = ingressClass
        self.strictPrefix = strictPrefix
    }

    typealias Controller = IngressController

    static let traefikPrefix = "traefik.ingress.kubernetes.io/"

    public func plan(from objects: [ManifestObject], diagnostics: inout Diagnostics) throws(DiagnosticError) -> MigrationPlan {
        let resources = try IngressResources.read(objects, diagnostics: &diagnostics)
        var middlewares = TraefikMiddlewares(resources: resources, providers: [])
        var routers: [IngressRouter] = []
        var replaced: [ObjectRef] = []
        let defaults = resources.classes.values.filter(\.isDefault).sorted { $0.name < $1.name }
        if defaults.count > 1 {
            diagnostics.append(.warning("IngressClasses \(defaults.map(\.name).joined(separator: ", ")) are all marked is-default-class; Kubernetes then refuses new Ingresses without a class, and authgate takes none of them as the default (say --default-ingress-class CLASS)", at: defaults[1].location))
        }
        var guessedClasses = Set<String>()
        for ingress in resources.ingresses {
            switch reading(of: ingress, resources: resources, defaults: defaults, guessedClasses: &guessedClasses, diagnostics: &diagnostics) {
            case .skipped:
                continue
            case .controller(let controller):
                routers += try self.routers(of: ingress, controller: controller, resources: resources, middlewares: &middlewares, diagnostics: &diagnostics)
            case .either(let construct):
                // Each controller's reading, marked: where they differ, the paths are
                // unknown (IngressBehaviour).
                // Each reading warns about its own family's annotations; what both
                // say (the TLS notes) is said once.
                var seen = Set<String>()
                for controller in [Controller.traefik, .nginx] {
                    var own = Diagnostics()
                    for var router in try self.routers(of: ingress, controller: controller, resources: resources, middlewares: &middlewares, diagnostics: &own) {
                        router.ambiguity = construct
                        routers.append(router)
                    }
                    for diagnostic in own.all where seen.insert(diagnostic.description).inserted { diagnostics.append(diagnostic) }
                }
            }
            replaced.append(ObjectRef(group: ingress.group, kind: "Ingress", namespace: ingress.namespace, name: ingress.name))
        }
        try NginxServers.rank(&routers)
        resolveHostRelativeAuth(&routers, providers: &middlewares.providers)
        specializeSigninURLs(&routers, providers: &middlewares.providers, diagnostics: &diagnostics)
        diagnostics.append(contentsOf: middlewares.diagnostics)
        var plan = MigrationPlan(sites: try sites(from: routers, providers: middlewares.providers, diagnostics: &diagnostics), authProviders: middlewares.providers)
        plan.replacedObjects = replaced
        AuthentikOutpostPaths.add(to: &plan, diagnostics: &diagnostics)
        return plan
    }

    /// How authgate reads an Ingress: as the controller that served it, as both (when
    /// it cannot tell, with the unknown that their difference makes), or not at all.
    enum Reading {
        case controller(Controller)
        case either(UnknownConstruct)
        case skipped
    }

    /// Which controller served the Ingress. Its class (`spec.ingressClassName`, else the
    /// `kubernetes.io/ingress.class` annotation) or, without one, the default class
    /// (`--default-ingress-class`, else the input's IngressClass marked
    /// is-default-class) names the controller through `--ingress-controller`, the
    /// input's IngressClass (`spec.controller`), or the class name itself. An Ingress
    /// no class places is read as the controller whose annotations it carries, and as
    /// both where it carries both families or none.
    func reading(of ingress: IngressResource, resources: IngressResources, defaults: [IngressClassResource], guessedClasses: inout Set<String>, diagnostics: inout Diagnostics) -> Reading {
        let described = "Ingress '\(ingress.namespace)/\(ingress.name)'"
        let defaultName = defaultClass ?? (defaults.count == 1 ? defaults[0].name : nil)
        let className = ingress.className ?? defaultName
        if let ingressClass, className != ingressClass {
            let why = ingress.className == nil ? (defaultName.map { "has no class, and the default class is '\($0)'" } ?? "has no class, and no default class is known (--default-ingress-class)") : "has class '\(ingress.className!)'"
            diagnostics.append(.note("\(described) \(why), not '\(ingressClass)' (--ingress-class); skipped", at: ingress.location))
            return .skipped
        }
        let families = Self.annotationFamilies(ingress)
        let flags = "--ingress-controller \(className ?? "CLASS")=traefik|nginx"
        if let className {
            let via = ingress.className == nil ? " (the default class\(defaultClass != nil ? ", --default-ingress-class" : ""))" : ""
            if let controller = controllers[className] { return .controller(controller) }
            if let declared = resources.classes[className] {
                switch declared.controller {
                case "k8s.io/ingress-nginx": return .controller(.nginx)
                case "traefik.io/ingress-controller": return .controller(.traefik)
                default:
                    diagnostics.append(.warning("\(described) has class '\(className)'\(via), whose IngressClass names controller '\(declared.controller ?? "(none)")', neither Traefik (traefik.io/ingress-controller) nor ingress-nginx (k8s.io/ingress-nginx); skipped (\(flags) reads it as one of them)", at: ingress.location))
                    return .skipped
                }
            }
            let lower = className.lowercased()
            let guessed: Controller? = lower.contains("traefik") ? .traefik : lower.contains("nginx") ? .nginx : families.count == 1 ? families.first : nil
            guard let guessed else {
                diagnostics.append(.warning("\(described) has class '\(className)'\(via), and the input has no IngressClass saying which controller serves it; skipped (\(flags) says it)", at: ingress.location))
                return .skipped
            }
            let other = guessed == .traefik ? "nginx" : "traefik"
            if lower.contains("traefik") || lower.contains("nginx") {
                // Said once per class: most inputs name `traefik` or `nginx` throughout.
                if guessedClasses.insert(className).inserted {
                    diagnostics.append(.note("class '\(className)' is read as \(guessed.displayName)'s from its name: the input has no IngressClass '\(className)' (--ingress-controller \(className)=\(other) says otherwise)", at: ingress.location))
                }
            } else {
                diagnostics.append(.warning("\(described) has class '\(className)'\(via), and the input has no IngressClass for it; it is read as \(guessed.displayName)'s, whose annotations it carries (--ingress-controller \(className)=\(other) says otherwise)", at: ingress.location))
            }
            return .controller(guessed)
        }
        let hint = "give it spec.ingressClassName, or name the class Ingresses without one belong to with --default-ingress-class CLASS (or an IngressClass marked ingressclass.kubernetes.io/is-default-class in the input)"
        if families.count == 1, let only = families.first {
            diagnostics.append(.warning("\(described) has no class and no default class is known; it is read as \(only.displayName)'s, whose annotations it carries (\(hint))", at: ingress.location))
            return .controller(only)
        }
        let construct = UnknownConstruct(
            construct: "\(described) without a class", location: ingress.location,
            resolution: families.isEmpty
                ? "Traefik and ingress-nginx read its paths differently and no default class is known; \(hint)"
                : "it carries both Traefik and ingress-nginx annotations and no default class is known; \(hint)")
        diagnostics.append(.note("\(described) has no class and no default class is known; where Traefik and ingress-nginx would route its paths differently, they are unknown (\(hint))", at: ingress.location))
        return .either(construct)
    }

    /// `auth-url: https://$host/oauth2/auth`: nginx sends the auth subrequest back to
    /// itself for the request's own host, so the auth server is the Service that host
    /// routes the path to (oauth2-proxy's Ingress on the same host, in its documented
    /// setup). Without such a route in the input, the paths are unknown.
    private func resolveHostRelativeAuth(_ routers: inout [IngressRouter], providers: inout [AuthProvider]) {
        let served = routers
        for index in routers.indices {
            guard let pending = routers[index].pendingAuth else { continue }
            routers[index].pendingAuth = nil
            let construct = "auth-url '\(pending.template.endpoint)' on the request's host"
            guard let host = routers[index].host, !host.hasPrefix("*.") else {
                routers[index].outcome.unknown.append(UnknownConstruct(
                    construct: construct, location: pending.location,
                    resolution: "the Ingress rule has no single host, so which Service answers the auth request cannot be found; write the auth server's Service address in auth-url"))
                continue
            }
            var best: IngressRouter?
            for router in served where router.controller == routers[index].controller && IngressBehaviour.hostMatches(router.host, host) && router.match.matches(pending.path) {
                if best == nil || router.priority > best!.priority { best = router }
            }
            if let best, best.pendingAuth != nil || best.outcome.isProtected {
                routers[index].outcome.unknown.append(UnknownConstruct(
                    construct: construct, location: pending.location,
                    resolution: "\(host)\(pending.path) is itself behind auth in the input, so nginx's auth request would need auth in turn; route that path to the auth server with an Ingress of its own, or write the auth server's Service address in auth-url"))
                continue
            }
            guard let upstream = best?.outcome.upstreams.first else {
                routers[index].outcome.unknown.append(UnknownConstruct(
                    construct: construct, location: pending.location,
                    resolution: "no Ingress in the input routes \(host)\(pending.path) to a Service, so the auth server cannot be found; add the auth server's Ingress to the input, or write its Service address in auth-url"))
                continue
            }
            var provider = pending.template
            provider.upstream = upstream
            routers[index].outcome.addAuth(register(provider, in: &providers), at: pending.location)
        }
    }

    /// Traefik 1.7's access annotations, under `ingress.kubernetes.io/` or
    /// `traefik.ingress.kubernetes.io/`.
    static let traefikV1Keys: Set<String> = ["auth-type", "auth-url", "auth-response-headers", "auth-trust-headers", "auth-secret", "auth-header-field", "auth-remove-header", "whitelist-source-range", "whitelist-x-forwarded-for"]

    /// Traefik 1.7 read forward and basic auth and an allow list from annotations;
    /// Traefik 2 and later ignore them, so the same Ingress is public there. authgate
    /// reads them as 1.7 ran them, which can only add protection, and says so.
    private func applyTraefikV1(_ ingress: IngressResource, resources: IngressResources, to base: inout RequestOutcome, providers: inout [AuthProvider], diagnostics: inout Diagnostics) throws(DiagnosticError) {
        func value(_ key: String) -> ManifestNode? { ingress.annotation("ingress.kubernetes.io/" + key) ?? ingress.annotation(Self.traefikPrefix + key) }
        func text(_ key: String) -> String? { value(key)?.string?.trimmingCharacters(in: .whitespacesAndNewlines) }
        let note = "Traefik 2 and later ignore Traefik 1.7's annotations, so if the cluster runs Traefik 2 or 3 these paths are served without it today"
        if let type = text("auth-type")?.lowercased(), let node = value("auth-type") {
            switch type {
            case "forward":
                guard let url = text("auth-url"), let upstream = IngressAuthAddress.upstream(url) else {
                    throw DiagnosticError("auth-type forward needs auth-url with an http(s) URL, as Traefik 1.7 required", at: (value("auth-url") ?? node).location)
                }
                let endpoint = AuthURL(url)?.pathAndQuery ?? IngressAuthAddress.path(url)
                let headers = (text("auth-response-headers") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                let provider = AuthProvider(kind: AuthProvider.kind(forEndpoint: endpoint), upstream: upstream, endpoint: endpoint, copyHeaders: headers, location: node.location)
                base.addAuth(register(provider, in: &providers), at: node.location)
                diagnostics.append(.warning("auth-type forward is Traefik 1.7's forward auth; authgate converts it as 1.7 ran it (\(note))", at: node.location))
            case "basic":
                guard let secretName = text("auth-secret") else {
                    throw DiagnosticError("auth-type basic needs auth-secret, as Traefik 1.7 required", at: node.location)
                }
                var provider = AuthProvider(kind: .basicAuth, upstream: nil, endpoint: "", location: node.location)
                let key = ingress.namespace + "/" + secretName
                if let data = resources.secrets[key], let file = data["auth"] ?? data["users"] {
                    provider.basicAuthUsers = file.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
                } else {
                    provider.missingUsersSecret = key
                }
                base.addAuth(register(provider, in: &providers), at: node.location)
                diagnostics.append(.warning("auth-type basic is Traefik 1.7's basic auth; authgate converts it as 1.7 ran it (\(note))", at: node.location))
            default:
                base.unknown.append(UnknownConstruct(construct: "auth-type '\(type)'", location: node.location, resolution: "Traefik 1.7 knew forward and basic; what this one did cannot be told"))
            }
        }
        if let ranges = value("whitelist-source-range") {
            base.allowedSources += try IPRange.list(ranges, annotation: "whitelist-source-range")
            diagnostics.append(.warning("whitelist-source-range is Traefik 1.7's allow list; authgate converts it as 1.7 ran it (\(note))", at: ranges.location))
        }
    }

    /// The `router.*` annotations Traefik 3.7's Ingress provider reads (RouterIng).
    static func isKnownRouterKey(_ name: String) -> Bool {
        let known: Set<String> = [
            "router.entrypoints", "router.middlewares", "router.priority", "router.rulesyntax", "router.pathmatcher",
            "router.tls", "router.tls.certresolver", "router.tls.options",
            "router.observability.accesslogs", "router.observability.metrics", "router.observability.tracing", "router.observability.traceverbosity",
        ]
        if known.contains(name) { return true }
        // router.tls.domains.N.main / .sans
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 5 && parts[0] == "router" && parts[1] == "tls" && parts[2] == "domains" && Int(parts[3]) != nil && (parts[4] == "main" || parts[4] == "sans")
    }

    /// Traefik uses `authSigninURL` as written, where nginx filled in its variables for
    /// each request: `$host` (and `$http_host`, `$best_http_host`) becomes the router's
    /// host, `$scheme` https; a query parameter holding any other variable (`rd=
    /// $escaped_request_uri`) is left out, with a warning saying where users land.
    private func specializeSigninURLs(_ routers: inout [IngressRouter], providers: inout [AuthProvider], diagnostics: inout Diagnostics) {
        var warned = Set<String>()
        for index in routers.indices {
            for (position, providerIndex) in routers[index].outcome.auth.enumerated() {
                guard let signin = providers[providerIndex].signinURL, signin.contains("$") else { continue }
                var text = signin
                if let host = routers[index].host, !host.hasPrefix("*.") {
                    for variable in ["$best_http_host", "$http_host", "$host", "${host}"] { text = text.replacingOccurrences(of: variable, with: host) }
                }
                text = text.replacingOccurrences(of: "$scheme", with: "https")
                var dropped: [String] = []
                if let mark = text.firstIndex(of: "?") {
                    let kept = text[text.index(after: mark)...].split(separator: "&").filter { parameter in
                        if parameter.contains("$") { dropped.append(String(parameter)); return false }
                        return true
                    }
                    text = String(text[..<mark]) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
                }
                if text.contains("$") {
                    if warned.insert(signin).inserted {
                        diagnostics.append(.warning("auth-signin '\(signin)' holds nginx variables Traefik cannot fill in (it uses authSigninURL as written); it is left out, so a user without a session gets the auth server's 401 instead of the login page", at: providers[providerIndex].location))
                    }
                    text = ""
                } else if !dropped.isEmpty, warned.insert(signin).inserted {
                    diagnostics.append(.warning("auth-signin '\(signin)': Traefik uses authSigninURL as written, so \(dropped.joined(separator: ", ")) cannot be filled in and is left out; after logging in, users land where the auth server sends them by default instead of the page they asked for", at: providers[providerIndex].location))
                }
                var specialized = providers[providerIndex]
                specialized.signinURL = text.isEmpty ? nil : text
                routers[index].outcome.auth[position] = register(specialized, in: &providers)
            }
        }
    }

    /// The controllers whose annotations the Ingress carries.
    static func annotationFamilies(_ ingress: IngressResource) -> [Controller] {
        var families: [Controller] = []
        if ingress.annotations.contains(where: { $0.key.lowercased().hasPrefix(traefikPrefix) || $0.key.hasPrefix("ingress.kubernetes.io/") }) { families.append(.traefik) }
        if ingress.annotations.contains(where: { $0.key.hasPrefix(NginxAuthAnnotations.prefix) }) { families.append(.nginx) }
        return families
    }

    private func routers(
        of ingress: IngressResource, controller: Controller, resources: IngressResources, middlewares: inout TraefikMiddlewares, diagnostics: inout Diagnostics
    ) throws(DiagnosticError) -> [IngressRouter] {
        var base = RequestOutcome(terminal: .unhandled)
        var entryPoints: [String] = []
        var pathMatcher = "PathPrefix"
        var fixedPriority: Int?
        var pendingAuth: (template: AuthProvider, path: String, location: SourceLocation)?
        var nginxAccess: NginxAuthAnnotations.Access?
        switch controller {
        case .traefik:
            // Traefik decodes what follows the prefix without regard to case, and
            // skips the whole Ingress when a router.* key is not one it knows.
            for (key, value) in ingress.annotations where key.hasPrefix(Self.traefikPrefix) {
                let name = String(key.dropFirst(Self.traefikPrefix.count)).lowercased()
                if name.hasPrefix("router."), !Self.isKnownRouterKey(name) {
                    diagnostics.append(.warning("Traefik annotation \(key.dropFirst(Self.traefikPrefix.count)) is not one Traefik knows, so Traefik skipped this whole Ingress (it logs 'Failed to parse annotations'); authgate leaves it out too — its paths went to whatever else matched them, or nowhere. Fix the key to keep the Ingress", at: value.location))
                    return []
                }
            }
            for (key, value) in ingress.annotations where key.hasPrefix(Self.traefikPrefix) {
                let name = String(key.dropFirst(Self.traefikPrefix.count)).lowercased()
                switch name {
                case "router.middlewares":
                    if let reason = middlewares.apply(value, ingress: ingress, to: &base) {
                        diagnostics.append(.warning("Traefik disabled the routers of this Ingress: \(reason); its paths went to whatever else matched them, or nowhere, and authgate converts them so", at: value.location))
                        return []
                    }
                case "router.entrypoints":
                    entryPoints = (value.string ?? "").split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
                case "router.pathmatcher":
                    pathMatcher = value.string ?? "PathPrefix"
                    guard ["Path", "PathPrefix", "PathRegexp"].contains(pathMatcher) else {
                        throw DiagnosticError("router.pathmatcher '\(pathMatcher)' is not one Traefik knows (Path, PathPrefix, PathRegexp)", at: value.location)
                    }
                case "router.priority":
                    fixedPriority = value.int
                    diagnostics.append(.warning("router.priority \(value.string ?? "") is not migrated: Gateway API orders rules by their matches, not by a number; the coverage check compares against the priority Traefik used", at: value.location))
                case _ where name.hasPrefix("router.tls"):
                    diagnostics.append(.note("\(name): TLS is the Gateway listener's job (its certificateRefs), not the route's", at: value.location))
                case _ where name.hasPrefix("router."):
                    diagnostics.append(.warning("Traefik annotation \(name) is not migrated", at: value.location))
                case _ where Self.traefikV1Keys.contains(name):
                    continue
                default:
                    // Only router.* keys are read on an Ingress (service.* belong on
                    // the Service); Traefik drops the others without a word.
                    diagnostics.append(.warning("Traefik annotation \(name) has no effect on an Ingress (Traefik reads only router.* there\(name.hasPrefix("service.") ? "; service.* annotations belong on the Service" : "")); nothing to migrate", at: value.location))
                }
            }
            try applyTraefikV1(ingress, resources: resources, to: &base, providers: &middlewares.providers, diagnostics: &diagnostics)
        case .nginx:
            switch try NginxAuthAnnotations.externalAuth(for: ingress, diagnostics: &diagnostics) {
            case .none: break
            case .provider(let provider):
                base.addAuth(register(provider, in: &middlewares.providers), at: provider.location ?? ingress.location)
            case .unknown(let construct):
                base.unknown.append(construct)
            case .hostRelative(let template, let path, let location):
                pendingAuth = (template, path, location)
            }
            if let hint = resources.globalAuth, ingress.annotation(NginxAuthAnnotations.prefix + "auth-url") == nil,
               ingress.annotation(NginxAuthAnnotations.prefix + "enable-global-auth")?.string?.lowercased() != "false" {
                base.unknown.append(UnknownConstruct(
                    construct: "ingress-nginx's global-auth-url", location: ingress.location,
                    resolution: "the input shows the controller ran with a global-auth-url (\(hint.location.file):\(hint.location.line)), which protects this Ingress with an auth server it does not name; put that URL in this Ingress's auth-url (or enable-global-auth: \"false\" if it was public)"))
            }
            let access = try NginxAuthAnnotations.access(for: ingress, resources: resources, diagnostics: &diagnostics)
            // ingress-nginx checks the allow list before auth (a refused client gets 403).
            base.allowedSources = access.allowedSources
            if let basic = access.basicAuth {
                base.addAuth(register(basic, in: &middlewares.providers), at: basic.location ?? ingress.location)
            }
            base.unknown += access.unknown
            nginxAccess = access
            NginxAuthAnnotations.warnAboutOthers(ingress, diagnostics: &diagnostics)
        }
        for entry in ingress.tls {
            let hosts = entry.hosts.isEmpty ? "every host" : entry.hosts.joined(separator: ", ")
            if let secret = entry.secretName {
                diagnostics.append(.note("TLS for \(hosts) uses Secret \(ingress.namespace)/\(secret): the Gateway's HTTPS listener needs it in certificateRefs (with a ReferenceGrant when the Gateway is in another namespace)", at: entry.location))
            } else {
                diagnostics.append(.note("TLS for \(hosts) names no Secret, so the controller's default certificate served it: the Gateway's HTTPS listener needs a certificate of its own in certificateRefs", at: entry.location))
            }
        }
        // ingress-nginx: use-regex, or a rewrite-target other than the path, makes every
        // location of the host a regular expression (NginxServers).
        let useRegex = ingress.annotation(NginxAuthAnnotations.prefix + "use-regex")?.string?.lowercased() == "true"
        let rewriteTarget = ingress.annotation(NginxAuthAnnotations.prefix + "rewrite-target")?.string

        var routers: [IngressRouter] = []
        func router(host: String?, path: IngressResource.Path?, backend: IngressBackend, defaultBackend: Bool, nginx: NginxLocation? = nil) throws(DiagnosticError) -> IngressRouter {
            let upstream = try self.upstream(backend, namespace: ingress.namespace, resources: resources)
            var outcome = base
            outcome.terminal = .proxy([upstream])
            outcome.provenance.terminal = path?.location ?? backend.location
            if let access = nginxAccess {
                if access.forceSSLRedirect || host.map(access.sslRedirectHosts.contains) == true { outcome.httpsRedirect = 308 }
                if let redirect = access.redirect, let target = AuthURL(redirect.url) {
                    // Every request of the Ingress is answered with the redirect.
                    outcome.terminal = .redirect(Redirect(status: redirect.status, scheme: target.scheme, hostname: String(target.authority.split(separator: ":").first ?? ""),
                                                          port: target.authority.split(separator: ":").dropFirst().first.flatMap { Int($0) }, path: target.pathAndQuery))
                    outcome.auth = []
                    outcome.provenance.terminal = redirect.location
                }
            }
            var (match, rule) = self.match(path, controller: controller, pathMatcher: pathMatcher)
            if let nginx { match = nginx.exact ? .exact(nginx.path) : nginx.path == "/" ? .any : .prefix(nginx.path) }
            if case .regex(let expression) = match, let problem = RegexSafety.problem(in: expression) {
                throw DiagnosticError("path expression '\(expression)' cannot be migrated: \(problem)", at: path?.location ?? backend.location)
            }
            var hostRule = ""
            if let host { hostRule = host.hasPrefix("*.") ? "HostRegexp(`[a-zA-Z0-9-]+" + host.dropFirst().replacingOccurrences(of: ".", with: "\\.") + "`)" : "Host(`\(host)`)" }
            let ruleText = [hostRule, rule].filter { !$0.isEmpty }.joined(separator: " && ")
            var priority: Int
            switch controller {
            case .traefik: priority = defaultBackend ? Int(Int32.min) : fixedPriority ?? ruleText.utf8.count
            case .nginx:
                // Set per host once every Ingress is read (NginxServers).
                priority = 0
            }
            var built = IngressRouter(host: host, match: match, priority: priority, outcome: outcome, namespace: ingress.namespace, entryPoints: entryPoints, location: path?.location ?? backend.location, controller: controller, pendingAuth: pendingAuth)
            built.nginx = nginx
            return built
        }
        if let backend = ingress.defaultBackend {
            if controller == .traefik && !ingress.rules.isEmpty {
                diagnostics.append(.warning("Traefik ignores the default backend of an Ingress that has rules; so does the migration", at: backend.location))
            } else {
                routers.append(try router(host: nil, path: nil, backend: backend, defaultBackend: true, nginx: controller == .nginx ? NginxLocation(path: "/", exact: false, regex: false) : nil))
            }
        }
        for rule in ingress.rules {
            if let host = rule.host, !HostName.isGatewayHostname(host) {
                // The API server refuses such a host, so the cluster never served it.
                let written = rule.writtenHost ?? host
                if let variable = PostBuildSubstitution.unresolved(in: written) {
                    throw DiagnosticError(PostBuildSubstitution.message("host", written, variable), at: rule.location)
                }
                throw DiagnosticError("host '\(host)' is not a host name (lower-case letters, digits, '-' and '.', at most one leading '*.'); the API server refuses it", at: rule.location)
            }
            for path in rule.paths {
                guard controller == .nginx else {
                    if let service = resources.services[ingress.namespace + "/" + path.backend.service], service.type == "ExternalName", !traefikExternalNameServices {
                        // Traefik's Ingress provider refuses ExternalName Services unless
                        // allowExternalNameServices is on: the path had no router, and
                        // its requests went to whatever else matched them.
                        diagnostics.append(.warning("backend \(path.backend.service) is an ExternalName Service, which Traefik's Ingress provider serves only with allowExternalNameServices; without it Traefik skipped this path (its requests went to whatever else matched), and so does authgate. Say --traefik-external-name-services if the provider ran with it", at: path.backend.location))
                        continue
                    }
                    routers.append(try router(host: rule.host, path: path, backend: path.backend, defaultBackend: false))
                    continue
                }
                let rewriting = rewriteTarget.map { !$0.isEmpty && $0 != path.path } ?? false
                let regex = useRegex || rewriting
                for location in NginxServers.locations(path.path, pathType: path.pathType, regex: regex) {
                    var built = try router(host: rule.host, path: path, backend: path.backend, defaultBackend: false, nginx: location)
                    if rewriting, let target = rewriteTarget {
                        switch NginxServers.rewrite(path: path.path, target: target) {
                        case .some(let rewrite): built.outcome.rewrites.append(rewrite)
                        case .none:
                            built.outcome.unknown.append(UnknownConstruct(
                                construct: "rewrite-target '\(target)'", location: ingress.annotation(NginxAuthAnnotations.prefix + "rewrite-target")!.location,
                                resolution: "nginx rewrites the whole path to it with the captures of \(path.path); authgate converts a fixed target and the prefix-stripping form (PATH(/|$)(.*) with /$2), not this one. Strip the prefix with a stripPrefix Middleware instead",
                                decidesOutcome: false))
                        }
                    }
                    routers.append(built)
                }
            }
            if let appRoot = nginxAccess?.appRoot, let first = rule.paths.first {
                // ingress-nginx: `if ($uri = /) { return 302 …app-root }` in the server.
                var redirect = try router(host: rule.host, path: first, backend: first.backend, defaultBackend: false, nginx: NginxLocation(path: "/", exact: true, regex: false))
                redirect.outcome.terminal = .redirect(Redirect(status: 302, path: appRoot.path))
                redirect.outcome.auth = []
                redirect.outcome.provenance.terminal = appRoot.location
                redirect.appRoot = true
                routers.append(redirect)
            }
        }
        return routers
    }

    /// The path pattern and the rule text Traefik writes (its length is the router's
    /// default priority).
    private func match(_ path: IngressResource.Path?, controller: Controller, pathMatcher: String) -> (PathPattern, String) {
        guard let path, !path.path.isEmpty else { return (.any, "") }
        let value = path.path
        switch controller {
        case .traefik:
            var matcher = "PathPrefix"
            if path.pathType == "Exact" { matcher = "Path" } else if path.pathType == "ImplementationSpecific" { matcher = pathMatcher }
            let rule = "\(matcher)(`\(value)`)"
            switch matcher {
            case "Path": return (.exact(value), rule)
            case "PathRegexp": return (.regex(value), rule)
            default:
                if value == "/" { return (.any, rule) }
                // Traefik's PathPrefix is a character-wise prefix: /admin matches
                // /administrator, unless the provider runs with strictPrefixMatching.
                return (strictPrefix && path.pathType == "Prefix" ? .segmentPrefix(value) : .prefix(value), rule)
            }
        case .nginx:
            // The locations NginxServers made decide; this is only the rule text.
            return (.prefix(value), value)
        }
    }

    private func upstream(_ backend: IngressBackend, namespace: String, resources: IngressResources) throws(DiagnosticError) -> Upstream {
        // An ExternalName Service is the outside host it names: the output reaches it
        // through a selector-less Service and an FQDN EndpointSlice (Traefik's Gateway
        // provider answers 500 for ExternalName).
        if let service = resources.services[namespace + "/" + backend.service], service.type == "ExternalName", let external = service.externalName?.lowercased() {
            let port: Int
            switch backend.port {
            case .number(let number): port = number
            case .name(let name):
                guard let found = service.ports.first(where: { $0.name == name }) else {
                    throw DiagnosticError("Service \(namespace)/\(backend.service) has no port named '\(name)'", at: backend.location)
                }
                port = found.port
            }
            return Upstream(scheme: port == 443 ? .https : .http, host: external, port: port)
        }
        switch backend.port {
        case .number(let number):
            return Upstream(scheme: .http, host: backend.service, port: number, serviceNamespace: namespace)
        case .name(let name):
            guard let service = resources.services[namespace + "/" + backend.service] else {
                throw DiagnosticError("backend \(backend.service) names port '\(name)', and Service \(namespace)/\(backend.service) is not in the input to resolve it; add it (kubectl get service -o yaml) or use a port number", at: backend.location)
            }
            guard let port = service.ports.first(where: { $0.name == name }) else {
                throw DiagnosticError("Service \(namespace)/\(backend.service) has no port named '\(name)'", at: backend.location)
            }
            return Upstream(scheme: .http, host: backend.service, port: port.port, serviceNamespace: namespace)
        }
    }

    /// One site per host: its own routers, the wildcard hosts' that match it and the
    /// host-less ones, in the namespace of its first Ingress.
    private func sites(from routers: [IngressRouter], providers: [AuthProvider], diagnostics: inout Diagnostics) throws(DiagnosticError) -> [SitePlan] {
        // Routers by host, so each host looks only at its own, the host-less ones and
        // the wildcards (never every router of the input); kept in input order, which
        // decides ties.
        var byHost: [String?: [Int]] = [:]
        for (index, router) in routers.enumerated() { byHost[router.host, default: []].append(index) }
        let hostless = byHost[nil] ?? []
        let wildcards = routers.indices.filter { routers[$0].host?.hasPrefix("*.") == true }
        let hosts = byHost.keys.sorted { ($0 ?? "\u{10FFFF}") < ($1 ?? "\u{10FFFF}") }
        var sites: [SitePlan] = []
        for host in hosts {
            let representative = host.map { $0.hasPrefix("*.") ? "authgate-probe" + $0.dropFirst() : $0 } ?? "authgate-probe.invalid"
            let own = (byHost[host] ?? []).map { routers[$0] }
            var indices = byHost[host] ?? []
            if host != nil {
                // nginx serves a host from its own server block when it has one; the
                // wildcard and catch-all servers only take hosts that have none.
                let ownServer = own.contains { $0.controller == .nginx }
                indices += hostless.filter { routers[$0].controller != .nginx || !ownServer }
                indices += wildcards.filter {
                    routers[$0].host != host && IngressBehaviour.hostMatches(routers[$0].host, representative) && (routers[$0].controller != .nginx || !ownServer)
                }
            }
            let applicable = indices.sorted().map { routers[$0] }
            let namespaces = Set(own.map(\.namespace))
            if namespaces.count > 1 {
                diagnostics.append(.warning("host \(host ?? "(any)") is served by Ingresses in several namespaces (\(namespaces.sorted().joined(separator: ", "))); its HTTPRoute goes in \(own[0].namespace) and refers to the others' Services through ReferenceGrants", at: own[0].location))
            }
            let behaviour = IngressBehaviour(routers: applicable, boundaryPatterns: applicable.map(\.match))
            try DecisionBuilder.checkSize(behaviour, host: host ?? "requests without a host", at: own.first?.location)
            var site = SitePlan(
                hosts: host.map { [$0] } ?? [], decisions: DecisionBuilder.decisions(for: behaviour, host: representative, authProviders: providers),
                behaviour: behaviour, location: own.first?.location)
            site.namespace = own.first?.namespace
            // Entry points: every router's; a router without any serves them all. When
            // every router on the plain-HTTP entry point (web) redirects to HTTPS, the
            // host is served on the others and redirected on web by a route of its own.
            let onPlain = own.filter { $0.entryPoints.isEmpty || $0.entryPoints.contains("web") }
            let redirects = Set(onPlain.map(\.outcome.httpsRedirect))
            var entryPointSets = Set(own.map(\.entryPoints))
            if !onPlain.isEmpty, redirects.count == 1, let status = redirects.first ?? nil {
                site.httpsRedirect = status
                entryPointSets = Set(entryPointSets.map { $0.filter { $0 != "web" } }.filter { !$0.isEmpty })
            } else if redirects.count > 1, let first = onPlain.first {
                diagnostics.append(.warning("only some Ingresses of host \(host ?? "(any)") on the web entry point redirect to HTTPS (redirectScheme); authgate writes no redirect for it", at: first.location))
            }
            site.listeners = entryPointSets.contains([]) ? [] : Array(Set(entryPointSets.flatMap { $0 })).sorted()
            if entryPointSets.count > 1, let first = own.first {
                diagnostics.append(.warning("the Ingresses of host \(host ?? "(any)") use different entry points (router.entrypoints); its HTTPRoute attaches to \(site.listeners.isEmpty ? "every listener" : site.listeners.joined(separator: ", "))", at: first.location))
            }
            sites.append(site)
        }
        return sites
    }

    private func register(_ provider: AuthProvider, in providers: inout [AuthProvider]) -> Int {
        if let index = providers.firstIndex(of: provider) { return index }
        providers.append(provider)
        return providers.count - 1
    }
}

/// The controller that served an Ingress.
public enum IngressController: String, Sendable, CaseIterable {
    case traefik, nginx

    var displayName: String { self == .traefik ? "Traefik" : "ingress-nginx" }
}

extension String {
    func trimmingSpaces() -> String {
        String(trimmingWhitespace())
    }
}
