/// Turns a migration plan into the objects a Traefik Gateway needs: HTTPRoutes, the
/// Middlewares they refer to by `ExtensionRef`, ReferenceGrants for cross-namespace
/// backends, Services and EndpointSlices for upstreams outside the cluster, and an
/// Authentik outpost where one must be deployed.
public struct TraefikEmitter: Sendable {
    public var options: TraefikOptions

    public init(options: TraefikOptions) {
        self.options = options
    }

    public func emit(_ plan: MigrationPlan, diagnostics: inout Diagnostics) -> TraefikEmission {
        var resolver = BackendResolver(options: options)
        var objects: [KubeObject] = []
        var effects: [String: MiddlewareEffect] = [:]

        // Authentik servers the cluster cannot reach as a Service get a new outpost.
        var needsOutpost = false
        let outpostRef = BackendRef(name: options.outpostName, namespace: options.outpostNamespace, port: options.outpostPort)
        var outpostRefs: [Upstream: BackendRef] = [:]
        let usedProviders = Set(plan.sites.flatMap { $0.decisions.flatMap(\.outcome.auth) })
        for (index, provider) in plan.authProviders.enumerated() where provider.kind == .authentik && usedProviders.contains(index) {
            guard let upstream = provider.upstream else { continue }
            if !upstream.isInClusterService, let given = options.authentikOutpostURL {
                // The outpost runs already, outside the cluster: its own paths go to a
                // selector-less Service for it, as other outside upstreams do.
                outpostRefs[upstream] = resolver.ref(for: given, location: provider.location, diagnostics: &diagnostics)
                diagnostics.append(.note("Authentik's outpost is at \(given) (--authentik-outpost-url): authgate deploys none, the Middleware calls it there, and /outpost.goauthentik.io/ goes to it", at: provider.location))
            } else if upstream.isInClusterService {
                diagnostics.append(.note("Authentik upstream \(upstream) is a Service in the cluster, so its outpost already exists; authgate deploys none and points the Middleware at it", at: provider.location))
            } else {
                needsOutpost = true
                outpostRefs[upstream] = outpostRef
            }
        }
        if needsOutpost {
            objects += AuthentikOutpost.objects(options)
            let firstLocation = plan.authProviders.first { $0.kind == .authentik && !($0.upstream?.isInClusterService ?? true) }?.location
            diagnostics.append(.note("Authentik's server is not a Service in the cluster, so authgate deploys a proxy outpost: Deployment \(options.outpostNamespace)/\(options.outpostName) with image ghcr.io/goauthentik/proxy:\(options.authentikVersion); create an outpost of type Proxy in Authentik for it", at: firstLocation))
            if !options.authentikVersionGiven {
                diagnostics.append(.warning("the outpost image is pinned to Authentik \(options.authentikVersion); the outpost must run the same version as your Authentik server: set --authentik-version", at: firstLocation))
            }
            var missing: [String] = []
            if options.authentikHost == nil { missing.append("--authentik-host (the URL of your Authentik server)") }
            if options.authentikToken == nil { missing.append("--authentik-token-file (the outpost's token from Authentik's Outposts page)") }
            if !missing.isEmpty {
                diagnostics.append(.warning("Secret \(options.outpostNamespace)/\(options.outpostName)-api holds placeholders marked REPLACE-ME; set " + missing.joined(separator: " and "), at: firstLocation))
            }
        }

        // One auth Middleware per (namespace, provider): named after the provider, or
        // keeping its name when the source wrote it for Traefik already.
        var middlewareName: [Int: String] = [:]
        var takenNames = Set<String>()
        for index in usedProviders.sorted() {
            let provider = plan.authProviders[index]
            let base: String
            switch provider.kind {
            case _ where provider.copied != nil: base = provider.copied!.name
            case .authentik: base = "authentik-forward-auth"
            case .authelia: base = "authelia-forward-auth"
            case .oauth2Proxy: base = "oauth2-proxy-forward-auth"
            case .generic: base = "forward-auth"
            case .basicAuth: base = "basic-auth"
            }
            var name = base
            var counter = 2
            while takenNames.contains(name) { name = "\(base)-\(counter)"; counter += 1 }
            takenNames.insert(name)
            middlewareName[index] = name
        }
        var namespacesOfProvider: [Int: Set<String>] = [:]
        var passthroughByNamespace: [String: [CopiedMiddleware]] = [:]
        for site in plan.sites {
            let namespace = site.namespace ?? options.namespace
            for decision in site.decisions {
                for provider in decision.outcome.auth { namespacesOfProvider[provider, default: []].insert(namespace) }
                for copied in decision.outcome.passthrough where !(passthroughByNamespace[namespace] ?? []).contains(copied) {
                    passthroughByNamespace[namespace, default: []].append(copied)
                }
            }
        }
        for index in usedProviders.sorted() {
            guard let name = middlewareName[index] else { continue }
            for namespace in (namespacesOfProvider[index] ?? []).sorted() {
                effects[namespace + "/" + name] = .auth(index)
                objects += authMiddleware(plan.authProviders[index], name: name, namespace: namespace, resolver: &resolver, diagnostics: &diagnostics)
            }
        }
        for namespace in passthroughByNamespace.keys.sorted() {
            for copied in passthroughByNamespace[namespace] ?? [] {
                effects[namespace + "/" + copied.name] = .passthrough
                if let object = Self.copy(copied, into: namespace) { objects.append(object) }
            }
        }

        // Rules per site, simplified, then compensated where the coverage check finds
        // Traefik would route a path differently from the source.
        var builder = RuleBuilder(middlewareName: middlewareName)
        var siteRules: [[HTTPRouteRule]] = []
        for site in plan.sites {
            var rules: [HTTPRouteRule] = []
            for decision in site.decisions {
                let outcome = decision.outcome
                var refs: [BackendRef] = []
                for upstream in outcome.upstreams {
                    if let outpost = outpostRefs[upstream], OutpostPath.covers(decision.match) {
                        refs.append(outpost)
                    } else {
                        refs.append(resolver.ref(for: upstream, location: outcome.provenance.terminal ?? site.location, diagnostics: &diagnostics))
                    }
                }
                rules.append(builder.rule(for: decision, backends: refs, namespace: site.namespace ?? options.namespace))
            }
            siteRules.append(rules)
        }
        simplify(plan, &siteRules)
        var refs: [Upstream: BackendRef] = [:]
        // An auth server only the Middleware calls needs no Service of its own: its
        // address is a URL Traefik calls itself. Services are written for upstreams
        // that routes reach.
        let authOnly = plan.authProviders.compactMap(\.upstream).filter { upstream in
            if case .service = upstream.placement { return true }
            return routesReach(plan, upstream)
        }
        for upstream in plan.upstreams + authOnly where outpostRefs[upstream] == nil || routesReach(plan, upstream) {
            refs[upstream] = resolver.ref(for: upstream, location: nil, diagnostics: &diagnostics)
        }
        let fixedObjects = objects + resolver.objects
        let baseEffects = effects
        let assemble = { (siteRules: [[HTTPRouteRule]], builder: RuleBuilder) -> TraefikEmission in
            var routes: [HTTPRoute] = []
            var routesOfSite: [[Int]] = []
            var routeNames = Set<String>()
            for (index, site) in plan.sites.enumerated() {
                let built = self.routeObjects(for: site, rules: siteRules[index], names: &routeNames)
                routesOfSite.append(Array(routes.count..<(routes.count + built.count)))
                routes += built
            }
            var effects = baseEffects
            for (key, effect) in builder.rewriteMiddlewares {
                effects[key] = effect
            }
            var objects = fixedObjects + builder.middlewareObjects + self.referenceGrants(routes) + routes.map(\.object)
            objects.sort(by: KubeObject.outputOrder)
            return TraefikEmission(objects: objects, routes: routes, middlewareEffects: effects, backendRefs: refs, outpostRefs: outpostRefs, routesOfSite: routesOfSite, defaultNamespace: self.options.namespace, caseSensitivePaths: self.options.caseSensitivePaths)
        }
        var emission = assemble(siteRules, builder)
        emission.findings = CoverageCheck.run(plan: plan, emission: emission)
        if emission.findings.contains(where: \.isFailure) {
            let failingSites = Set(emission.findings.filter(\.isFailure).compactMap(\.siteIndex))
            let broadSites = plan.sites.indices.filter { plan.sites[$0].hosts.isEmpty || plan.sites[$0].hosts.contains { $0.hasPrefix("*.") } }
            // The sites whose rules the repair may change (nil: any of them).
            var changed: Set<Int>? = nil
            if failingSites.isDisjoint(with: broadSites) {
                changed = failingSites
                // Sites only compete with the broad ones: repair each where it fails,
                // in a plan of its own holding it and the broad sites that compete, so
                // a repair costs the same whether the file has ten sites or 20,000.
                // The repairs are independent, so they run side by side, each with its
                // own copy of the builder; the Middlewares they add are then gathered
                // in site order (their names come from what they do, so two sites
                // needing the same one share it).
                let start = builder
                let rulesBefore = siteRules
                let repaired = failingSites.sorted().concurrentMap { siteIndex -> (rules: [HTTPRouteRule], builder: RuleBuilder) in
                    let members = [siteIndex] + broadSites.filter { Self.competes(plan.sites[$0].hosts, with: plan.sites[siteIndex].hosts) }
                    var local = plan
                    local.sites = members.map { plan.sites[$0] }
                    var localRules = members.map { rulesBefore[$0] }
                    var localBuilder = start
                    let assembleLocal = { (siteRules: [[HTTPRouteRule]], builder: RuleBuilder) -> TraefikEmission in
                        var names = Set<String>()
                        var routes: [HTTPRoute] = []
                        var routesOfSite: [[Int]] = []
                        for (index, site) in local.sites.enumerated() {
                            let built = self.routeObjects(for: site, rules: siteRules[index], names: &names)
                            routesOfSite.append(index == 0 ? Array(routes.count..<(routes.count + built.count)) : [])
                            routes += built
                        }
                        var effects = baseEffects
                        for (key, effect) in builder.rewriteMiddlewares { effects[key] = effect }
                        return TraefikEmission(objects: [], routes: routes, middlewareEffects: effects, backendRefs: refs, outpostRefs: outpostRefs, routesOfSite: routesOfSite, defaultNamespace: self.options.namespace, caseSensitivePaths: self.options.caseSensitivePaths)
                    }
                    CoverageRepair.repair(plan: local, siteRules: &localRules, builder: &localBuilder, assemble: assembleLocal, only: [0])
                    return (localRules[0], localBuilder)
                }
                for (siteIndex, result) in zip(failingSites.sorted(), repaired) {
                    siteRules[siteIndex] = result.rules
                    builder.absorb(result.builder)
                }
            } else {
                CoverageRepair.repair(plan: plan, siteRules: &siteRules, builder: &builder, assemble: assemble)
            }
            // Compensations can make earlier rules redundant; drop those, unless that
            // lets a path fail again. Only the changed sites need simplifying and
            // checking again; the others keep what the first check found.
            let firstFindings = emission.findings
            let check = { (emission: TraefikEmission) -> [CoverageFinding] in
                guard let changed, Self.hostsAreOwn(changed, in: plan) else { return CoverageCheck.run(plan: plan, emission: emission) }
                return Self.merge(firstFindings.filter { !changed.contains($0.siteIndex ?? -1) }, CoverageCheck.run(plan: plan, emission: emission, sites: changed))
            }
            var simpler = siteRules
            simplify(plan, &simpler, only: changed)
            var simplerEmission = assemble(simpler, builder)
            simplerEmission.findings = check(simplerEmission)
            let simplerFailing = simplerEmission.findings.filter(\.isFailure).reduce(0) { $0 + $1.paths.count }
            if simplerFailing == 0 {
                return simplerEmission
            }
            emission = assemble(siteRules, builder)
            emission.findings = check(emission)
            let repairedFailing = emission.findings.filter(\.isFailure).reduce(0) { $0 + $1.paths.count }
            if simplerFailing <= repairedFailing { return simplerEmission }
        }
        return emission
    }

