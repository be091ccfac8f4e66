/// The product's central promise, checked: for every host, each probe path (every
/// matcher boundary, one segment and one character past it, the bare prefix, and the
/// same paths in upper case, since Caddy matches paths case-insensitively and Gateway
/// API does not) must reach the same backend behind the same auth in the output as in
/// the source, and no path may reach a backend it could not reach before.
public enum CoverageCheck {
    /// `sites` limits the check to those sites of the plan (all when nil); `paths`
    /// replaces the probe paths (tests use it to look beyond the probes).
    public static func run(plan: MigrationPlan, emission: TraefikEmission, sites: Set<Int>? = nil, paths: ((SitePlan) -> [String])? = nil) -> [CoverageFinding] {
        // A request arrives on one listener; the routes of another do not see it.
        let siteIndices = sites.map { $0.sorted() } ?? Array(plan.sites.indices)
        func listener(of siteIndex: Int) -> String {
            let name = emission.routesOfSite.indices.contains(siteIndex)
                ? emission.routesOfSite[siteIndex].first.flatMap { emission.routes[$0].parentRefs.first?.sectionName } : nil
            return name ?? ""
        }
        var routings: [String: TraefikRouting] = [:]
        for siteIndex in siteIndices where routings[listener(of: siteIndex)] == nil {
            let name = listener(of: siteIndex)
            routings[name] = TraefikRouting(routes: emission.routes, listener: name.isEmpty ? nil : name) { namespace, name in
                emission.middlewareEffects[namespace + "/" + name] != nil
            }
        }
        // Each site's differences, worked out on every core; then summed up in order.
        let perSite = siteIndices.concurrentMap { siteIndex -> [CoverageFinding] in
            let site = plan.sites[siteIndex]
            let routing = routings[listener(of: siteIndex)]!
            let hosts = site.hosts.isEmpty ? ["authgate-probe.invalid"] : site.hosts.map { $0.hasPrefix("*.") ? "authgate-probe" + $0.dropFirst() : $0 }
            let probes = paths?(site) ?? RuleSimplifier.probes(for: site)
            var found: [CoverageFinding] = []
            for (hostIndex, host) in hosts.enumerated() {
                let shownHost = site.hosts.isEmpty ? "(any host)" : site.hosts[hostIndex]
                for path in probes {
                    let source = site.behaviour.outcome(host: host, path: path).reachingAuthServerNeedsNoAuth(plan.authProviders)
                    let output = OutputOutcome(routing: routing, emission: emission, host: host, path: path)
                    for var finding in compare(source: source, output: output, plan: plan, emission: emission, host: shownHost, path: path) {
                        finding.siteIndex = siteIndex
                        found.append(finding)
                    }
                }
            }
            return found
        }
        // One finding per host and difference, listing every path it affects.
        var findings: [CoverageFinding] = []
        var indexOf: [String: Int] = [:]
        for finding in perSite.joined() {
            let path = finding.paths[0]
            // Differences that do not break the promise are summed up per host.
            let key = finding.isFailure
                ? "\(finding.host)\u{0}\(finding.kind)\u{0}\(finding.expected)\u{0}\(finding.actual)"
                : "\(finding.host)\u{0}\(finding.kind)"
            if let index = indexOf[key] {
                if !findings[index].paths.contains(path) { findings[index].paths.append(path) }
            } else {
                indexOf[key] = findings.count
                findings.append(finding)
            }
        }
        return findings
    }

