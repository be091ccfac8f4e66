/// `authgate report`: for every host, each source rule (with its location) → the
/// HTTPRoute rule it became, its backend, protected before and after; then the
/// warnings and notes. Text for terminals, Markdown (with a Mermaid graph of host →
/// route → middleware → service) for code-hosting sites, JSON for scripts.
public struct MigrationReport: Sendable {
    public struct Host: Sendable {
        public var host: String
        /// `namespace/name` of the HTTPRoute serving the host.
        public var route: String
        public var rules: [Rule]
    }

    public struct Rule: Sendable {
        /// `file:line` of the source rule.
        public var source: String
        /// The Gateway API match of the rule that serves it.
        public var match: PathMatch
        /// `namespace/name:port`, or what answers instead (a redirect, no backend).
        public var backend: String
        public var authBefore: [String]
        public var authAfter: [String]
        /// Middlewares on the serving rule, by name.
        public var middlewares: [String]
        /// Constructs authgate cannot evaluate that the source ran for these requests.
        public var unknownBefore: [String] = []
        public var protectedBefore: Bool { !authBefore.isEmpty }
        public var protectedAfter: Bool { !authAfter.isEmpty }

        /// `public`, `protected (authentik)`, `unknown (directive 'authorize' at …)`.
        var before: String { Self.protection(authBefore, unknown: unknownBefore) }
        var after: String { Self.protection(authAfter, unknown: []) }

        static func protection(_ auth: [String], unknown: [String]) -> String {
            if !unknown.isEmpty { return "unknown (\(unknown.joined(separator: ", ")))" }
            return auth.isEmpty ? "public" : "protected (\(auth.joined(separator: "+")))"
        }
    }

    public var hosts: [Host]
    public var diagnostics: [Diagnostic]

    public init(result: Conversion.Result, diagnostics: Diagnostics) {
        let emission = result.emission
        let plan = result.plan
        var hosts: [Host] = []
        for (siteIndex, site) in plan.sites.enumerated() {
            let routeIndices = emission.routesOfSite.indices.contains(siteIndex) ? emission.routesOfSite[siteIndex] : []
            let listener = routeIndices.first.flatMap { emission.routes[$0].parentRefs.first?.sectionName }
            let routing = TraefikRouting(routes: emission.routes, listener: listener) { namespace, name in emission.middlewareEffects[namespace + "/" + name] != nil }
            for host in site.hosts.isEmpty ? ["*"] : site.hosts {
                let probeHost = host == "*" ? "authgate-probe.invalid" : host.hasPrefix("*.") ? "authgate-probe" + host.dropFirst() : host
                var rules: [Rule] = []
                var routeName = routeIndices.first.map { "\(emission.routes[$0].namespace)/\(emission.routes[$0].name)" } ?? ""
                for (decisionIndex, decision) in site.decisions.enumerated() {
                    // A path this decision decides: its own pattern's, and no more
                    // specific earlier one's (the catch-all after `Exact /` is shown by
                    // `/authgate-probe`, so its row is `PathPrefix /`, not `Exact /`).
                    let earlier = site.decisions[..<decisionIndex].map(\.match).filter { $0 != decision.match }
                    let own = decision.match.samplePaths.filter { decision.match.matches($0) }
                    guard let sample = own.first(where: { path in !earlier.contains { $0.matches(path) } }) ?? own.first else { continue }
                    let request = site.behaviour.variants.first { $0.conditions == decision.conditions }?.request ?? site.behaviour.variants.first?.request ?? .baseline
                    var before = decision.outcome.auth.map { plan.authProviders[$0].kind.rawValue }
                    if !decision.outcome.allowedSources.isEmpty { before.append("ip allow list") }
                    var match = GatewayPathMatch.match(for: decision.match)
                    match.conditions = decision.conditions
                    var after: [String] = []
                    var middlewares: [String] = []
                    if let hit = routing.winners(host: probeHost, path: sample, request: request).first {
                        let route = routing.routes[hit.route]
                        let rule = route.rules[hit.rule]
                        match = rule.matches.first { TraefikRouting(routes: [route]).matches($0, sample, request: request) } ?? match
                        routeName = "\(route.namespace)/\(route.name)"
                        for case .extensionRef(let name) in rule.filters {
                            middlewares.append(name)
                            switch emission.middlewareEffects[route.namespace + "/" + name] {
                            case .auth(let provider)?: after.append(plan.authProviders[provider].kind.rawValue)
                            case .ipAllowList?: after.append("ip allow list")
                            default: break
                            }
                        }
                    }
                    var row = Rule(
                        source: decision.source.map { "\($0.file):\($0.line)" } ?? "(added by authgate)",
                        match: match, backend: Self.backend(decision.outcome, emission: emission, path: sample),
                        authBefore: before, authAfter: after, middlewares: middlewares)
                    row.unknownBefore = decision.outcome.unknown.map(\.description)
                    // Rows that say the same (two source patterns served by one rule
                    // alike) are one row.
                    if !rules.contains(where: { $0.source == row.source && $0.match == row.match && $0.backend == row.backend && $0.before == row.before && $0.after == row.after }) {
                        rules.append(row)
                    }
                }
                hosts.append(Host(host: host, route: routeName, rules: rules))
            }
        }
        self.hosts = hosts
        var all = diagnostics.grouped
        for finding in result.findings {
            all.append(Diagnostic(finding.isFailure ? .error : .warning, finding.message, at: finding.location))
        }
        self.diagnostics = all
    }