    /// Drops rules Traefik would not miss: for each site, a rule goes when every probe
    /// of the site's hosts is routed the same without it, counting the broader routes
    /// (wildcard and catch-all hosts) that compete for the same requests.
    /// `only` limits it to those sites.
    private func simplify(_ plan: MigrationPlan, _ siteRules: inout [[HTTPRouteRule]], only: Set<Int>? = nil) {
        let broad = plan.sites.indices.filter { index in plan.sites[index].hosts.isEmpty || plan.sites[index].hosts.contains { $0.hasPrefix("*.") } }
        let broadSet = Set(broad)
        func simplified(_ index: Int, _ siteRules: [[HTTPRouteRule]]) -> [HTTPRouteRule] {
            let site = plan.sites[index]
            let competitors = broad.filter { $0 != index && Self.competes(plan.sites[$0].hosts, with: site.hosts) }.map { other in
                HTTPRoute(name: "", namespace: options.namespace, parentRefs: [], hostnames: plan.sites[other].hosts, rules: siteRules[other])
            }
            return RuleSimplifier.simplify(
                siteRules[index], hosts: site.hosts, competitors: competitors, probes: RuleSimplifier.probes(for: site),
                variants: site.behaviour.variants.map(\.request))
        }
        // Broad sites compete with each other: one after another. The others compete
        // only with the broad ones, so they are simplified side by side.
        for index in broad where only?.contains(index) ?? true {
            siteRules[index] = simplified(index, siteRules)
        }
        let rest = plan.sites.indices.filter { !broadSet.contains($0) && only?.contains($0) ?? true }
        let before = siteRules
        for (index, rules) in zip(rest, rest.concurrentMap { simplified($0, before) }) {
            siteRules[index] = rules
        }
    }

