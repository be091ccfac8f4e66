/// The product's central promise, checked: for every host, each probe path (every
/// matcher boundary, one segment and one character past it, the bare prefix, and the
/// same paths in upper case, since Caddy matches paths case-insensitively and Gateway
/// API does not) must reach the same backend behind the same auth in the output as in
/// the source, and no path may reach a backend it could not reach before.
public enum CoverageCheck {
    /// `sites` limits the check to those sites of the plan (all when nil); `paths`
    /// replaces the probe paths (tests use it to look beyond the probes).
    /// `variants` replaces the requests sent to each path (tests use it to send
    /// combinations the probes do not).
    public static func run(
        plan: MigrationPlan, emission: TraefikEmission, sites: Set<Int>? = nil, paths: ((SitePlan) -> [String])? = nil,
        variants requests: ((SitePlan) -> [RequestVariant])? = nil
    ) -> [CoverageFinding] {
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
            let variants = requests.map { make in make(site).map { ProbeVariant(request: $0, conditions: .none) } } ?? site.behaviour.variants
            let assignments = site.behaviour.opaqueAssignments
            let opaque = site.behaviour.opaqueConditions
            var found: [CoverageFinding] = []
            for pattern in site.unsampledPatterns {
                var finding = CoverageFinding(
                    kind: .unknown, host: site.hosts.first ?? "(any host)", paths: [], expected: "", actual: "", location: site.location,
                    unknown: [UnknownConstruct(
                        construct: "path pattern '\(pattern)'", location: site.location,
                        resolution: "authgate found no request path it matches, so it cannot check what the route it guards does; write it more simply", decidesOutcome: true)])
                finding.siteIndex = siteIndex
                found.append(finding)
            }
            for (hostIndex, host) in hosts.enumerated() {
                let shownHost = site.hosts.isEmpty ? "(any host)" : site.hosts[hostIndex]
                for path in probes {
                    for (variantIndex, variant) in variants.enumerated() {
                        let output = OutputOutcome(routing: routing, emission: emission, host: host, path: path, request: variant.request)
                        let sources = assignments.map { assignment -> RequestOutcome in
                            var request = variant.request
                            request.holding = assignment
                            return site.behaviour.outcome(host: host, path: path, request: request).reachingAuthServerNeedsNoAuth(plan.authProviders, path: path)
                        }
                        var results = compare(source: sources[0], output: output, plan: plan, emission: emission, host: shownHost, path: path)
                        if sources.contains(where: { $0 != sources[0] }) {
                            // The source's answer depends on conditions authgate cannot
                            // evaluate: the output must be right whichever way they go.
                            let failing = sources.dropFirst().contains { other in
                                compare(source: other, output: output, plan: plan, emission: emission, host: shownHost, path: path).contains(where: \.isFailure)
                            }
                            if failing || results.contains(where: \.isFailure) {
                                let deciding = zip(assignments, sources).filter { $0.1 != sources[0] }.flatMap { $0.0 }
                                let constructs = opaque.filter { deciding.contains($0.id) }.map(\.unknown)
                                results = [CoverageFinding(
                                    kind: .unknown, host: shownHost, paths: [path],
                                    expected: Set(sources.map { describe($0, plan: plan, emission: emission, path: path) }).sorted().joined(separator: " or "),
                                    actual: output.describe(plan: plan), location: constructs.first?.location, unknown: constructs)]
                            }
                        }
                        for var finding in results {
                            finding.siteIndex = siteIndex
                            if variantIndex > 0 { finding.variant = variant.request }
                            found.append(finding)
                        }
                    }
                }
            }
            return found
        }
        // One finding per host and difference, listing every path it affects.
        var findings: [CoverageFinding] = []
        var indexOf: [String: Int] = [:]
        for finding in perSite.joined() {
            guard let path = finding.paths.first else {
                findings.append(finding)
                continue
            }
            // Differences that do not break the promise are summed up per host.
            let variant = finding.variant.map(\.description) ?? ""
            let key = finding.kind == .unknown
                ? "\(finding.host)\u{0}\(finding.kind)\u{0}\(finding.unknown.map(\.description))"
                : finding.isFailure
                ? "\(finding.host)\u{0}\(finding.kind)\u{0}\(finding.expected)\u{0}\(finding.actual)\u{0}\(variant)"
                : "\(finding.host)\u{0}\(finding.kind)\u{0}\(variant)"
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
        var findings = differences(source: source, output: output, plan: plan, emission: emission, host: host, path: path)
        // `--case-sensitive-paths`: an upper-case spelling Caddy matched like the lower
        // case one may end elsewhere, when that is at least as protected (no backend, or
        // another behind at least the same auth); never where it loses auth or reaches
        // a backend it could not reach.
        if emission.caseSensitivePaths, path != path.lowercased() {
            for index in findings.indices {
                let atLeastAsProtected = findings[index].kind == .noLongerReaches
                    || findings[index].kind == .differentBackend && Set(source.auth).isSubset(of: Set(output.auth))
                if atLeastAsProtected && output.unresolvedMiddleware == nil { findings[index].kind = .caseSpelling }
            }
        }
        return findings
    }