    static func backend(_ outcome: RequestOutcome, emission: TraefikEmission, path: String) -> String {
        switch outcome.terminal {
        case .proxy(let upstreams):
            return upstreams.map { emission.ref(for: $0, path: path)?.description ?? $0.description }.joined(separator: ", ")
        case .redirect(let redirect):
            let target = (redirect.scheme.map { "\($0)://" } ?? "") + (redirect.hostname ?? "") + (redirect.path ?? "{path}")
            return "redirect \(redirect.status) → \(target)"
        case .answeredByProxy(let directive):
            return "no backend (the source's '\(directive)')"
        case .unhandled:
            return "no backend"
        }
    }

    // MARK: - Text

    public var text: String {
        var lines: [String] = []
        for host in hosts {
            lines.append("\(host.host)  (HTTPRoute \(host.route))")
            let sourceWidth = host.rules.map(\.source.count).max() ?? 0
            let matchWidth = host.rules.map(\.match.description.count).max() ?? 0
            for rule in host.rules {
                let protection = "\(rule.before) → \(rule.after)"
                lines.append("  " + rule.source.padding(sourceWidth) + "  " + rule.match.description.padding(matchWidth) + "  → \(rule.backend)  [\(protection)]")
            }
            lines.append("")
        }
        if !diagnostics.isEmpty {
            lines.append("Warnings and notes:")
            lines += diagnostics.map { "  " + $0.description.replacingNewlines(with: "\n  ") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Markdown

    public var markdown: String {
        var text = "# authgate migration report\n\n"
        for host in hosts {
            text += "## \(host.host)\n\nHTTPRoute `\(host.route)`\n\n"
            text += "| source | match | backend | before | after |\n|---|---|---|---|---|\n"
            for rule in host.rules {
                let (before, after) = (rule.before, rule.after)
                text += "| `\(rule.source.markdownEscaped)` | `\(rule.match.description.markdownEscaped)` | \(rule.backend.markdownEscaped) | \(before) | \(after) |\n"
            }
            text += "\n"
        }
        text += "## Graph\n\n```mermaid\ngraph LR\n" + mermaid + "```\n\n"
        if !diagnostics.isEmpty {
            text += "## Warnings and notes\n\n" + diagnostics.map { "- `\($0.location.map { "\($0)" } ?? "authgate")` \($0.severity.rawValue): \($0.message.markdownEscaped)" }.joined(separator: "\n") + "\n"
        }
        return text
    }

    /// host → route → middleware → service, each node once.
    var mermaid: String {
        var ids: [String: String] = [:]
        var nodes: [String] = []
        var edges: [String] = []
        func node(_ label: String) -> String {
            if let id = ids[label] { return id }
            let id = "n\(ids.count)"
            ids[label] = id
            nodes.append("  \(id)[\"\(label.replacingOccurrences(of: "\"", with: "'"))\"]")
            return id
        }
        func edge(_ from: String, _ to: String) {
            let line = "  \(from) --> \(to)"
            if !edges.contains(line) { edges.append(line) }
        }
        for host in hosts {
            let hostNode = node(host.host)
            let routeNode = node("HTTPRoute " + host.route)
            edge(hostNode, routeNode)
            for rule in host.rules {
                var previous = routeNode
                for middleware in rule.middlewares {
                    let middlewareNode = node("Middleware " + middleware)
                    edge(previous, middlewareNode)
                    previous = middlewareNode
                }
                edge(previous, node(rule.backend.hasPrefix("no backend") || rule.backend.hasPrefix("redirect") ? rule.backend : "Service " + rule.backend))
            }
        }
        return (nodes + edges).joined(separator: "\n") + "\n"
    }

    // MARK: - JSON

    public var json: String {
        let value: YAMLValue = .object([
            ("hosts", .list(hosts.map { host in
                .object([
                    ("host", .string(host.host)),
                    ("route", .string(host.route)),
                    ("rules", .list(host.rules.map { rule in
                        .object([
                            ("source", .string(rule.source)),
                            ("match", .object([("type", .string(rule.match.kind.rawValue)), ("value", .string(rule.match.value))])),
                            ("backend", .string(rule.backend)),
                            ("protectedBefore", .bool(rule.protectedBefore)),
                            ("protectedAfter", .bool(rule.protectedAfter)),
                            ("authBefore", .strings(rule.authBefore)),
                            ("authAfter", .strings(rule.authAfter)),
                            ("unknownBefore", rule.unknownBefore.isEmpty ? nil : .strings(rule.unknownBefore)),
                        ])
                    })),
                ])
            })),
            ("diagnostics", .list(diagnostics.map { diagnostic in
                .object([
                    ("severity", .string(diagnostic.severity.rawValue)),
                    ("message", .string(diagnostic.message)),
                    ("location", diagnostic.location.map { .string("\($0)") }),
                ])
            })),
        ])
        return JSONWriter.render(value) + "\n"
    }
}

/// JSON from an ordered value: keys stay in the order they were built in.
enum JSONWriter {
    static func render(_ value: YAMLValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .string(let text): return quote(text)
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .list(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { inner + render($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .map(let entries):
            if entries.isEmpty { return "{}" }
            return "{\n" + entries.map { inner + quote($0.key) + ": " + render($0.value, indent: inner) }.joined(separator: ",\n") + "\n\(indent)}"
        }
    }

    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    result += String(format: "\\u%04x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    func replacingNewlines(with separator: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: separator)
    }

    var markdownEscaped: String {
        replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "`", with: "'")
    }
}
