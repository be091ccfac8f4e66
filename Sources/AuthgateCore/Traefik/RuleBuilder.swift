/// One HTTPRoute rule per routing decision: its match, the auth Middleware(s) by
/// `ExtensionRef`, the rewrite, header and redirect filters, and the backends.
struct RuleBuilder {
    let middlewareName: [Int: String]
    /// Rewrite Middlewares written for rewrites Gateway API's URLRewrite cannot say,
    /// keyed `namespace/name`.
    private(set) var rewriteMiddlewares: [String: MiddlewareEffect] = [:]
    private(set) var middlewareObjects: [KubeObject] = []
    /// The namespace of the rule being built.
    private var namespace = ""

    init(middlewareName: [Int: String]) {
        self.middlewareName = middlewareName
    }

    /// `forcedMatch` replaces the decision's own match (a compensating rule).
    mutating func rule(for decision: RoutingDecision, backends: [BackendRef], namespace: String, forcedMatch: PathMatch? = nil) -> HTTPRouteRule {
        self.namespace = namespace
        var match = forcedMatch ?? GatewayPathMatch.match(for: decision.match)
        match.conditions = decision.conditions
        let outcome = decision.outcome
        // Traefik 3.7.15 runs a rule's filters in the order written (checked through
        // its API), so the auth server sees the path as the source's did: rewrites that
        // ran before the auth come before it.
        let before = outcome.auth.isEmpty ? outcome.rewrites.count : min(outcome.rewritesBeforeAuth, outcome.rewrites.count)
        var filters: [HTTPRouteFilter] = []
        // A client outside the ranges is refused before anything else runs, as the
        // source's `remote_ip` restriction answered it before its auth.
        if !outcome.allowedSources.isEmpty { filters.append(.extensionRef(middleware: ipAllowList(outcome.allowedSources))) }
        filters += rewriteFilters(Array(outcome.rewrites[..<before]), match: match, pattern: decision.match)
        // Middlewares written before the auth (a rate limit) stay before it.
        let passthroughFirst = outcome.auth.isEmpty ? 0 : min(outcome.passthroughBeforeAuth, outcome.passthrough.count)
        filters += outcome.passthrough[..<passthroughFirst].map { .extensionRef(middleware: $0.name) }
        for provider in outcome.auth {
            if let name = middlewareName[provider] { filters.append(.extensionRef(middleware: name)) }
        }
        if before == 0 {
            filters += rewriteFilters(outcome.rewrites, match: match, pattern: decision.match)
        } else if before < outcome.rewrites.count {
            // The rest apply to a path already rewritten: not relative to the match.
            var rewritten = decision.match
            if case .exact(let path) = rewritten { rewritten = .exact(outcome.rewrites[..<before].reduce(path) { $1.apply(to: $0) }) }
            filters += rewriteFilters(Array(outcome.rewrites[before...]), match: match, pattern: rewritten, relativeToMatch: false)
        }
        filters += outcome.passthrough[passthroughFirst...].map { .extensionRef(middleware: $0.name) }
        if !outcome.requestHeaders.isEmpty { filters.append(.requestHeaderModifier(outcome.requestHeaders)) }
        if !outcome.responseHeaders.isEmpty { filters.append(.responseHeaderModifier(outcome.responseHeaders)) }
        var refs: [BackendRef] = []
        switch outcome.terminal {
        case .proxy:
            refs = backends
        case .redirect(let redirect):
            filters.removeAll { if case .replaceFullPath = $0 { return true }; if case .replacePrefixMatch = $0 { return true }; return false }
            filters.append(.requestRedirect(redirect))
        case .answeredByProxy, .unhandled:
            break
        }
        let location = decision.source.map { "\($0.file):\($0.line)" } ?? ""
        return HTTPRouteRule(matches: [match], filters: filters, backendRefs: refs, provenance: location)
    }

