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

    public init(ingressClass: String? = nil, strictPrefix: Bool = false) {
        self.ingressClass = ingressClass
        self.strictPrefix = strictPrefix
    }

    enum Controller { case traefik, nginx }

    static let traefikPrefix = "traefik.ingress.kubernetes.io/"

    public func plan(from objects: [ManifestObject], diagnostics: inout Diagnostics) throws(DiagnosticError) -> MigrationPlan {
        let resources = try IngressResources.read(objects, diagnostics: &diagnostics)
        var middlewares = TraefikMiddlewares(resources: resources, providers: [])
        var routers: [IngressRouter] = []
        var replaced: [ObjectRef] = []
        for ingress in resources.ingresses {
            guard let controller = controller(of: ingress, diagnostics: &diagnostics) else { continue }
            routers += try self.routers(of: ingress, controller: controller, resources: resources, middlewares: &middlewares, diagnostics: &diagnostics)
            replaced.append(ObjectRef(group: ingress.group, kind: "Ingress", namespace: ingress.namespace, name: ingress.name))
        }
        diagnostics.append(contentsOf: middlewares.diagnostics)
        var plan = MigrationPlan(sites: try sites(from: routers, providers: middlewares.providers, diagnostics: &diagnostics), authProviders: middlewares.providers)
        plan.replacedObjects = replaced
        AuthentikOutpostPaths.add(to: &plan, diagnostics: &diagnostics)
        return plan
    }

    /// `spec.ingressClassName` or the `kubernetes.io/ingress.class` annotation: Traefik
    /// and nginx classes (and none, which Traefik serves) are converted, others skipped.
    private func controller(of ingress: IngressResource, diagnostics: inout Diagnostics) -> Controller? {
        let name = ingress.className ?? ""
        if let ingressClass, name != ingressClass {
            diagnostics.append(.note("Ingress \(ingress.namespace)/\(ingress.name) has class '\(name)', not '\(ingressClass)' (--ingress-class); skipped", at: ingress.location))
            return nil
        }
        if name.isEmpty || name.lowercased().contains("traefik") { return .traefik }
        if name.lowercased().contains("nginx") { return .nginx }
        diagnostics.append(.note("Ingress \(ingress.namespace)/\(ingress.name) has class '\(name)', which is neither Traefik nor ingress-nginx; skipped", at: ingress.location))
        return nil
    }

    private func routers(
        of ingress: IngressResource, controller: Controller, resources: IngressResources, middlewares: inout TraefikMiddlewares, diagnostics: inout Diagnostics
    ) throws(DiagnosticError) -> [IngressRouter] {
        var base = RequestOutcome(terminal: .unhandled)
        var entryPoints: [String] = []
        var pathMatcher = "PathPrefix"
        var fixedPriority: Int?
        switch controller {
        case .traefik:
            for (key, value) in ingress.annotations where key.hasPrefix(Self.traefikPrefix) {
                let name = String(key.dropFirst(Self.traefikPrefix.count))
                switch name {
                case "router.middlewares":
                    middlewares.apply(value, ingress: ingress, to: &base)
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
                case _ where name.hasPrefix("service."):
                    diagnostics.append(.warning("\(name) is not migrated: Gateway API backendRefs have no equivalent (sticky sessions, server scheme and transport settings belong in a BackendTLSPolicy, a ServersTransport or the Service)", at: value.location))
                default:
                    diagnostics.append(.warning("Traefik annotation \(name) is not migrated", at: value.location))
                }
            }
        case .nginx:
            if let provider = NginxAuthAnnotations.provider(for: ingress, diagnostics: &diagnostics) {
                base.addAuth(register(provider, in: &middlewares.providers), at: provider.location ?? ingress.location)
            }
        }
        for entry in ingress.tls {
            let secret = entry.secretName ?? "(none)"
            diagnostics.append(.note("TLS for \(entry.hosts.isEmpty ? "every host" : entry.hosts.joined(separator: ", ")) uses Secret \(ingress.namespace)/\(secret): the Gateway's HTTPS listener needs it in certificateRefs (with a ReferenceGrant when the Gateway is in another namespace)", at: entry.location))
        }
        let useRegex = ingress.annotation(NginxAuthAnnotations.prefix + "use-regex")?.string == "true"

        var routers: [IngressRouter] = []
        func router(host: String?, path: IngressResource.Path?, backend: IngressBackend, defaultBackend: Bool) throws(DiagnosticError) -> IngressRouter {
            let upstream = try self.upstream(backend, namespace: ingress.namespace, resources: resources)
            var outcome = base
            outcome.terminal = .proxy([upstream])
            outcome.provenance.terminal = path?.location ?? backend.location
            let (match, rule) = self.match(path, controller: controller, pathMatcher: pathMatcher, useRegex: useRegex)
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
                // nginx: an exact location first, then the longest prefix.
                if case .exact = match { priority = 1_000_000 + rule.utf8.count } else { priority = rule.utf8.count }
                if host == nil { priority -= 500_000 }
            }
            return IngressRouter(host: host, match: match, priority: priority, outcome: outcome, namespace: ingress.namespace, entryPoints: entryPoints, location: path?.location ?? backend.location)
        }
        if let backend = ingress.defaultBackend {
            if controller == .traefik && !ingress.rules.isEmpty {
                diagnostics.append(.warning("Traefik ignores the default backend of an Ingress that has rules; so does the migration", at: backend.location))
            } else {
                routers.append(try router(host: nil, path: nil, backend: backend, defaultBackend: true))
            }
        }
        for rule in ingress.rules {
            if let host = rule.host, !HostName.isGatewayHostname(host) {
                diagnostics.append(.warning("host '\(host)' is not a hostname Gateway API accepts; its paths are not migrated", at: rule.location))
                continue
            }
            for path in rule.paths {
                routers.append(try router(host: rule.host, path: path, backend: path.backend, defaultBackend: false))
            }
        }
        return routers
    }

    /// The path pattern and the rule text Traefik writes (its length is the router's
    /// default priority).
    private func match(_ path: IngressResource.Path?, controller: Controller, pathMatcher: String, useRegex: Bool) -> (PathPattern, String) {
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
            if path.pathType == "Exact" { return (.exact(value), value) }
            if useRegex { return (.regex("^" + value), value) }
            // The Ingress spec's Prefix, which ingress-nginx passes the conformance
            // tests for: element-wise, and a trailing slash is ignored (`/api/`
            // matches `/api`).
            if path.pathType == "Prefix" {
                let stem = value.count > 1 && value.hasSuffix("/") ? String(value.dropLast()) : value
                return (stem == "/" ? .any : .segmentPrefix(stem), value)
            }
            return (value == "/" ? .any : .prefix(value), value)
        }
    }

    private func upstream(_ backend: IngressBackend, namespace: String, resources: IngressResources) throws(DiagnosticError) -> Upstream {
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
                indices += hostless
                indices += wildcards.filter { routers[$0].host != host && IngressBehaviour.hostMatches(routers[$0].host, representative) }
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

extension String {
    func trimmingSpaces() -> String {
        String(trimmingWhitespace())
    }
}
