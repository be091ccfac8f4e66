/// Turns a source's behaviour into routing decisions: one per distinct path pattern
/// the source matched on, most specific first, each carrying what the source did for
/// the paths that pattern (and no more specific one) covers.
///
/// This works for any source whose matchers nest (prefixes, exact paths, globs under
/// a prefix); where they cross, the coverage check finds the paths that differ.
public enum DecisionBuilder {
    /// Each pattern of a host is checked against the others (decisions, rules, the
    /// coverage check), so the work per host grows with the square of its patterns:
    /// 1,000 take about 7.5 s on two cores. Beyond that authgate refuses the host
    /// rather than run for hours on a hostile input.
    public static let maxPatternsPerHost = 1_000

    public static func checkSize(_ behaviour: any SourceBehaviour, host: String, at location: SourceLocation?) throws(DiagnosticError) {
        let count = Set(behaviour.boundaryPatterns).count
        guard count > maxPatternsPerHost else { return }
        throw DiagnosticError("\(host) has \(count) distinct path patterns; authgate checks each against the others and converts at most \(maxPatternsPerHost) per host (split the site, or merge patterns)", at: location)
    }

    public static func decisions(for behaviour: any SourceBehaviour, host: String, authProviders: [AuthProvider]) -> [RoutingDecision] {
        let patterns = orderedPatterns(behaviour.boundaryPatterns)
        // The variants by the HTTPRoute conditions that select them, plain first.
        var groups: [(conditions: RequestConditions, requests: [RequestVariant])] = []
        for variant in behaviour.variants {
            if let index = groups.firstIndex(where: { $0.conditions == variant.conditions }) {
                groups[index].requests.append(variant.request)
            } else {
                groups.append((variant.conditions, [variant.request]))
            }
        }
        let assignments = behaviour.opaqueAssignments
        var decisions: [RoutingDecision] = []
        for (index, pattern) in patterns.enumerated() {
            let earlier = patterns[..<index]
            guard let representative = pattern.samplePaths.first(where: { sample in
                pattern.matches(sample) && !earlier.contains { $0.matches(sample) }
            }) else { continue }
            var plain: RoutingDecision?
            var conditioned: [RoutingDecision] = []
            for group in groups {
                var outcome = fold(group.requests, assignments: assignments) { request in
                    behaviour.outcome(host: host, path: representative, request: request)
                }
                outcome = outcome.reachingAuthServerNeedsNoAuth(authProviders, path: representative)
                let decision = RoutingDecision(match: pattern, conditions: group.conditions, outcome: outcome, source: outcome.provenance.terminal)
                if let plain {
                    if outcome != plain.outcome { conditioned.append(decision) }
                } else {
                    plain = decision
                }
            }
            // The requests that meet conditions first, as a reader expects (Traefik
            // ranks them above the plain rule for the same path anyway).
            decisions += conditioned
            if let plain { decisions.append(plain) }
        }
        return decisions
    }

    /// Patterns no sample path of their own matches: authgate cannot evaluate what the
    /// routes they guard do, so the check counts them unknown (never drops them).
    public static func unsampled(_ behaviour: any SourceBehaviour) -> [PathPattern] {
        orderedPatterns(behaviour.boundaryPatterns).filter { pattern in
            !pattern.samplePaths.contains { pattern.matches($0) && CaddyPath.clean($0) == $0 }
        }
    }

    /// One outcome for requests the output cannot tell apart (they differ only in the
    /// client address, a method Gateway API has no name for, or conditions authgate
    /// cannot evaluate). The first request is from outside every range the source
    /// names. When only clients from some ranges reached a backend and the rest were
    /// answered by the proxy (a LAN-only service), the outcome is that backend with
    /// those ranges allowed (an ipAllowList). Otherwise, where they differ, the most
    /// protected outcome is taken — never the open one — and the coverage check
    /// reports each request that the output then treats differently.
    static func fold(_ requests: [RequestVariant], assignments: [Set<Int>], outcome: (RequestVariant) -> RequestOutcome) -> RequestOutcome {
        func evaluate(_ request: RequestVariant) -> RequestOutcome {
            let outcomes = assignments.map { assignment -> RequestOutcome in
                var assigned = request
                assigned.holding = assignment
                return outcome(assigned)
            }
            return mostProtected(outcomes)
        }
        let outcomes = requests.map(evaluate)
        guard let first = outcomes.first else { return RequestOutcome(terminal: .unhandled) }
        if outcomes.allSatisfy({ $0 == first }) { return first }
        if first.upstreams.isEmpty {
            var allowed: [IPRange] = []
            var reached: RequestOutcome?
            var restriction = true
            for (request, result) in zip(requests.dropFirst(), outcomes.dropFirst()) {
                guard request.clientIP != requests[0].clientIP, request.method == requests[0].method else { restriction = false; break }
                if result.upstreams.isEmpty { continue }
                if let reached, reached != result { restriction = false; break }
                reached = result
                if let range = request.clientRange ?? IPRange(request.clientIP) { allowed.append(range) }
            }
            if restriction, var reached {
                reached.allowedSources = allowed
                return reached
            }
        }
        return mostProtected(outcomes)
    }