    static func compare(source: RequestOutcome, output: OutputOutcome, plan: MigrationPlan, emission: TraefikEmission, host: String, path: String) -> [CoverageFinding] {
        var findings: [CoverageFinding] = []
        let location = source.provenance.terminal
        func add(_ kind: CoverageFinding.Kind, _ expected: String, _ actual: String) {
            findings.append(CoverageFinding(kind: kind, host: host, paths: [path], expected: expected, actual: actual, location: location))
        }
        // authgate routes Authentik's own paths to the outpost on every host it
        // protects (see AuthentikOutpostPaths); the auth server answering there is the
        // intended difference.
        let servers = Set(plan.authProviders.compactMap(\.upstream).compactMap { emission.ref(for: $0, path: path) })
        if !output.backends.isEmpty, Set(output.backends).isSubset(of: servers), output.auth.isEmpty,
            path.hasPrefix(String(AuthentikOutpostPaths.prefix.dropLast())) {
            return findings
        }
        // The same paths in another case: Caddy sent them to the outpost too (it
        // matches case-insensitively), which answers 404 for them; the output sends
        // them to the application behind auth instead. Nothing is exposed.
        let sourceServers = Set(source.upstreams.compactMap { emission.ref(for: $0, path: path) })
        if !sourceServers.isEmpty, sourceServers.isSubset(of: servers), !output.auth.isEmpty,
            path.lowercased().hasPrefix(String(AuthentikOutpostPaths.prefix.dropLast())) {
            return findings
        }
        if output.ambiguous {
            add(.ambiguous, describe(source, plan: plan, emission: emission, path: path), "to whichever of several equal-priority routers Traefik picks (they disagree)")
            return findings
        }
        let sourceBackends = Set(source.upstreams.compactMap { emission.ref(for: $0, path: path) })
        let outputBackends = Set(output.backends)
        let sourceAuth = Set(source.auth)
        let outputAuth = Set(output.auth)
        if !sourceBackends.isEmpty {
            if output.unresolvedMiddleware != nil || outputBackends.isEmpty {
                add(.noLongerReaches, describe(source, plan: plan, emission: emission, path: path), output.describe(plan: plan))
            } else if outputBackends != sourceBackends {
                add(.differentBackend, describe(source, plan: plan, emission: emission, path: path), output.describe(plan: plan))
            } else if !sourceAuth.isSubset(of: outputAuth) {
                add(.lostProtection, describe(source, plan: plan, emission: emission, path: path), output.describe(plan: plan))
            } else {
                if !outputAuth.isSubset(of: sourceAuth) {
                    add(.addedProtection, describe(source, plan: plan, emission: emission, path: path), output.describe(plan: plan))
                }
                let sourcePath = source.upstreamPath(for: path)
                if let outputPath = output.upstreamPath, outputPath != sourcePath {
                    add(.rewriteDiffers, "upstream path \(sourcePath)", "upstream path \(outputPath)")
                }
            }
        } else if !outputBackends.isEmpty && output.unresolvedMiddleware == nil {
            add(.newlyReachable, describe(source, plan: plan, emission: emission, path: path), output.describe(plan: plan))
        } else if case .redirect(let expected) = source.terminal, output.redirect != expected {
            add(.redirectDiffers, describe(source, plan: plan, emission: emission, path: path), output.describe(plan: plan))
        }
        return findings
    }

    static func describe(_ outcome: RequestOutcome, plan: MigrationPlan, emission: TraefikEmission, path: String) -> String {
        let auth = outcome.auth.map { plan.authProviders[$0].kind.rawValue }
        let prefix = auth.isEmpty ? "" : "behind \(auth.joined(separator: " + ")) → "
        switch outcome.terminal {
        case .proxy(let upstreams):
            return prefix + upstreams.map { emission.ref(for: $0, path: path)?.description ?? $0.description }.joined(separator: ", ")
        case .redirect(let redirect):
            return prefix + "redirect \(redirect.status)"
        case .answeredByProxy(let directive):
            return prefix + "answered by '\(directive)'"
        case .unhandled:
            return prefix + "no handler"
        }
    }
}

/// A coverage difference for one host and path.
public struct CoverageFinding: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case lostProtection = "forward auth lost"
        case differentBackend = "different backend"
        case noLongerReaches = "backend no longer reached"
        case newlyReachable = "backend newly reachable"
        case ambiguous = "ambiguous routing"
        case addedProtection = "auth added"
        case rewriteDiffers = "different upstream path"
        case redirectDiffers = "different redirect"
    }

    public var kind: Kind
    public var host: String
    /// The probe paths that show the difference, in the order found.
    public var paths: [String]
    public var expected: String
    public var actual: String
    public var location: SourceLocation?
    /// The plan site whose host shows the difference.
    public var siteIndex: Int?

    /// Whether the difference breaks the promise (convert exits 1 unless
    /// --allow-unprotected): protection lost, a backend changed, gained or lost.
    public var isFailure: Bool {
        switch kind {
        case .lostProtection, .differentBackend, .noLongerReaches, .newlyReachable, .ambiguous: true
        case .addedProtection, .rewriteDiffers, .redirectDiffers: false
        }
    }

    public var message: String {
        let shown = paths.prefix(4).joined(separator: " ") + (paths.count > 4 ? " … (\(paths.count) paths)" : "")
        return "\(kind.rawValue) on \(host) \(shown): the source sent \(paths.count == 1 ? "it" : "them") \(expected); the output sends \(paths.count == 1 ? "it" : "them") \(actual)"
    }
}