    /// A Middleware from the input, in the namespace of the routes that refer to it
    /// (an ExtensionRef is local), as `traefik.io/v1alpha1`.
    static func copy(_ middleware: CopiedMiddleware, into namespace: String) -> KubeObject? {
        guard let spec = middleware.spec else { return nil }
        return KubeObject(
            apiVersion: "traefik.io/v1alpha1", kind: "Middleware", name: middleware.name, namespace: namespace, labels: KubeLabels.managed,
            fields: [.init("spec", spec)])
    }

    /// Whether some decision sends requests outside the outpost's own paths to `upstream`.
    private func routesReach(_ plan: MigrationPlan, _ upstream: Upstream) -> Bool {
        plan.sites.contains { site in
            site.decisions.contains { $0.outcome.upstreams.contains(upstream) && !OutpostPath.covers($0.match) }
        }
    }

    /// Whether no other site serves a host of these sites: the coverage check sums
    /// findings up per host, so only then are the findings of these sites their own.
    static func hostsAreOwn(_ sites: Set<Int>, in plan: MigrationPlan) -> Bool {
        var owner: [String: Bool] = [:]
        for (index, site) in plan.sites.enumerated() {
            let mine = sites.contains(index)
            for host in site.hosts.isEmpty ? [""] : site.hosts {
                if let known = owner[host], known != mine { return false }
                owner[host] = mine
            }
        }
        return true
    }