    /// Gateway API's URLRewrite where it is exact: a prefix strip on the matching
    /// PathPrefix (`ReplacePrefixMatch`), a fixed path (`ReplaceFullPath`), any rewrite
    /// of an exact path. Otherwise Traefik's stripPrefix / addPrefix / replacePath
    /// Middlewares, chained in order when there are several.
    private mutating func rewriteFilters(_ rewrites: [PathRewrite], match: PathMatch, pattern: PathPattern, relativeToMatch: Bool = true) -> [HTTPRouteFilter] {
        guard !rewrites.isEmpty else { return [] }
        if case .exact(let path) = pattern {
            let result = rewrites.reduce(path) { $1.apply(to: $0) }
            return result == path ? [] : [.replaceFullPath(result)]
        }
        if relativeToMatch, rewrites.count == 1, case .stripPrefix(let prefix) = rewrites[0], match.kind == .pathPrefix,
            match.value.trimmingSuffix("/").lowercased() == prefix.lowercased() {
            return [.replacePrefixMatch("/")]
        }
        if case .replacePath(let path) = rewrites.last! {
            return [.replaceFullPath(path)]
        }
        var names: [String] = []
        for rewrite in rewrites {
            let (name, effect, spec): (String, MiddlewareEffect, YAMLValue)
            switch rewrite {
            case .stripPrefix(let prefix) where match.value.hasPrefix("(?i)"):
                // Caddy strips case-insensitively; so does this regex.
                name = KubernetesName.label(from: "strip-prefix-any-case-" + prefix)
                effect = .stripPrefixIgnoringCase(prefix)
                spec = .object([("stripPrefixRegex", .object([("regex", .strings(["(?i)^" + GatewayPathMatch.quote(prefix)]))]))])
            case .stripPrefix(let prefix):
                name = KubernetesName.label(from: "strip-prefix-" + prefix)
                effect = .stripPrefix(prefix)
                spec = .object([("stripPrefix", .object([("prefixes", .strings([prefix]))]))])
            case .addPrefix(let prefix):
                name = KubernetesName.label(from: "add-prefix-" + prefix)
                effect = .addPrefix(prefix)
                spec = .object([("addPrefix", .object([("prefix", .string(prefix))]))])
            case .replacePath(let path):
                name = KubernetesName.label(from: "replace-path-" + path)
                effect = .replacePath(path)
                spec = .object([("replacePath", .object([("path", .string(path))]))])
            }
            names.append(name)
            addMiddleware(name, effect, spec)
        }
        if names.count == 1 { return [.extensionRef(middleware: names[0])] }
        let chainName = KubernetesName.label(from: "rewrite-" + names.joined(separator: "-"))
        addMiddleware(chainName, .chain(names), .object([("chain", .object([("middlewares", .list(names.map { .object([("name", .string($0))]) }))]))]))
        return [.extensionRef(middleware: chainName)]
    }

    /// A Traefik ipAllowList Middleware for these ranges in the rule's namespace; its
    /// name says `private-ranges` for Caddy's `private_ranges`, else carries a digest
    /// of the ranges so two lists never share a name.
    private mutating func ipAllowList(_ ranges: [IPRange]) -> String {
        let canonical = Array(Set(ranges.map(\.description))).sorted()
        let isPrivate = canonical == Set(IPRange.privateRanges.compactMap { IPRange($0)?.description }).sorted()
        let name = isPrivate ? "ip-allow-private-ranges" : "ip-allow-" + Self.digest(canonical.joined(separator: ","))
        addMiddleware(name, .ipAllowList(ranges), .object([("ipAllowList", .object([("sourceRange", .strings(canonical))]))]))
        return name
    }