    static func differences(source: RequestOutcome, output: OutputOutcome, plan: MigrationPlan, emission: TraefikEmission, host: String, path: String) -> [CoverageFinding] {
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
        // A construct authgate cannot evaluate ran on the way to a backend: whatever it
        // did (deny, answer, let through), the output does not reproduce it.
        if !source.unknown.isEmpty && (source.unknown.contains(where: \.decidesOutcome) || !source.upstreams.isEmpty && !output.backends.isEmpty) {
            var finding = CoverageFinding(kind: .unknown, host: host, paths: [path], expected: describe(source, plan: plan, emission: emission, path: path), actual: output.describe(plan: plan), location: source.unknown.first?.location)
            finding.unknown = source.unknown
            findings.append(finding)
            return findings
        }
        if output.ambiguous {
            add(.ambiguous, describe(source, plan: plan, emission: emission, path: path), "to whichever of several equal-priority routers Traefik picks (they disagree)")
            return findings
        }
        // An upstream the output never refers to still counts: the source reached it
        // (a decision that chose another outcome left it out of the output).
        let sourceBackends = Set(source.upstreams.map { emission.ref(for: $0, path: path) ?? BackendRef(name: $0.description, namespace: "(not in the output)", port: $0.port) })
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
        /// The source's answer depends on something authgate cannot evaluate.
        case unknown = "unknown"
        /// A site that guarded access is not in the output at all.
        case siteLeftOut = "protected site left out"
        /// The output would hold nothing the source did.
        case nothingConverted = "nothing to convert"
        /// `--case-sensitive-paths`: an upper-case spelling ends elsewhere, at least as
        /// protected.
        case caseSpelling = "upper-case spelling routed elsewhere"
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
    /// The request the paths were sent with, when not the plain one.
    public var variant: RequestVariant?
    /// For `.unknown`: what authgate cannot evaluate.
    public var unknown: [UnknownConstruct] = []

    public init(kind: Kind, host: String, paths: [String], expected: String, actual: String, location: SourceLocation?, unknown: [UnknownConstruct] = []) {
        self.kind = kind
        self.host = host
        self.paths = paths
        self.expected = expected
        self.actual = actual
        self.location = location
        self.unknown = unknown
    }

    /// Whether the difference breaks the promise (convert exits 1 unless
    /// --allow-unprotected): protection lost, a backend changed, gained or lost.
    public var isFailure: Bool {
        switch kind {
        case .lostProtection, .differentBackend, .noLongerReaches, .newlyReachable, .ambiguous, .unknown, .siteLeftOut, .nothingConverted: true
        case .addedProtection, .rewriteDiffers, .redirectDiffers, .caseSpelling: false
        }
    }

    public var message: String {
        let them = shownPaths.count == 1 && paths.count == 1 ? "it" : "them"
        let with = variant.map { " (\($0))" } ?? ""
        if kind == .nothingConverted { return "nothing to convert: \(actual)" }
        if kind == .caseSpelling {
            return "upper-case spelling routed elsewhere on \(host) \(shownPathList)\(with): Caddy matched \(them) like the lower-case paths and sent \(them) \(expected); with --case-sensitive-paths the output sends \(them) \(actual), which is at least as protected"
        }
        if kind == .siteLeftOut {
            return "protected site \(host) is not in the output, so it would not be served at all after the migration: \(actual) (fix the address, or --allow-unprotected converts the rest)"
        }
        if kind == .unknown && paths.isEmpty {
            return "unknown on \(host): \(unknown.map(\.description).joined(separator: ", ")): \(unknown.map(\.resolution).joined(separator: "; "))"
        }
        if kind == .unknown {
            let named = unknown.isEmpty ? "conditions authgate cannot evaluate" : unknown.map(\.description).joined(separator: ", ")
            let resolutions = Array(Set(unknown.map(\.resolution))).sorted().joined(separator: "; ")
            let what = !unknown.isEmpty && unknown.allSatisfy({ $0.construct.hasPrefix("upstream") })
                ? "the source sent \(them) to \(named), which authgate cannot resolve to a Service"
                : unknown.allSatisfy({ $0.construct.hasPrefix("directive") })
                ? "the source ran \(named) on the way to \(expected), and the output sends \(them) \(actual) without it"
                : "what the source did depends on \(named) (it sent \(them) \(expected)), and the output sends \(them) \(actual) either way"
            return "unknown on \(host) \(shownPathList)\(with): \(what); \(resolutions)"
        }
        return "\(kind.rawValue) on \(host) \(shownPathList)\(with): the source sent \(them) \(expected); the output sends \(them) \(actual)"
    }

    /// The paths a person wrote or would send: the check's own probe paths
    /// (`/authgate-probe/x` stands for "any other path") are counted, not shown.
    var shownPaths: [String] {
        let visible = paths.filter { !$0.lowercased().contains("authgate-probe") }
        return visible.isEmpty ? ["/"] : visible
    }

    private var shownPathList: String {
        let visible = paths.filter { !$0.lowercased().contains("authgate-probe") }
        // Only the check's own stand-ins for "any other path": every path is affected.
        if visible.isEmpty || visible == ["/"] && paths.count > 1 { return "(every path)" }
        var text = visible.prefix(4).joined(separator: " ")
        if visible.count > 4 { text += " …" }
        if visible.count > 4 || visible.count < paths.count { text += " (\(paths.count) paths)" }
        return text
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
    /// The ipAllowList Middleware that refused the client (Traefik answers 403).
    var refusedBy: String?

    init(routing: TraefikRouting, emission: TraefikEmission, host: String, path: String, request: RequestVariant = .baseline) {
        let winners = routing.winners(host: host, path: path, request: request)
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
                apply(name, namespace: route.namespace, emission: emission, path: &current, request: request)
                if refusedBy != nil || unresolvedMiddleware != nil {
                    backends = []
                    upstreamPath = nil
                    return
                }
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

    private mutating func apply(_ name: String, namespace: String, emission: TraefikEmission, path: inout String, request: RequestVariant) {
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
            for inner in names where refusedBy == nil { apply(inner, namespace: namespace, emission: emission, path: &path, request: request) }
        case .ipAllowList(let ranges):
            if !ranges.contains(where: { $0.contains(request.clientIP) }) { refusedBy = name }
        case .passthrough:
            break
        }
    }

    func describe(plan: MigrationPlan) -> String {
        if ambiguous { return "ambiguously" }
        if let unresolvedMiddleware { return "to Middleware \(unresolvedMiddleware), which is not written (Traefik answers 500)" }
        if let refusedBy { return "nowhere: ipAllowList \(refusedBy) refuses the client (403)" }
        if !matched { return "nowhere (Traefik answers 404)" }
        let names = auth.map { plan.authProviders[$0].kind.rawValue }
        let prefix = names.isEmpty ? "" : "behind \(names.joined(separator: " + ")) → "
        if let redirect { return prefix + "redirect \(redirect.status)" }
        if backends.isEmpty { return prefix + "a rule without backends (Traefik answers an error)" }
        return prefix + backends.map(\.description).joined(separator: ", ")
    }
}
