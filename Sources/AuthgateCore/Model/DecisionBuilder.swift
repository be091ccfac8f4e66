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
        var decisions: [RoutingDecision] = []
        for (index, pattern) in patterns.enumerated() {
            let earlier = patterns[..<index]
            guard let representative = pattern.samplePaths.first(where: { sample in
                pattern.matches(sample) && !earlier.contains { $0.matches(sample) }
            }) else { continue }
            var outcome = behaviour.outcome(host: host, path: representative)
            outcome = outcome.reachingAuthServerNeedsNoAuth(authProviders)
            decisions.append(RoutingDecision(match: pattern, outcome: outcome, source: outcome.provenance.terminal))
        }
        return decisions
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
            let (la, lb) = (a.literalPrefix.utf8.count, b.literalPrefix.utf8.count)
            if la != lb { return la > lb }
            let (ka, kb) = (kindOrder(a), kindOrder(b))
            if ka != kb { return ka < kb }
            return a.description < b.description
        }
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
    /// A request proxied to an auth server itself (the Authentik outpost's own paths,
    /// an Authelia portal) needs no auth in front: the server answers it. The source
    /// may have run forward auth first (Caddy sorts `forward_auth` before
    /// `reverse_proxy`), but the output routes it straight to the server, as Authentik
    /// and Authelia document for Traefik.
    public func reachingAuthServerNeedsNoAuth(_ providers: [AuthProvider]) -> RequestOutcome {
        guard !auth.isEmpty, case .proxy(let targets) = terminal else { return self }
        let servers = Set(auth.compactMap { providers.indices.contains($0) ? providers[$0].upstream : nil })
        guard !targets.isEmpty, targets.allSatisfy({ servers.contains($0) }) else { return self }
        var copy = self
        copy.auth = []
        copy.provenance.auth = []
        return copy
    }
}