    /// FNV-1a, 32 bits, in hex: stable across runs and platforms.
    static func digest(_ text: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Takes the Middlewares another copy of this builder added, in the order it added
    /// them, leaving out those this one has already.
    mutating func absorb(_ other: RuleBuilder) {
        for object in other.middlewareObjects {
            let key = (object.namespace ?? "") + "/" + object.name
            guard rewriteMiddlewares[key] == nil, let effect = other.rewriteMiddlewares[key] else { continue }
            rewriteMiddlewares[key] = effect
            middlewareObjects.append(object)
        }
    }

    private mutating func addMiddleware(_ name: String, _ effect: MiddlewareEffect, _ spec: YAMLValue) {
        guard rewriteMiddlewares[namespace + "/" + name] == nil else { return }
        rewriteMiddlewares[namespace + "/" + name] = effect
        middlewareObjects.append(KubeObject(
            apiVersion: "traefik.io/v1alpha1", kind: "Middleware", name: name, namespace: namespace, labels: KubeLabels.managed,
            fields: [.init("spec", spec)]))
    }
}

/// Drops rules that change nothing (Traefik would route every probe the same without
/// them) and merges rules that do the same thing into one rule with several matches.
enum RuleSimplifier {
    static func probes(for site: SitePlan) -> [String] {
        var paths = Set<String>()
        let patterns = site.behaviour.boundaryPatterns + site.decisions.map(\.match) + [.any]
        for pattern in patterns {
            for sample in pattern.samplePaths { paths.insert(sample) }
            let literal = pattern.literalPrefix
            if !literal.isEmpty {
                paths.insert(literal)
                paths.insert(String(literal.trimmingSuffix("/")))
                paths.insert(literal + "x")
            }
        }
        // Patterns that match the end or the middle of a path (`*.php`, `*admin*`, an
        // unanchored expression) cross those that match its start: the source and
        // Traefik may rank the two differently for a path both match, so probe the
        // end-matching samples below each start.
        var tails: [String] = []
        var heads: [String] = []
        for pattern in Set(patterns).sorted(by: { $0.description < $1.description }) {
            if pattern.matchesAnywhere {
                tails += pattern.samplePaths.map { String($0.drop { $0 == "/" }) }.filter { !$0.isEmpty }
            } else if pattern.literalPrefix.count > 1 {
                for start in [pattern.literalPrefix] + pattern.samplePaths.filter(pattern.matches) where start.count > 1 {
                    heads.append(start.hasSuffix("/") ? start : start + "/")
                }
            }
        }
        // Each side also in upper case alone: a case-insensitive rule for the start
        // (Caddy's `path` is) may meet a case-sensitive one for the end (`path_regexp`).
        for head in Set(heads).sorted().prefix(64) {
            for tail in Set(tails).sorted().prefix(16) {
                paths.insert(head + tail)
                paths.insert(head.uppercased() + tail)
                paths.insert(head + tail.uppercased())
            }
        }
        // Caddy matches paths case-insensitively; Gateway API does not.
        for path in Array(paths) { paths.insert(path.uppercased()) }
        // Both sides merge repeated slashes before matching (Caddy's path matcher;
        // Traefik 3.7 sanitizes request paths), so a probe never holds them.
        return Set(paths.filter { $0.hasPrefix("/") }.map { path in
            path.contains("//") ? path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/").withLeadingSlash(trailing: path.hasSuffix("/")) : path
        }).sorted()
    }

