/// Caddy's semantics, applied to a parsed Caddyfile: each site's directives become a
/// `CaddyProgram` (what Caddy did with each request) and from it the plan's routing
/// decisions, per host.
public struct CaddyImporter: Sendable {
    /// Directives the user vouched have no effect on access (`--ignore-directive`).
    public var ignoredDirectives: Set<String>
    /// `--upstream FROM=TO`.
    public var upstreamMappings: [String: String]
    /// For `{env.VAR}` in upstreams (Caddy reads it when it runs).
    public var environment: [String: String] = [:]

    /// `--listener PORT=NAME`: the Gateway listener a port-only site (`:8085 { … }`)
    /// attaches to.
    public var portListeners: [String: String] = [:]
    /// Whether `--section-name` attaches every route to one listener.
    public var sectionNameGiven = false

    public init(ignoredDirectives: Set<String> = [], upstreamMappings: [String: String] = [:]) {
        self.ignoredDirectives = ignoredDirectives
        self.upstreamMappings = upstreamMappings
    }

    /// The words of the sites that can be header field names (`Remote-User`, the parts
    /// of `copy_headers A>B`), in the order written; empty unless some header deletion
    /// uses a wildcard, the only reader of the list.
    static func headerNames(_ document: CaddyfileDocument) -> [String] {
        let tokens = document.sites.lazy.flatMap(\.block.segments).flatMap(\.tokens)
        guard tokens.contains(where: { $0.text.hasPrefix("-") && $0.text.contains("*") }) else { return [] }
        var seen = Set<String>()
        var names: [String] = []
        for token in tokens where !token.text.contains("*") && !token.text.contains("{") {
            for part in token.text.split(separator: ">") {
                let word = part.drop { "+-?".contains($0) }
                // Any word the pattern matches is a field Caddy would delete, so taking
                // one that is not a header in this file removes nothing Caddy keeps.
                guard word.first?.isLetter == true,
                      word.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
                      seen.insert(word.lowercased()).inserted else { continue }
                names.append(String(word))
            }
        }
        return names
    }