    /// The outcome that exposes least: one reaching no backend, else the one behind
    /// the most auth; the first among equals.
    static func mostProtected(_ outcomes: [RequestOutcome]) -> RequestOutcome {
        guard var best = outcomes.first else { return RequestOutcome(terminal: .unhandled) }
        func exposure(_ outcome: RequestOutcome) -> Int {
            outcome.upstreams.isEmpty ? Int.min : -outcome.auth.count - (outcome.unknown.isEmpty ? 0 : 1)
        }
        for outcome in outcomes.dropFirst() where exposure(outcome) < exposure(best) { best = outcome }
        return best
    }

    /// Distinct patterns, most specific first: exact paths (longest first), then
    /// prefixes and globs by the length of their literal start, then suffix and
    /// substring patterns, then everything. `/x/*` also adds the exact `/x`, the one
    /// path where a segment-wise prefix and Caddy's character prefix differ.
    public static func orderedPatterns(_ patterns: [PathPattern]) -> [PathPattern] {
        var unique = Set<PathPattern>()
        var list: [PathPattern] = []
        func add(_ pattern: PathPattern) {
            if unique.insert(pattern).inserted { list.append(pattern) }
        }
        for pattern in patterns {
            add(pattern)
            if case .prefix(let value) = pattern, value.hasSuffix("/"), value.count > 1 {
                add(.exact(String(value.dropLast())))
            }
        }
        add(.any)
        return list.sorted { a, b in
            let (ra, rb) = (rank(a), rank(b))
            if ra != rb { return ra < rb }
            let (la, lb) = (sortingLiteral(a).utf8.count, sortingLiteral(b).utf8.count)
            if la != lb { return la > lb }
            let (ka, kb) = (kindOrder(a), kindOrder(b))
            if ka != kb { return ka < kb }
            // Two expressions with one literal start: the longer is taken as the more
            // specific (`^/api/v1(/|$)` before `^/api/v1`), as ingress-nginx orders them.
            if case .regex(let ea) = a, case .regex(let eb) = b, ea.utf8.count != eb.utf8.count { return ea.utf8.count > eb.utf8.count }
            return a.description < b.description
        }
    }

    /// The literal start, for a case-insensitive expression in its own spelling.
    private static func sortingLiteral(_ pattern: PathPattern) -> String {
        if case .regex(let value) = pattern, value.hasPrefix("(?i)^") { return PathPattern.regexLiteralStart(String(value.dropFirst(4))) }
        return pattern.literalPrefix
    }

    private static func rank(_ pattern: PathPattern) -> Int {
        switch pattern {
        case .exact: 0
        case .prefix, .glob, .segmentPrefix: 1
        // An expression anchored at the start is a prefix of its literal start (a
        // `^/static/admin` found behind a stripped `/static` must not rank below
        // `/static/*`, or no path of its own is left to sample).
        case .regex(let value): value.hasPrefix("^") || value.hasPrefix("(?i)^") ? 1 : 2
        case .suffix, .contains: 2
        case .any: 3
        }
    }

    private static func kindOrder(_ pattern: PathPattern) -> Int {
        switch pattern {
        case .glob: 0
        case .prefix: 1
        default: 2
        }
    }
}

extension RequestOutcome {
    /// A request for the Authentik outpost's own paths (`/outpost.goauthentik.io/…`)
    /// proxied to the Authentik server itself needs no auth in front: the outpost
    /// answers it. The source may have run forward auth first (Caddy sorts
    /// `forward_auth` before `reverse_proxy`), but Authentik documents these paths as
    /// routed straight to it for Traefik. Any other path proxied to an auth server keeps
    /// its auth.
    public func reachingAuthServerNeedsNoAuth(_ providers: [AuthProvider], path: String) -> RequestOutcome {
        guard !auth.isEmpty, case .proxy(let targets) = terminal, OutpostPath.contains(path) else { return self }
        let servers = Set(auth.compactMap { providers.indices.contains($0) && providers[$0].kind == .authentik ? providers[$0].upstream : nil })
        guard !targets.isEmpty, targets.allSatisfy({ servers.contains($0) }) else { return self }
        var copy = self
        copy.auth = []
        copy.provenance.auth = []
        return copy
    }
}