    static func simplify(_ rules: [HTTPRouteRule], hosts: [String] = [], competitors: [HTTPRoute] = [], probes: [String], variants: [RequestVariant] = [.baseline]) -> [HTTPRouteRule] {
        let probeHosts = hosts.isEmpty ? ["authgate-probe.invalid"] : hosts.map { $0.hasPrefix("*.") ? "authgate-probe" + $0.dropFirst() : $0 }
        // A rule may go only if the route still does the same on its own (never rely
        // on another route's rule: Traefik and the Gateway API spec rank routes of
        // wildcard and exact hostnames differently) and with the broader routes that
        // compete for its requests.
        // Effects are numbered once, so a behaviour is a flat list of numbers: the
        // winners' effects for each probe in turn, each probe ended by -1.
        var effectIDs: [RuleEffect: Int] = [:]
        func id(_ rule: HTTPRouteRule) -> Int {
            let effect = RuleEffect(rule)
            if let known = effectIDs[effect] { return known }
            effectIDs[effect] = effectIDs.count
            return effectIDs.count - 1
        }
        let competitorIDs = competitors.map { $0.rules.map(id) }
        func behaviour(_ candidate: [HTTPRouteRule]) -> [Int] {
            let own = HTTPRoute(name: "", namespace: "", parentRefs: [], hostnames: hosts, rules: candidate)
            let ownIDs = candidate.map(id)
            var result: [Int] = []
            for routes in competitors.isEmpty ? [[own]] : [[own], [own] + competitors] {
                let routing = TraefikRouting(routes: routes)
                for host in probeHosts {
                    for probe in probes {
                        for variant in variants {
                            let winners = routing.winners(host: host, path: probe, request: variant)
                            if winners.count == 1 {
                                let hit = winners[0]
                                result.append(hit.route == 0 ? ownIDs[hit.rule] : competitorIDs[hit.route - 1][hit.rule])
                            } else {
                                result += Set(winners.map { $0.route == 0 ? ownIDs[$0.rule] : competitorIDs[$0.route - 1][$0.rule] }).sorted()
                            }
                            result.append(-1)
                        }
                    }
                }
            }
            return result
        }
        // Removing a rule changes no path's matches, only which rules are left and
        // their index bonus, so every probe's matching rules are found once and each
        // trial ranks them again (a trial costs the matches, not every router).
        let ownIDs = rules.map(id)
        let passes = competitors.isEmpty ? [[HTTPRoute]]([]) : [competitors]
        let ownRouting = TraefikRouting(routes: [HTTPRoute(name: "", namespace: "", parentRefs: [], hostnames: hosts, rules: rules)])
        struct Probe {
            /// Own rules that match: original index and priority without the bonus.
            var own: [(rule: Int, base: Int)]
            /// The competitors' best priority and the effects that reach it.
            var rivalPriority: Int
            var rivalIDs: [Int]
        }
        var trials: [Probe] = []
        for rivals in [nil] + passes.map(Optional.some) {
            let rivalRouting = rivals.map { TraefikRouting(routes: $0) }
            for host in probeHosts {
                for probe in probes {
                    for variant in variants {
                        let own = ownRouting.matchingRules(host: host, path: probe, request: variant).map { (rule: $0.rule, base: $0.basePriority) }
                        var rivalPriority = Int.min
                        var rivalIDs: [Int] = []
                        for hit in rivalRouting?.winners(host: host, path: probe, request: variant) ?? [] {
                            rivalPriority = hit.priority
                            rivalIDs.append(competitorIDs[hit.route][hit.rule])
                        }
                        trials.append(Probe(own: own, rivalPriority: rivalPriority, rivalIDs: rivalIDs))
                    }
                }
            }
        }
        /// The behaviour with only the rules at these original indices, in this order.
        func ranked(_ kept: [Int]) -> [Int] {
            var position = [Int](repeating: -1, count: rules.count)
            for (at, original) in kept.enumerated() { position[original] = at }
            var result: [Int] = []
            var winners: [Int] = []
            for probe in trials {
                var best = probe.rivalPriority
                winners.removeAll(keepingCapacity: true)
                winners += probe.rivalIDs
                for (rule, base) in probe.own where position[rule] >= 0 {
                    let priority = base + kept.count - position[rule]
                    if priority > best {
                        best = priority
                        winners.removeAll(keepingCapacity: true)
                        winners.append(ownIDs[rule])
                    } else if priority == best {
                        winners.append(ownIDs[rule])
                    }
                }
                if winners.count == 1 {
                    result.append(winners[0])
                } else {
                    result += Set(winners).sorted()
                }
                result.append(-1)
            }
            return result
        }
        var kept = Array(rules.indices)
        let reference = ranked(kept)
        var index = 0
        while index < kept.count {
            var without = kept
            without.remove(at: index)
            if !without.isEmpty && ranked(without) == reference {
                kept = without
            } else {
                index += 1
            }
        }
        let current = kept.map { rules[$0] }
        // Merge rules with the same effect (not prefix rewrites: their filter depends on
        // the one PathPrefix match, as the CRD requires). The merge is kept only if
        // Traefik still routes every probe the same: it changes rule indices, which
        // break priority ties.
        var merged: [HTTPRouteRule] = []
        for rule in current {
            let canMerge = !rule.filters.contains { if case .replacePrefixMatch = $0 { return true }; return false }
            if canMerge, let target = merged.firstIndex(where: { RuleEffect($0) == RuleEffect(rule) && $0.matches.count < 16 && !$0.filters.contains { if case .replacePrefixMatch = $0 { return true }; return false } }) {
                merged[target].matches += rule.matches
                continue
            }
            merged.append(rule)
        }
        return merged.count == current.count || behaviour(merged) != behaviour(current) ? current : merged
    }

    /// What a rule does, without its matches.
    struct RuleEffect: Hashable {
        var filters: [HTTPRouteFilter]
        var backendRefs: [BackendRef]

        init(_ rule: HTTPRouteRule) {
            filters = rule.filters
            backendRefs = rule.backendRefs
        }
    }
}

private extension String {
    func withLeadingSlash(trailing: Bool) -> String {
        let body = "/" + self
        return trailing && body != "/" ? body + "/" : body
    }
}
