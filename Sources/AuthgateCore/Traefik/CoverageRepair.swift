/// Compensating rules for paths the coverage check finds routed differently, where
/// the difference comes from how Traefik ranks routers rather than from what the
/// rules say:
///
/// - Caddy matches paths case-insensitively, Gateway API does not: `/ADMIN/x` would
///   miss the protected `/admin/*` rule and fall to an open catch-all. The fix is a
///   `(?i)` RegularExpression rule with the protected rule's effect.
/// - A broader route (a wildcard or catch-all host) can outrank this host's own rule
///   (Traefik adds the longest hostname's length and a rule-index bonus to each
///   router's priority). The fix is a RegularExpression rule for the same paths, with
///   leading `^` anchors added until its priority beats the one that won.
///
/// Each round adds the compensations for all failing paths and is kept only if fewer
/// paths fail afterwards; whatever still fails is reported by the check.
enum CoverageRepair {
    static func repair(
        plan: MigrationPlan, siteRules: inout [[HTTPRouteRule]], builder: inout RuleBuilder, backendRefs: [Upstream: BackendRef],
        assemble: ([[HTTPRouteRule]], RuleBuilder) -> TraefikEmission
    ) {
        var failing = failures(plan, assemble(siteRules, builder))
        for _ in 0..<6 where !failing.isEmpty {
            var candidateRules = siteRules
            var candidateBuilder = builder
            let routing = TraefikRouting(routes: assemble(siteRules, builder).routes)
            for finding in failing {
                guard let siteIndex = finding.siteIndex else { continue }
                let site = plan.sites[siteIndex]
                for path in finding.paths {
                    let lower = path.lowercased()
                    guard let decision = site.decisions.first(where: { $0.match.matches(lower) }) else { continue }
                    let host = site.hosts.first.map { $0.hasPrefix("*.") ? "authgate-probe" + $0.dropFirst() : $0 } ?? "authgate-probe.invalid"
                    let beaten = routing.winners(host: host, path: path).map(\.priority).max() ?? 0
                    guard let match = forcedMatch(for: decision.match, caseInsensitive: path != lower, beating: beaten) else { continue }
                    guard !candidateRules[siteIndex].contains(where: { $0.matches.contains(match) }) else { continue }
                    let backends = decision.outcome.upstreams.compactMap { backendRefs[$0] }
                    var rule = candidateBuilder.rule(for: decision, backends: backends, forcedMatch: match)
                    rule.provenance += rule.provenance.isEmpty ? "compensation" : " (compensation)"
                    candidateRules[siteIndex].insert(rule, at: 0)
                }
            }
            let after = failures(plan, assemble(candidateRules, candidateBuilder))
            guard count(after) < count(failing) else { break }
            siteRules = candidateRules
            builder = candidateBuilder
            failing = after
        }
    }

    private static func failures(_ plan: MigrationPlan, _ emission: TraefikEmission) -> [CoverageFinding] {
        CoverageCheck.run(plan: plan, emission: emission).filter(\.isFailure)
    }

    static func failingPaths(_ plan: MigrationPlan, _ emission: TraefikEmission) -> Int {
        count(failures(plan, emission))
    }

    private static func count(_ findings: [CoverageFinding]) -> Int {
        findings.reduce(0) { $0 + $1.paths.count }
    }

    /// A RegularExpression for the same paths as `pattern`, long enough to outrank a
    /// router of priority `beaten` (Traefik: 10000 + 100 × length, plus at most the
    /// hostname length and 16 for the rule index, which the margin covers).
    /// Nil when that would take more than 32 anchors (an Exact match, priority
    /// 100000, cannot be outranked by any sensible expression).
    static func forcedMatch(for pattern: PathPattern, caseInsensitive: Bool, beating beaten: Int) -> PathMatch? {
        let body: String
        switch pattern {
        case .any: body = "/"
        case .exact(let value): body = GatewayPathMatch.quote(value) + "$"
        case .prefix(let value): body = GatewayPathMatch.quote(value)
        case .suffix(let value): body = ".*" + GatewayPathMatch.quote(value) + "$"
        case .contains(let value): body = ".*" + GatewayPathMatch.quote(value)
        case .glob(let value): body = GatewayPathMatch.globRegex(value) + "$"
        }
        let flag = caseInsensitive ? "(?i)" : ""
        var anchors = "^"
        while 10_000 + (flag + anchors + body).utf8.count * 100 <= beaten {
            guard anchors.count < 32 else { return nil }
            anchors += "^"
        }
        return PathMatch(.regularExpression, flag + anchors + body)
    }
}