    /// Findings of two checks over disjoint sites, in site order as one check gives them.
    static func merge(_ first: [CoverageFinding], _ second: [CoverageFinding]) -> [CoverageFinding] {
        var merged: [CoverageFinding] = []
        merged.reserveCapacity(first.count + second.count)
        var a = first[...], b = second[...]
        while let x = a.first, let y = b.first {
            if (y.siteIndex ?? -1) < (x.siteIndex ?? -1) {
                merged.append(y)
                b = b.dropFirst()
            } else {
                merged.append(x)
                a = a.dropFirst()
            }
        }
        return merged + a + b
    }

    /// Whether a route for `broad` hostnames (wildcards, or none) can take requests
    /// meant for `hosts`.
    static func competes(_ broad: [String], with hosts: [String]) -> Bool {
        if broad.isEmpty { return true }
        if hosts.isEmpty { return true }
        return hosts.contains { host in
            let probe = host.hasPrefix("*.") ? "authgate-probe" + host.dropFirst() : host
            return broad.contains { $0 != host && HostName.gatewayMatches(pattern: $0, host: probe) }
        }
    }

    /// The Middleware (and for basic auth its Secret) for one auth provider.
    private func authMiddleware(_ provider: AuthProvider, name: String, namespace: String, resolver: inout BackendResolver, diagnostics: inout Diagnostics) -> [KubeObject] {
        if let copied = provider.copied {
            if provider.kind == .basicAuth, copied.namespace != namespace, let secret = copied.spec?["basicAuth"]?["secret"]?.stringValue ?? copied.spec?["digestAuth"]?["secret"]?.stringValue {
                diagnostics.append(.warning("Middleware \(copied.namespace)/\(copied.name) is copied into namespace \(namespace), but its Secret \(secret) stays in \(copied.namespace): copy Secret \(secret) into \(namespace) too, or the routes there answer 500", at: copied.location))
            }
            var renamed = copied
            renamed.name = name
            return Self.copy(renamed, into: namespace).map { [$0] } ?? []
        }
        if provider.kind == .basicAuth {
            let secretName = name + "-users"
            if let missing = provider.missingUsersSecret {
                diagnostics.append(.warning("Secret \(missing) with the users is not in the input, so Secret \(namespace)/\(secretName) is written without users (nobody can log in): fill its 'users' key with the htpasswd lines, e.g. kubectl -n \(missing.split(separator: "/").first ?? "") get secret \(missing.split(separator: "/").last ?? "") -o jsonpath='{.data.auth}' | base64 -d, or add the Secret to the input", at: provider.location))
            }
            let secret = KubeObject(
                apiVersion: "v1", kind: "Secret", name: secretName, namespace: namespace, labels: KubeLabels.managed,
                fields: [.init("type", .string("Opaque")), .init("stringData", .object([("users", .string(provider.basicAuthUsers.joined(separator: "\n") + "\n"))]))])
            let middleware = KubeObject(
                apiVersion: "traefik.io/v1alpha1", kind: "Middleware", name: name, namespace: namespace, labels: KubeLabels.managed,
                fields: [.init("spec", .object([(provider.digest ? "digestAuth" : "basicAuth", .object([("secret", .string(secretName)), ("realm", provider.realm.map(YAMLValue.string))]))]))])
            return [secret, middleware]
        }
        guard var upstream = provider.upstream else { return [] }
        // Traefik calls the address itself: a Service by its cluster DNS name; an
        // Authentik server outside the cluster through the new outpost (plain HTTP
        // inside the cluster); another server outside the cluster directly.
        if provider.kind == .authentik && !upstream.isInClusterService, let given = options.authentikOutpostURL {
            // --authentik-outpost-url: an outpost that runs already, outside the cluster.
            upstream = given
        }
        let newOutpost = provider.kind == .authentik && !upstream.isInClusterService && options.authentikOutpostURL == nil
        var ref = BackendRef(name: options.outpostName, namespace: options.outpostNamespace, port: options.outpostPort)
        switch upstream.placement {
        case _ where newOutpost: break
        case .service: ref = resolver.ref(for: upstream, location: provider.location, diagnostics: &diagnostics)
        default: ref = BackendRef(name: upstream.host, namespace: nil, port: upstream.port)
        }
        var scheme = upstream.scheme == .https ? "https" : "http"
        let host: String
        switch upstream.placement {
        case _ where newOutpost:
            scheme = "http"
            host = "\(options.outpostName).\(options.outpostNamespace).svc.cluster.local"
        case .ip, .externalHost:
            host = upstream.host.contains(":") ? "[\(upstream.host)]" : upstream.host
        case .loopback:
            // A Unix socket is no URL host; either way Traefik cannot reach it (the
            // check refuses it unless --allow-unprotected), and the address stays valid.
            host = upstream.host.hasPrefix("unix/") ? "localhost" : upstream.host
            diagnostics.append(.warning("the auth server \(upstream) is the Caddy host itself; Traefik in the cluster cannot reach it: run it in the cluster and fix the Middleware's address", at: provider.location))
        case .service:
            host = "\(ref.name).\(ref.namespace ?? namespace).svc.cluster.local"
        }
        var endpoint = provider.endpoint
        if provider.kind == .authentik {
            let proxies = ["/outpost.goauthentik.io/auth/caddy", "/outpost.goauthentik.io/auth/nginx", "/outpost.goauthentik.io/auth/envoy"]
            if proxies.contains(endpoint.lowercased()) {
                endpoint = "/outpost.goauthentik.io/auth/traefik"
            } else if endpoint.lowercased() != "/outpost.goauthentik.io/auth/traefik" {
                diagnostics.append(.warning("Authentik endpoint \(endpoint) is not one authgate knows; Traefik needs /outpost.goauthentik.io/auth/traefik, check the Middleware address", at: provider.location))
            }
        }
        let port = ref.port
        let address = "\(scheme)://\(host):\(port)\(endpoint)"
        if !provider.trustedProxies.isEmpty {
            diagnostics.append(.note("forward_auth trusted X-Forwarded-* headers from \(provider.trustedProxies.joined(separator: " ")); Traefik keeps that trust on the entry point: set entryPoints.<name>.forwardedHeaders.trustedIPs to the same ranges (trustForwardHeader on the Middleware is deprecated since Traefik v3.6.14 and not written)", at: provider.location))
        }
        // Traefik calls an HTTPS auth server itself: its certificate check is the
        // Middleware's (tls.insecureSkipVerify, a CA from a Secret).
        var tls: YAMLValue?
        if let settings = provider.tls, scheme == "https" {
            var entries: [(String, YAMLValue?)] = []
            if !settings.caFiles.isEmpty {
                let secret = KubernetesName.label(from: name + "-ca")
                entries.append(("caSecret", .string(secret)))
                diagnostics.append(.note("the auth server's certificate is checked against \(settings.caFiles.joined(separator: ", ")); create Secret \(namespace)/\(secret) holding it (kubectl -n \(namespace) create secret generic \(secret) --from-file=ca.crt=\(settings.caFiles[0])), which the Middleware names as tls.caSecret", at: provider.location))
            }
            if settings.insecureSkipVerify {
                entries.append(("insecureSkipVerify", .bool(true)))
                diagnostics.append(.warning("forward_auth skipped the auth server's certificate check (tls_insecure_skip_verify); the Middleware does the same (tls.insecureSkipVerify), which lets anyone on the path impersonate the auth server", at: provider.location))
            }
            if !entries.isEmpty { tls = .object(entries) }
        }
        let spec: YAMLValue = .object([
            ("forwardAuth", .object([
                ("address", .string(address)),
                ("authResponseHeaders", provider.copyHeaders.isEmpty ? nil : .strings(provider.copyHeaders)),
                ("authSigninURL", provider.signinURL.map(YAMLValue.string)),
                ("tls", tls),
            ])),
        ])
        return [KubeObject(
            apiVersion: "traefik.io/v1alpha1", kind: "Middleware", name: name, namespace: namespace, labels: KubeLabels.managed,
            fields: [.init("spec", spec)])]
    }

