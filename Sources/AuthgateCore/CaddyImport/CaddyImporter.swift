/// Caddy's semantics, applied to a parsed Caddyfile: each site's directives become a
/// `CaddyProgram` (what Caddy did with each request) and from it the plan's routing
/// decisions, per host.
public struct CaddyImporter: Sendable {
    /// Directives the user vouched have no effect on access (`--ignore-directive`).
    public var ignoredDirectives: Set<String>

    public init(ignoredDirectives: Set<String> = []) {
        self.ignoredDirectives = ignoredDirectives
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
        var programs: [(program: CaddyProgram, hosts: [String], location: SourceLocation?)] = []
        var hostOwner: [String: SourceLocation] = [:]
        for site in orderedSites(document.sites) {
            var reader = CaddySiteReader(providers: providers, order: order, opaqueConditions: opaque, ignoredDirectives: ignoredDirectives)
            let routes = try reader.readBlock(site.block.segments, scope: .init(), sorted: true)
            diagnostics.append(contentsOf: reader.diagnostics)
            providers = reader.providers
            opaque = reader.opaqueConditions

            var hosts: [String] = []
            var sitePaths = Set<String>()
            for address in site.addresses {
                let host = address.host.lowercased()
                if IPAddress.isIPv4(host) || host.contains(":") {
                    diagnostics.append(.warning("site address \(address.original) is an IP address; Gateway API hostnames cannot be IPs, so this address is not migrated", at: address.location))
                    continue
                }
                if !host.isEmpty && !HostName.isGatewayHostname(host) {
                    diagnostics.append(.warning("site address \(address.original): '\(host)' is not a hostname Gateway API accepts (letters, digits and '-' in dot-separated labels, with at most one leading '*.'); this address is not migrated", at: address.location))
                    continue
                }
                if !address.port.isEmpty && address.port != "80" && address.port != "443" {
                    diagnostics.append(.note("site address \(address.original) listens on port \(address.port); ports belong to the Gateway's listeners, which authgate does not write (see --section-name)", at: address.location))
                }
                if let earlier = hostOwner[host] {
                    diagnostics.append(.warning("site address \(address.original) names a host already converted from \(earlier); Caddy served them on different listeners, but one HTTPRoute per host is written, so this one is left out", at: address.location))
                    continue
                }
                hostOwner[host] = address.location
                if !address.path.isEmpty { sitePaths.insert(address.path) }
                if !hosts.contains(host) { hosts.append(host) }
            }
            if hosts.isEmpty && site.addresses.allSatisfy({ !$0.host.isEmpty }) { continue }

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
            let program = CaddyProgram(routes: siteRoutes, boundaryPatterns: boundaries, opaqueConditions: opaque)
            let realHosts = hosts.filter { !$0.isEmpty }
            let isCatchAll = hosts.contains("") || hosts.isEmpty
            programs.append((program, isCatchAll ? [] : realHosts, site.block.location))
        }
        // Only wildcard and catch-all sites can take another site's requests.
        let broad = programs.indices.filter { programs[$0].hosts.isEmpty || programs[$0].hosts.contains { $0.hasPrefix("*.") } }
        var sites: [SitePlan] = []
        for (index, entry) in programs.enumerated() {
            let others = broad.filter { $0 != index }.map { (programs[$0].program, programs[$0].hosts) }
            sites += try hostGroups(program: entry.program, hosts: entry.hosts, providers: providers, location: entry.location, others: others,
                                hostOwner: hostOwner, diagnostics: &diagnostics)
        }
        var plan = MigrationPlan(sites: sites, authProviders: providers)
        AuthentikOutpostPaths.add(to: &plan, diagnostics: &diagnostics)
        return plan
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
                plans.append(SitePlan(hosts: group.hosts, decisions: decisions, behaviour: groupProgram, location: location))
            }
        }
        return plans
    }
}