    public func plan(from document: CaddyfileDocument, diagnostics: inout Diagnostics) throws(DiagnosticError) -> MigrationPlan {
        var order = DirectiveOrder()
        if let global = document.globalOptions {
            for segment in global.segments where segment.directive == "order" {
                try order.apply(Array(segment.tokens.dropFirst()))
            }
        }
        for route in document.namedRoutes {
            if let token = route.keys.first {
                diagnostics.append(.warning("named route \(token.text) is not migrated; requests that 'invoke' it are left without its handlers", at: token.location, importChain: token.importChain))
            }
        }

        var providers: [AuthProvider] = []
        var opaque: [OpaqueCondition] = []
        var programs: [(program: CaddyProgram, hosts: [String], location: SourceLocation?, listeners: [String])] = []
        var dropped: [DroppedSite] = []
        var httpsUpgrades: [String: Int] = [:]
        var hostOwner: [String: SourceLocation] = [:]
        let headerNames = Self.headerNames(document)
        for site in orderedSites(document.sites) {
            var reader = CaddySiteReader(providers: providers, order: order, opaqueConditions: opaque, ignoredDirectives: ignoredDirectives)
            reader.upstreamMappings = upstreamMappings
            reader.environment = environment
            reader.headerNames = headerNames
            let routes = try reader.readBlock(site.block.segments, scope: .init(), sorted: true)
            diagnostics.append(contentsOf: reader.diagnostics)
            providers = reader.providers
            opaque = reader.opaqueConditions

            var hosts: [String] = []
            var sitePaths = Set<String>()
            var listeners: [String] = []
            let guarded = Self.guardsAccess(routes)
            let plainHTTP = site.addresses.allSatisfy { $0.scheme == "http" || $0.port == "80" }
            let upgrade = plainHTTP ? Self.httpsUpgradeStatus(routes, boundaries: reader.allBoundaryPatterns) : nil
            func drop(_ address: SiteAddress, _ message: String) {
                diagnostics.append(.warning(message, at: address.location))
                dropped.append(DroppedSite(address: address.original, reason: message, location: address.location, wasProtected: guarded))
            }
            for address in site.addresses {
                let host = address.host.lowercased()
                if let name = address.emptiedVariables.first, host.isEmpty || !HostName.isGatewayHostname(host) {
                    throw DiagnosticError("site address '\(address.original)' is not a host name: {$\(name)} stood in it and \(name) is not set in the environment (set it, or give {$\(name):default})", at: address.location)
                }
                if IPAddress.isIPv4(host) || host.contains(":") {
                    drop(address, "site address \(address.original) is an IP address; Gateway API hostnames cannot be IPs, so this address is not migrated")
                    continue
                }
                if !host.isEmpty && !HostName.isGatewayHostname(host) {
                    drop(address, "site address \(address.original): '\(host)' is not a hostname Gateway API accepts (letters, digits and '-' in dot-separated labels, with at most one leading '*.'); this address is not migrated")
                    continue
                }
                let otherPort = !address.port.isEmpty && address.port != "80" && address.port != "443"
                if host.isEmpty && otherPort {
                    // A port-only site answers every host on its port: in Gateway API a
                    // route without hostnames, on the listener for that port.
                    if let listener = portListeners[address.port] {
                        listeners.append(listener)
                        diagnostics.append(.warning("site address \(address.original) answers every host on port \(address.port); its routes have no hostnames and attach to listener \(listener) only (--listener), where they take every host that listener serves", at: address.location))
                    } else if sectionNameGiven {
                        diagnostics.append(.warning("site address \(address.original) answers every host on port \(address.port); its routes have no hostnames and take every host of the listener --section-name names", at: address.location))
                    } else {
                        drop(address, "site address \(address.original) answers every host on port \(address.port); authgate leaves it out rather than expose it on every host of every listener: pass --listener \(address.port)=LISTENER to attach it to the Gateway listener for that port")
                        continue
                    }
                } else if otherPort {
                    diagnostics.append(.note("site address \(address.original) listens on port \(address.port); ports belong to the Gateway's listeners, which authgate does not write (see --section-name and --listener)", at: address.location))
                }
                if let earlier = hostOwner[host], let upgrade {
                    // `http://host { redir https://{host}{uri} }` beside the HTTPS site:
                    // Gateway API's HTTP listener redirect (a route of its own).
                    httpsUpgrades[host] = upgrade
                    diagnostics.append(.note("site address \(address.original) redirects every request to HTTPS; the route of \(host) (from \(earlier)) serves on the HTTPS listener, and a route of its own redirects on the HTTP one", at: address.location))
                    continue
                }
                if let earlier = hostOwner[host] {
                    drop(address, "site address \(address.original) names a host already converted from \(earlier); Caddy served them on different listeners, but one HTTPRoute per host is written, so this one is left out")
                    continue
                }
                hostOwner[host] = address.location
                if !address.path.isEmpty { sitePaths.insert(address.path) }
                if !hosts.contains(host) { hosts.append(host) }
            }
            if hosts.isEmpty && (site.addresses.allSatisfy({ !$0.host.isEmpty }) || site.addresses.allSatisfy { address in dropped.contains { $0.location == address.location } }) { continue }

            var siteRoutes = routes
            var boundaries = reader.allBoundaryPatterns
            if let path = sitePaths.sorted().first {
                if sitePaths.count > 1, let address = site.addresses.first {
                    diagnostics.append(.warning("the addresses of this site have different paths; authgate uses \(path) for all of them", at: address.location))
                }
                let pattern = PathPattern.caddy(path.lowercased())
                boundaries.append(pattern)
                siteRoutes = [CaddyRoute(matcher: CaddyMatcher(conditions: [.path([pattern], written: [path])]), handlers: [.subroute(routes)])]
            }
            let program = CaddyProgram(routes: siteRoutes, boundaryPatterns: boundaries, opaqueConditions: opaque, providers: providers)
            let realHosts = hosts.filter { !$0.isEmpty }
            let isCatchAll = hosts.contains("") || hosts.isEmpty
            programs.append((program, isCatchAll ? [] : realHosts, site.block.location, listeners))
        }
        // Only wildcard and catch-all sites can take another site's requests.
        let broad = programs.indices.filter { programs[$0].hosts.isEmpty || programs[$0].hosts.contains { $0.hasPrefix("*.") } }
        var sites: [SitePlan] = []
        for (index, entry) in programs.enumerated() {
            let others = broad.filter { $0 != index }.map { (programs[$0].program, programs[$0].hosts) }
            var groups = try hostGroups(program: entry.program, hosts: entry.hosts, providers: providers, location: entry.location, others: others,
                                hostOwner: hostOwner, diagnostics: &diagnostics)
            for index in groups.indices { groups[index].listeners = entry.listeners }
            sites += groups
        }
        for index in sites.indices where !sites[index].hosts.isEmpty {
            let statuses = Set(sites[index].hosts.map { httpsUpgrades[$0] })
            if statuses.count == 1, let status = statuses.first ?? nil { sites[index].httpsRedirect = status }
        }
        var plan = MigrationPlan(sites: sites, authProviders: providers)
        plan.droppedSites = dropped
        AuthentikOutpostPaths.add(to: &plan, diagnostics: &diagnostics)
        return plan
    }

    /// The status when a site redirects every request to HTTPS on the same host and
    /// path (`redir https://{host}{uri}`), else nil.
    static func httpsUpgradeStatus(_ routes: [CaddyRoute], boundaries: [PathPattern]) -> Int? {
        let program = CaddyProgram(routes: routes, boundaryPatterns: boundaries)
        var status: Int?
        for pattern in boundaries + [.any] {
            for path in pattern.samplePaths + ["/", "/x"] {
                guard case .redirect(let redirect) = program.outcome(host: "authgate-probe.invalid", path: path).terminal,
                    redirect.scheme == "https", redirect.hostname == nil, redirect.path == nil, redirect.port == nil,
                    status == nil || status == redirect.status else { return nil }
                status = redirect.status
            }
        }
        return status
    }