    /// The HTTPRoute(s) for a site: at most 16 hostnames and 16 rules each (the CRD's
    /// limits), split deterministically.
    private func routeObjects(for site: SitePlan, rules: [HTTPRouteRule], names: inout Set<String>) -> [HTTPRoute] {
        let base: String
        if let first = site.hosts.first {
            base = first.hasPrefix("*.") ? KubernetesName.label(from: "wildcard-" + first.dropFirst(2)) : KubernetesName.label(from: first)
        } else {
            base = "catch-all"
        }
        func parent(_ sectionName: String?) -> HTTPRoute.ParentRef {
            HTTPRoute.ParentRef(name: options.gatewayName, namespace: options.gatewayNamespace, sectionName: sectionName)
        }
        var parents = site.listeners.isEmpty ? [parent(options.sectionName)] : site.listeners.map { parent(options.listener(forEntryPoint: $0)) }
        var redirectRoute: HTTPRoute?
        if let status = site.httpsRedirect {
            // Gateway API's migration guide: serve on the HTTPS listener, redirect on the
            // HTTP one with a route of its own.
            let plain = options.listener(forEntryPoint: "web")
            let serving = site.listeners.filter { options.listener(forEntryPoint: $0) != plain }
            parents = (serving.isEmpty ? ["websecure"] : serving).map { parent(options.listener(forEntryPoint: $0)) }
            var name = base + "-https-redirect"
            var counter = 2
            while names.contains(name) { name = "\(base.prefix(50))-https-redirect-\(counter)"; counter += 1 }
            names.insert(name)
            redirectRoute = HTTPRoute(
                name: name, namespace: site.namespace ?? options.namespace, parentRefs: [parent(plain)], hostnames: site.hosts,
                rules: [HTTPRouteRule(matches: [PathMatch(.pathPrefix, "/")], filters: [.requestRedirect(Redirect(status: status, scheme: "https"))], provenance: "redirectScheme")])
        }
        let hostChunks = site.hosts.isEmpty ? [[]] : stride(from: 0, to: site.hosts.count, by: 16).map { Array(site.hosts[$0..<min($0 + 16, site.hosts.count)]) }
        var ruleChunks: [[HTTPRouteRule]] = []
        var current: [HTTPRouteRule] = []
        var matchCount = 0
        for rule in rules {
            if current.count == 16 || matchCount + rule.matches.count > 128 {
                ruleChunks.append(current)
                current = []
                matchCount = 0
            }
            current.append(rule)
            matchCount += rule.matches.count
        }
        ruleChunks.append(current)
        var routes: [HTTPRoute] = []
        for hosts in hostChunks {
            for chunk in ruleChunks {
                var name = base
                var counter = 2
                while names.contains(name) { name = "\(base.prefix(58))-\(counter)"; counter += 1 }
                names.insert(name)
                routes.append(HTTPRoute(name: name, namespace: site.namespace ?? options.namespace, parentRefs: parents, hostnames: hosts, rules: chunk))
            }
        }
        if let redirectRoute { routes.append(redirectRoute) }
        return routes
    }

