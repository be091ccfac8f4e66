/// The requests worth probing a Caddy site with, besides the path: one plain request
/// that meets none of the site's header, method, query and client-address conditions,
/// then one for each such condition ("atom"), made to meet it, and one for each
/// matcher that combines several, made to meet them all.
///
/// The source can tell requests apart only by what its matchers test, so any request
/// that meets none of them behaves like the plain one, and one that meets an atom like
/// its variant. Each atom comes with the HTTPRoute condition that selects exactly the
/// requests meeting it (none for a client address: Gateway API cannot match on one;
/// a Traefik ipAllowList Middleware reproduces a restriction instead).
enum CaddyVariants {
    /// More variants than this multiply the check's work past what a site needs.
    static let maximum = 32

    /// Gateway API's methods (`HTTPMethod`), in the order a plain request tries them.
    static let gatewayMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE"]

    private struct Atom: Hashable {
        var method: String?
        var headers: [RequestVariant.Field] = []
        var query: [RequestVariant.Field] = []
        var clientIP: String?
        var clientRange: IPRange?
        /// Nil when no HTTPRoute condition selects it (a client address, a method
        /// Gateway API has no name for).
        var conditions: RequestConditions?
    }

    static func build(_ routes: [CaddyRoute]) -> [ProbeVariant] {
        var atomsOfMatchers: [[[Atom]]] = []
        var mentionedMethods = Set<String>()
        var ranges: [IPRange] = []
        func atoms(of condition: CaddyCondition) -> [Atom] {
            switch condition {
            case .header(let tests):
                return tests.flatMap { test -> [Atom] in
                    (test.absent ? ["*"] : test.values).map { value in
                        let (sent, match) = headerValue(value, field: test.field)
                        return Atom(headers: [.init(test.field, sent)], conditions: RequestConditions(headers: [match]))
                    }
                }
            case .headerRegexp(let field, let pattern, _):
                let sent = RegexSample.value(pattern) ?? "authgate-probe"
                return [Atom(headers: [.init(field, sent)], conditions: RequestConditions(headers: [.init(.regularExpression, field, pattern)]))]
            case .method(let methods):
                mentionedMethods.formUnion(methods)
                return methods.map { Atom(method: $0, conditions: gatewayMethods.contains($0) ? RequestConditions(method: $0) : nil) }
            case .query(let tests):
                return tests.flatMap { test in
                    test.values.map { value in
                        let star = value == "*"
                        return Atom(
                            query: [.init(test.key, star ? "authgate-probe" : value)],
                            conditions: RequestConditions(queryParams: [star ? .init(.regularExpression, test.key, ".*") : .init(.exact, test.key, value)]))
                    }
                }
            case .clientIP(let inRanges, _):
                ranges += inRanges
                return inRanges.map { Atom(clientIP: $0.sampleAddress, clientRange: $0, conditions: nil) }
            case .not(let inner):
                return inner.flatMap(atoms)
            case .path, .pathRegexp, .host, .opaque:
                return []
            }
        }
        func walk(_ routes: [CaddyRoute]) {
            for route in routes {
                let perCondition = route.matcher.conditions.map(atoms).filter { !$0.isEmpty }
                if !perCondition.isEmpty { atomsOfMatchers.append(perCondition) }
                for case .subroute(let inner) in route.handlers { walk(inner) }
            }
        }
        walk(routes)

        // The plain request: a method no matcher names, from an address in no range.
        let method = (gatewayMethods + ["PROPFIND"]).first { !mentionedMethods.contains($0) } ?? "GET"
        let address = RequestVariant.address(outside: ranges)
        let plain = RequestVariant(method: method, clientIP: address)
        var result = [ProbeVariant(request: plain, conditions: .none)]
        var seen: Set<RequestVariant> = [plain]
        func add(_ atoms: [Atom]) {
            guard result.count < maximum else { return }
            var request = plain
            var conditions = RequestConditions.none
            var methods = Set<String>()
            for atom in atoms {
                if let method = atom.method { request.method = method; methods.insert(method) }
                for field in atom.headers where !request.headers.contains(field) { request.headers.append(field) }
                for field in atom.query where !request.query.contains(field) { request.query.append(field) }
                if let clientIP = atom.clientIP {
                    request.clientIP = clientIP
                    request.clientRange = atom.clientRange
                }
                if let atomConditions = atom.conditions {
                    guard let both = conditions.and(atomConditions) else { return }
                    conditions = both
                }
            }
            guard methods.count <= 1, seen.insert(request).inserted else { return }
            result.append(ProbeVariant(request: request, conditions: conditions))
        }
        for matcher in atomsOfMatchers { for condition in matcher { for atom in condition { add([atom]) } } }
        for matcher in atomsOfMatchers where matcher.count > 1 { add(matcher.map { $0[0] }) }
        // Requests meeting conditions of two matchers at once: which matcher's handler
        // the source gives them, and which rule Traefik ranks first, may differ (a
        // bearer token on a path another matcher sends elsewhere).
        let singles = atomsOfMatchers.enumerated().flatMap { index, matcher in matcher.flatMap { $0 }.map { (index, $0) } }
        for (i, first) in singles.enumerated() {
            for second in singles[(i + 1)...] where second.0 != first.0 { add([first.1, second.1]) }
        }
        // Everything at once (one method at most): a request meeting atoms of several
        // matchers.
        var together: [Atom] = []
        for matcher in atomsOfMatchers {
            for condition in matcher where !together.contains(condition[0]) {
                if condition[0].method != nil && together.contains(where: { $0.method != nil }) { continue }
                together.append(condition[0])
            }
        }
        if together.count > 1 {
            add(together)
            add(together.filter { $0.method == nil })
        }
        return result
    }

    /// The opaque conditions a site's matchers use, by id.
    static func opaqueIDs(_ routes: [CaddyRoute]) -> Set<Int> {
        var ids = Set<Int>()
        func visit(_ condition: CaddyCondition) {
            switch condition {
            case .opaque(let id): ids.insert(id)
            case .not(let inner): inner.forEach(visit)
            default: break
            }
        }
        func walk(_ routes: [CaddyRoute]) {
            for route in routes {
                route.matcher.conditions.forEach(visit)
                for case .subroute(let inner) in route.handlers { walk(inner) }
            }
        }
        walk(routes)
        return ids
    }

    /// The value a probe sends for one of Caddy's header value forms, and the HTTPRoute
    /// header match that selects exactly the values the form accepts.
    static func headerValue(_ test: String, field: String) -> (sent: String, match: RequestConditions.ValueMatch) {
        if test == "*" { return ("authgate-probe", .init(.regularExpression, field, ".*")) }
        let leading = test.hasPrefix("*"), trailing = test.hasSuffix("*") && test.count > 1
        let core = String(test.dropFirst(leading ? 1 : 0).dropLast(trailing ? 1 : 0))
        let quoted = GatewayPathMatch.quote(core)
        switch (leading, trailing) {
        case (true, true): return ("probe" + core + "probe", .init(.regularExpression, field, quoted))
        case (true, false): return ("probe" + core, .init(.regularExpression, field, quoted + "$"))
        case (false, true): return (core + "probe", .init(.regularExpression, field, "^" + quoted))
        case (false, false): return (test, .init(.exact, field, test))
        }
    }
}
