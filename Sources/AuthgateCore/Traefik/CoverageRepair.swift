/// Compensating rules for paths the coverage check finds routed differently, where
/// the difference comes from how Traefik ranks routers rather than from what the
/// rules say:
///
/// - Caddy matches paths case-insensitively, Gateway API does not: `/ADMIN/x` would
///   miss the protected `/admin/*` rule and fall to an open catch-all. The fix is a
///   `(?i)` RegularExpression rule with the protected rule's effect.
/// - A broader route (a wildcard or catch-all host) can outrank this host's own rule
///   (Traefik adds the longest hostname's length and a rule-index bonus to each
///   router's priority). The fix is a RegularExpression rule for the same paths,
///   lengthened until its priority beats the one that won: by a trailing `.*` where
///   the expression is open at its end, else by leading `^` anchors.
///
/// Each round adds the compensations for all failing paths and is kept only if fewer
/// paths fail afterwards; whatever still fails is reported by the check.
enum CoverageRepair {
    static func repair(
        plan: MigrationPlan, siteRules: inout [[HTTPRouteRule]], builder: inout RuleBuilder,
        assemble: ([[HTTPRouteRule]], RuleBuilder) -> TraefikEmission, only: Set<Int>? = nil
    ) {
        var failing = failures(plan, assemble(siteRules, builder), sites: only)
        var rounds = 0
        while !failing.isEmpty && rounds < 8 {
            // A compensation on a broader site can take paths from a more specific
            // one, which the next round compensates in turn: a round is kept when it,
            // or it and the next together, leave fewer failing paths. Only the failing
            // sites are checked again — all of them when a broader site changed.
            let touched = Set(failing.compactMap(\.siteIndex))
            let broad = touched.contains { plan.sites[$0].hosts.isEmpty || plan.sites[$0].hosts.contains { $0.hasPrefix("*.") } }
            let scope: Set<Int>? = only ?? (broad ? nil : touched)
            var rules = siteRules
            var rulesBuilder = builder
            var kept = false
            var current = failing
            for _ in 0..<2 {
                rounds += 1
                compensate(current, plan: plan, siteRules: &rules, builder: &rulesBuilder, emission: assemble(rules, rulesBuilder))
                current = failures(plan, assemble(rules, rulesBuilder), sites: scope)
                if count(current) < count(failing) {
                    kept = true
                    break
                }
            }
            guard kept else { break }
            siteRules = rules
            builder = rulesBuilder
            failing = current
        }
    }

    private static func compensate(
        _ failing: [CoverageFinding], plan: MigrationPlan, siteRules: inout [[HTTPRouteRule]], builder: inout RuleBuilder,
        emission: TraefikEmission
    ) {
        let routing = TraefikRouting(routes: emission.routes)
        for finding in failing {
            guard let siteIndex = finding.siteIndex else { continue }
            let site = plan.sites[siteIndex]
            for path in finding.paths {
                let lower = path.lowercased()
                let host = site.hosts.first.map { $0.hasPrefix("*.") ? "authgate-probe" + $0.dropFirst() : $0 } ?? "authgate-probe.invalid"
                // The outpost route authgate added is not the source's: it takes only
                // the lower-case prefix, and other spellings keep the source's routing.
                let request = finding.variant ?? site.behaviour.variants.first?.request ?? .baseline
                // The decisions for this path whose conditions the request meets, the
                // most specific conditions first (as Traefik ranks them).
                let candidates = site.decisions.filter { decision in
                    decision.match.matches(lower) && decision.conditions.holds(for: request)
                        && !(site.addedOutpostRoute && decision.match == .prefix(AuthentikOutpostPaths.prefix) && !OutpostPath.containsExactly(path))
                }.enumerated().sorted {
                    let (a, b) = (TraefikRouting.conditionPriority($0.element.conditions), TraefikRouting.conditionPriority($1.element.conditions))
                    return a != b ? a > b : $0.offset < $1.offset
                }.map(\.element)
                // A pattern's paths need not all end alike (`/x$` cuts across
                // `/static/*`): prefer a decision that does for this path what the
                // source did.
                let wanted = site.behaviour.outcome(host: host, path: path, request: request)
                guard let decision = candidates.first(where: {
                    $0.outcome.terminal == wanted.terminal && $0.outcome.auth == wanted.auth && $0.outcome.rewrites == wanted.rewrites
                }) ?? candidates.first else { continue }
                let beaten = routing.winners(host: host, path: path, request: request).map(\.priority).max() ?? 0
                guard var match = forcedMatch(for: decision.match, caseInsensitive: path != lower, beating: beaten) else { continue }
                match.conditions = decision.conditions
                guard !siteRules[siteIndex].contains(where: { $0.matches.contains(match) }) else { continue }
                let backends = decision.outcome.upstreams.compactMap { emission.ref(for: $0, path: lower) }
                var rule = builder.rule(for: decision, backends: backends, namespace: site.namespace ?? emission.defaultNamespace, forcedMatch: match)
                rule.provenance += rule.provenance.isEmpty ? "compensation" : " (compensation)"
                siteRules[siteIndex].insert(rule, at: 0)
            }
        }
    }

    private static func failures(_ plan: MigrationPlan, _ emission: TraefikEmission, sites: Set<Int>?) -> [CoverageFinding] {
        CoverageCheck.run(plan: plan, emission: emission, sites: sites).filter(\.isFailure)
    }

    static func failingPaths(_ plan: MigrationPlan, _ emission: TraefikEmission) -> Int {
        count(failures(plan, emission, sites: nil))
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
        case .segmentPrefix(let value): body = GatewayPathMatch.quote(String(value.trimmingSuffix("/"))) + "(/|$)"
        case .regex(let value):
            // An unanchored expression matches anywhere: the same as `^(?s:.*)` before it.
            body = value.hasPrefix("^") ? String(value.dropFirst()) : "(?s:.*)(?:" + value + ")"
        }
        let flag = caseInsensitive ? "(?i)" : ""
        func outranks(_ value: String) -> Bool { 10_000 + value.utf8.count * 100 > beaten }
        if outranks(flag + "^" + body) { return PathMatch(.regularExpression, flag + "^" + body) }
        // An expression not anchored at its end matches the same paths with `.*`
        // after it (which may match nothing): the readable way to gain two characters.
        if !body.hasSuffix("$") && !body.hasSuffix(".*") && outranks(flag + "^" + body + ".*") {
            return PathMatch(.regularExpression, flag + "^" + body + ".*")
        }
        var anchors = "^"
        while !outranks(flag + anchors + body) {
            guard anchors.count < 32 else { return nil }
            anchors += "^"
        }
        return PathMatch(.regularExpression, flag + anchors + body)
    }
}