    /// A ReferenceGrant in each namespace that routes from another namespace refer
    /// into, allowing exactly those route namespaces and exactly the Services named.
    private func referenceGrants(_ routes: [HTTPRoute]) -> [KubeObject] {
        var wanted: [String: [String: Set<String>]] = [:]
        for route in routes {
            for rule in route.rules {
                for ref in rule.backendRefs {
                    guard let namespace = ref.namespace, namespace != route.namespace else { continue }
                    wanted[namespace, default: [:]][route.namespace, default: []].insert(ref.name)
                }
            }
        }
        var grants: [KubeObject] = []
        for target in wanted.keys.sorted() {
            guard let sources = wanted[target] else { continue }
            for source in sources.keys.sorted() {
                let names = (sources[source] ?? []).sorted()
                grants.append(KubeObject(
                    apiVersion: "gateway.networking.k8s.io/v1beta1", kind: "ReferenceGrant",
                    name: KubernetesName.label(from: "httproutes-from-" + source), namespace: target, labels: KubeLabels.managed,
                    fields: [.init("spec", .object([
                        ("from", .list([.object([("group", .string("gateway.networking.k8s.io")), ("kind", .string("HTTPRoute")), ("namespace", .string(source))])])),
                        ("to", .list(names.map { .object([("group", .string("")), ("kind", .string("Service")), ("name", .string($0))]) })),
                    ]))]))
            }
        }
        return grants
    }
}