/// What Traefik does with one request, read from the emitted routes and Middlewares.
struct OutputOutcome {
    var backends: [BackendRef] = []
    var auth: [Int] = []
    var redirect: Redirect?
    var upstreamPath: String?
    var ambiguous = false
    var unresolvedMiddleware: String?
    var matched = false

    init(routing: TraefikRouting, emission: TraefikEmission, host: String, path: String) {
        let winners = routing.winners(host: host, path: path)
        guard let first = winners.first else { return }
        matched = true
        let rules = winners.map { routing.routes[$0.route].rules[$0.rule] }
        if Set(rules.map { RuleSimplifier.RuleEffect($0) }).count > 1 {
            ambiguous = true
            return
        }
        let route = routing.routes[first.route]
        let rule = route.rules[first.rule]
        backends = rule.backendRefs
        var current = path
        for filter in rule.filters {
            switch filter {
            case .extensionRef(let name):
                apply(name, namespace: route.namespace, emission: emission, path: &current)
            case .replacePrefixMatch(let replacement):
                let prefix = rule.matches.first { $0.kind == .pathPrefix }?.value ?? "/"
                let trimmed = String(prefix.trimmingSuffix("/"))
                if current == trimmed || current.hasPrefix(trimmed + "/") {
                    var rest = String(current.dropFirst(trimmed.count))
                    if rest.hasPrefix("/") && replacement.hasSuffix("/") { rest.removeFirst() }
                    current = replacement + rest
                    if current.isEmpty { current = "/" }
                }
            case .replaceFullPath(let value):
                current = value
            case .requestRedirect(let target):
                redirect = target
            case .requestHeaderModifier, .responseHeaderModifier:
                break
            }
        }
        upstreamPath = backends.isEmpty ? nil : current
    }

    private mutating func apply(_ name: String, namespace: String, emission: TraefikEmission, path: inout String) {
        guard let effect = emission.middlewareEffects[namespace + "/" + name] else {
            unresolvedMiddleware = name
            return
        }
        switch effect {
        case .auth(let provider): auth.append(provider)
        case .stripPrefix(let prefix):
            if path.hasPrefix(prefix) {
                path = String(path.dropFirst(prefix.count))
                if !path.hasPrefix("/") { path = "/" + path }
            }
        case .stripPrefixIgnoringCase(let prefix):
            if path.lowercased().hasPrefix(prefix.lowercased()) {
                path = String(path.dropFirst(prefix.count))
                if !path.hasPrefix("/") { path = "/" + path }
            }
        case .addPrefix(let prefix): path = prefix + path
        case .replacePath(let value): path = value
        case .chain(let names):
            for inner in names { apply(inner, namespace: namespace, emission: emission, path: &path) }
        case .passthrough:
            break
        }
    }

    func describe(plan: MigrationPlan) -> String {
        if ambiguous { return "ambiguously" }
        if let unresolvedMiddleware { return "to Middleware \(unresolvedMiddleware), which is not written (Traefik answers 500)" }
        if !matched { return "nowhere (Traefik answers 404)" }
        let names = auth.map { plan.authProviders[$0].kind.rawValue }
        let prefix = names.isEmpty ? "" : "behind \(names.joined(separator: " + ")) → "
        if let redirect { return prefix + "redirect \(redirect.status)" }
        if backends.isEmpty { return prefix + "a rule without backends (Traefik answers an error)" }
        return prefix + backends.map(\.description).joined(separator: ", ")
    }
}