    /// Whether a site's routes guard access anywhere: forward or basic auth, a client
    /// address matcher, or a construct authgate cannot evaluate.
    static func guardsAccess(_ routes: [CaddyRoute]) -> Bool {
        func guards(_ condition: CaddyCondition) -> Bool {
            switch condition {
            case .clientIP, .opaque: true
            case .not(let inner): inner.contains(where: guards)
            default: false
            }
        }
        return routes.contains { route in
            route.matcher.conditions.contains(where: guards) || route.handlers.contains { handler in
                switch handler {
                case .forwardAuth: true
                case .unknown(let construct): !construct.decidesOutcome
                case .subroute(let inner): guardsAccess(inner)
                default: false
                }
            }
        }
    }

    /// Sites with an `https://` or scheme-less address first, so when Caddy served one
    /// host on two listeners the HTTPS site is the one converted.
    private func orderedSites(_ sites: [CaddyfileDocument.Site]) -> [CaddyfileDocument.Site] {
        let plainHTTP = sites.filter { site in site.addresses.allSatisfy { $0.scheme == "http" || $0.port == "80" } }
        let rest = sites.filter { site in !site.addresses.allSatisfy { $0.scheme == "http" || $0.port == "80" } }
        return rest + plainHTTP
    }

    /// Splits a site into groups of hosts the program treats alike: hosts named by
    /// `host` matchers inside a wildcard or catch-all site get their own group.
    /// `others` are the other sites: where a wildcard or catch-all site also covers a
    /// host of this one, its path patterns become decisions of this host too, so this
    /// host's own route answers every path the broader route would otherwise take.
    private func hostGroups(
        program: CaddyProgram, hosts: [String], providers: [AuthProvider], location: SourceLocation?, others: [(CaddyProgram, [String])],
        hostOwner: [String: SourceLocation], diagnostics: inout Diagnostics
    ) throws(DiagnosticError) -> [SitePlan] {
        var matcherHosts: [String] = []
        func collect(_ conditions: [CaddyCondition]) {
            for condition in conditions {
                switch condition {
                case .host(let values): matcherHosts += values.filter { !$0.contains("*") }
                case .not(let inner): collect(inner)
                default: break
                }
            }
        }
        func walk(_ routes: [CaddyRoute]) {
            for route in routes {
                collect(route.matcher.conditions)
                for case .subroute(let inner) in route.handlers { walk(inner) }
            }
        }
        walk(program.routes)

        var groups: [(hosts: [String], representative: String)] = []
        for host in Array(Set(matcherHosts)).sorted() where !hosts.contains(host) {
            let covered = hosts.isEmpty || hosts.contains { HostName.gatewayMatches(pattern: $0, host: host) }
            guard covered else { continue }
            // Caddy gives a host with its own site block to that block: the broader
            // site never sees its requests, so its `host` matcher for it is dead.
            if let owner = hostOwner[host] {
                diagnostics.append(.note("the host matcher for \(host) here never matches: the site block at \(owner) takes that host's requests, as in Caddy", at: location))
                continue
            }
            groups.append(([host], host))
        }
        if hosts.isEmpty {
            groups.append(([], "authgate-probe.invalid"))
        } else {
            for host in hosts {
                groups.append(([host], host.hasPrefix("*.") ? "authgate-probe" + host.dropFirst() : host))
            }
        }
        var plans: [SitePlan] = []
        for group in groups {
            var groupProgram = program
            for (other, otherHosts) in others {
                let covers = otherHosts.isEmpty
                    ? !group.hosts.isEmpty
                    : group.hosts.contains { host in otherHosts.contains { $0 != host && $0.hasPrefix("*.") && HostName.gatewayMatches(pattern: $0, host: host.hasPrefix("*.") ? "authgate-probe" + host.dropFirst() : host) } }
                if covers {
                    groupProgram.boundaryPatterns += other.boundaryPatterns
                    // The broader site's header and method rules can take this host's
                    // requests too: probe them here as well.
                    for variant in other.variants.dropFirst() where !groupProgram.variants.contains(where: { $0.request == variant.request }) {
                        groupProgram.variants.append(ProbeVariant(request: variant.request, conditions: .none))
                    }
                }
            }
            try DecisionBuilder.checkSize(groupProgram, host: group.hosts.first ?? "the catch-all site", at: location)
            let decisions = DecisionBuilder.decisions(for: groupProgram, host: group.representative, authProviders: providers)
            if let index = plans.firstIndex(where: { $0.decisions == decisions && !$0.hosts.isEmpty && !group.hosts.isEmpty }) {
                plans[index].hosts += group.hosts
            } else {
                var plan = SitePlan(hosts: group.hosts, decisions: decisions, behaviour: groupProgram, location: location)
                plan.unsampledPatterns = DecisionBuilder.unsampled(groupProgram)
                plans.append(plan)
            }
        }
        return plans
    }
}
