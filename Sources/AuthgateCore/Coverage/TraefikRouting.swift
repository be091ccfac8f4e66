import Foundation

/// How Traefik 3.7's Gateway API provider routes a request through HTTPRoutes
/// (`pkg/provider/kubernetes/gateway/httproute.go`): every match becomes a router whose
/// priority is the path's (Exact 100000; PathPrefix `/` 1; another PathPrefix or a
/// RegularExpression 10000 + 100 × the value's length) plus the longest hostname's
/// length plus (rules − rule index); the highest priority that matches wins.
/// PathPrefix `/x/` matches `/x` and `/x/…` (Traefik trims the trailing slash);
/// a RegularExpression is an unanchored Go regexp. A rule whose ExtensionRef names a
/// Middleware that does not exist gets no router at all (Traefik 3.7.15 logs
/// "middleware … does not exist" and drops it), so a lower-priority rule — perhaps
/// one without auth — takes its requests.
public struct TraefikRouting: Sendable {
    public struct Hit: Sendable, Hashable {
        public var route: Int
        public var rule: Int
        public var priority: Int
    }

    public let routes: [HTTPRoute]
    private let regexes: RegexCache
    /// Routes by exact hostname, and the routes with a wildcard or no hostname, so a
    /// request looks only at routes that can take it.
    private let routesByHost: [String: [Int]]
    private let broadRoutes: [Int]
    /// Every route's routers, worked out once: `winners` is asked for every probe of
    /// every host, so it must not allocate.
    private let routers: [[[Router]]]
    private let hostPriorities: [Int]
    /// Per route, its routers by the first path segment every path they match has
    /// (lower-cased), and those that have none known: a request looks only at its own
    /// segment's routers and the unknown ones, not at every router of a large route.
    private let segmentIndex: [SegmentIndex]

    private struct SegmentIndex {
        var bySegment: [Substring: [RouterID]] = [:]
        var unknown: [RouterID] = []
        /// Small routes are scanned whole.
        var isUsed = false
    }

    private struct RouterID: Comparable {
        var rule: Int32
        var router: Int32
        static func < (a: RouterID, b: RouterID) -> Bool { (a.rule, a.router) < (b.rule, b.router) }
    }

    /// One router: a match of a kept rule, with its path priority and its test.
    private struct Router {
        enum Test {
            case exact(String)
            case everything
            /// PathPrefix with its trailing slash trimmed: the value itself, or below it.
            case prefix(String, below: String)
            case regex(String)
        }
        var pathPriority: Int
        var test: Test
        /// Method, headers and query parameters the request must also meet.
        var conditions: RequestConditions?
    }

    /// `resolves(namespace, name)` tells whether a Middleware exists; by default all do.
    /// With a `listener`, only routes attached to it (or to every listener) take part,
    /// as a request arriving on that listener sees.
    public init(routes allRoutes: [HTTPRoute], listener: String? = nil, resolves: (String, String) -> Bool = { _, _ in true }) {
        let routes = listener.map { name in
            allRoutes.filter { route in route.parentRefs.isEmpty || route.parentRefs.contains { $0.sectionName == nil || $0.sectionName == name } }
        } ?? allRoutes
        self.routes = routes
        var byHost: [String: [Int]] = [:]
        var broad: [Int] = []
        var patterns = Set<String>()
        var routers: [[[Router]]] = []
        var hostPriorities: [Int] = []
        for (index, route) in routes.enumerated() {
            if route.hostnames.isEmpty || route.hostnames.contains(where: { $0.hasPrefix("*.") }) {
                broad.append(index)
            }
            for host in Set(route.hostnames) where !host.hasPrefix("*.") {
                byHost[host, default: []].append(index)
            }
            hostPriorities.append(route.hostnames.map(\.utf8.count).max() ?? 0)
            routers.append(route.rules.map { rule in
                // A rule whose Middleware does not exist gets no router.
                for case .extensionRef(let name) in rule.filters where !resolves(route.namespace, name) {
                    return []
                }
                return rule.matches.map { match in
                    if match.kind == .regularExpression { patterns.insert(match.value) }
                    return Router(
                        pathPriority: Self.pathPriority(match) + Self.conditionPriority(match.conditions), test: Self.test(match),
                        conditions: match.conditions.isEmpty ? nil : match.conditions)
                }
            })
        }
        routesByHost = byHost
        broadRoutes = broad
        self.routers = routers
        self.hostPriorities = hostPriorities
        regexes = RegexCache(patterns)
        segmentIndex = routers.map { rules in
            var index = SegmentIndex()
            guard rules.reduce(0, { $0 + $1.count }) > 32 else { return index }
            index.isUsed = true
            for (ruleIndex, rule) in rules.enumerated() {
                for (routerIndex, router) in rule.enumerated() {
                    let id = RouterID(rule: Int32(ruleIndex), router: Int32(routerIndex))
                    if let segment = Self.firstSegment(of: router.test) {
                        index.bySegment[segment, default: []].append(id)
                    } else {
                        index.unknown.append(id)
                    }
                }
            }
            return index
        }
    }

    private static func test(_ match: PathMatch) -> Router.Test {
        switch match.kind {
        case .exact: return .exact(match.value)
        case .pathPrefix:
            if match.value == "/" { return .everything }
            let trimmed = String(match.value.trimmingSuffix("/"))
            return .prefix(trimmed, below: trimmed + "/")
        case .regularExpression: return .regex(match.value)
        }
    }

    /// The first path segment, lower-cased, that every path a router matches begins
    /// with, when its test fixes one: an Exact value, a PathPrefix, or an expression
    /// anchored with `^` whose literal start runs past the segment's end.
    private static func firstSegment(of test: Router.Test) -> Substring? {
        let start: String
        var complete: Bool
        switch test {
        case .everything: return nil
        case .exact(let value): start = value; complete = true
        case .prefix(let value, _): start = value; complete = true
        case .regex(let pattern):
            let literal = RegexCache.anchoredLiteral(pattern)
            guard !literal.prefix.isEmpty, literal.prefix.allSatisfy({ $0 < 0x80 }) else { return nil }
            start = String(decoding: literal.prefix, as: UTF8.self)
            complete = false
        }
        guard start.hasPrefix("/") else { return nil }
        let rest = start.dropFirst()
        if let slash = rest.firstIndex(of: "/") {
            return Substring(rest[..<slash].lowercased())
        }
        // `/api` as an Exact value or a trimmed PathPrefix is the whole segment; as the
        // literal start of an expression it may continue (`/apix`).
        return complete ? Substring(rest.lowercased()) : nil
    }

    /// The request path's first segment, lower-cased, for the segment index; nil
    /// when the index cannot be used (past ASCII, case folding is Unicode's).
    private static func indexSegment(of path: String) -> Substring? {
        let rest = path.utf8.dropFirst()
        let end = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let segmentBytes = rest[..<end]
        guard path.utf8.first == UInt8(ascii: "/"), segmentBytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        return Substring(String(decoding: segmentBytes, as: UTF8.self).lowercased())
    }

    /// The routers of a route worth testing for a path, in rule and router order.
    private func routerCandidates(route: Int, segment: Substring?) -> [RouterID]? {
        let index = segmentIndex[route]
        guard index.isUsed, let segment else { return nil }
        let found = index.bySegment[segment] ?? []
        if found.isEmpty { return index.unknown }
        if index.unknown.isEmpty { return found }
        return (found + index.unknown).sorted()
    }

    /// The rules that win for a request: one normally, several when routers tie.
    public func winners(host: String, path: String, request: RequestVariant = .baseline) -> [Hit] {
        let segment = Self.indexSegment(of: path)
        var best: [Hit] = []
        var bestPriority = Int.min
        let exact = routesByHost[host] ?? []
        let candidates = broadRoutes.isEmpty ? exact : exact.isEmpty ? broadRoutes : Set(exact + broadRoutes).sorted()
        for routeIndex in candidates {
            let route = routes[routeIndex]
            guard Self.hostMatches(route.hostnames, host) else { continue }
            let hostPriority = hostPriorities[routeIndex]
            let rules = routers[routeIndex]
            func consider(_ ruleIndex: Int, _ router: Router) {
                guard passes(router, path, request) else { return }
                let priority = router.pathPriority + hostPriority + rules.count - ruleIndex
                if priority > bestPriority {
                    bestPriority = priority
                    best = [Hit(route: routeIndex, rule: ruleIndex, priority: priority)]
                } else if priority == bestPriority && !best.contains(where: { $0.route == routeIndex && $0.rule == ruleIndex }) {
                    best.append(Hit(route: routeIndex, rule: ruleIndex, priority: priority))
                }
            }
            if let ids = routerCandidates(route: routeIndex, segment: segment) {
                for id in ids { consider(Int(id.rule), rules[Int(id.rule)][Int(id.router)]) }
            } else {
                for (ruleIndex, rule) in rules.enumerated() {
                    for router in rule { consider(ruleIndex, router) }
                }
            }
        }
        return best
    }

    /// One rule that matches a request: its best router's priority without the
    /// rule-index bonus (`rules − index`), which the caller adds for the order it weighs.
    public struct RuleMatch: Sendable, Hashable {
        public var route: Int
        public var rule: Int
        public var basePriority: Int
    }

    /// Every rule that matches a request. With the bonus added back, the highest are
    /// `winners`; a caller that removes rules can rank what is left without testing
    /// the paths again.
    public func matchingRules(host: String, path: String, request: RequestVariant = .baseline) -> [RuleMatch] {
        let segment = Self.indexSegment(of: path)
        var found: [RuleMatch] = []
        let exact = routesByHost[host] ?? []
        let candidates = broadRoutes.isEmpty ? exact : exact.isEmpty ? broadRoutes : Set(exact + broadRoutes).sorted()
        for routeIndex in candidates where Self.hostMatches(routes[routeIndex].hostnames, host) {
            let hostPriority = hostPriorities[routeIndex]
            let rules = routers[routeIndex]
            if let ids = routerCandidates(route: routeIndex, segment: segment) {
                var bestByRule: [Int: Int] = [:]
                var order: [Int] = []
                for id in ids where passes(rules[Int(id.rule)][Int(id.router)], path, request) {
                    let rule = Int(id.rule)
                    let priority = rules[rule][Int(id.router)].pathPriority + hostPriority
                    if let known = bestByRule[rule] {
                        bestByRule[rule] = max(known, priority)
                    } else {
                        bestByRule[rule] = priority
                        order.append(rule)
                    }
                }
                for rule in order { found.append(RuleMatch(route: routeIndex, rule: rule, basePriority: bestByRule[rule]!)) }
                continue
            }
            for (ruleIndex, rule) in rules.enumerated() {
                var best: Int?
                for router in rule where passes(router, path, request) {
                    best = max(best ?? Int.min, router.pathPriority + hostPriority)
                }
                if let best { found.append(RuleMatch(route: routeIndex, rule: ruleIndex, basePriority: best)) }
            }
        }
        return found
    }

    private func passes(_ router: Router, _ path: String, _ request: RequestVariant) -> Bool {
        guard passes(router.test, path) else { return false }
        return router.conditions?.holds(for: request) ?? true
    }

    private func passes(_ test: Router.Test, _ path: String) -> Bool {
        switch test {
        case .exact(let value): return path == value
        case .everything: return true
        case .prefix(let value, let below): return path == value || path.hasPrefix(below)
        case .regex(let pattern): return regexes.firstMatch(pattern, in: path)
        }
    }

    public static func pathPriority(_ match: PathMatch) -> Int {
        switch match.kind {
        case .exact: return 100_000
        case .pathPrefix: return match.value == "/" ? 1 : 10_000 + match.value.utf8.count * 100
        case .regularExpression: return 10_000 + match.value.utf8.count * 100
        }
    }

    /// Traefik 3.7 adds to a match's priority 1000 for a method, 100 for each header
    /// and 10 for each query parameter (`httproute.go`, `buildMatchRule`).
    public static func conditionPriority(_ conditions: RequestConditions) -> Int {
        (conditions.method == nil ? 0 : 1000) + 100 * conditions.headers.count + 10 * conditions.queryParams.count
    }

    public func matches(_ match: PathMatch, _ path: String, request: RequestVariant = .baseline) -> Bool {
        guard match.conditions.holds(for: request) else { return false }
        switch match.kind {
        case .exact:
            return path == match.value
        case .pathPrefix:
            if match.value == "/" { return true }
            let trimmed = String(match.value.trimmingSuffix("/"))
            return path == trimmed || path.hasPrefix(trimmed + "/")
        case .regularExpression:
            return regexes.firstMatch(match.value, in: path)
        }
    }

    /// Traefik turns `*.example.com` into `^[a-z0-9-\.]+\.example\.com$`.
    static func hostMatches(_ hostnames: [String], _ host: String) -> Bool {
        if hostnames.isEmpty { return true }
        return hostnames.contains { HostName.gatewayMatches(pattern: $0, host: host) }
    }
}

/// Compiled regular expressions for the RegularExpression matches authgate writes
/// (anchors, escaped literals, `[^/]`, `.*`, `(?i)`: syntax Go and Swift share),
/// compiled once per process: the simplifier and the coverage check ask for the same
/// few patterns many times.
final class RegexCache: @unchecked Sendable {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var compiled: [String: Entry?] = [:]
    private let table: [String: Entry]

    /// A compiled expression and, for one anchored at the start, the literal text every
    /// match begins with: most paths fail on that, without running the regex engine.
    struct Entry {
        var regex: Regex<AnyRegexOutput>
        var literalPrefix: [UInt8]
        var caseInsensitive: Bool
    }

    init(_ patterns: Set<String>) {
        var table: [String: Entry] = [:]
        Self.lock.lock()
        defer { Self.lock.unlock() }
        for pattern in patterns {
            if let known = Self.compiled[pattern] {
                table[pattern] = known
                continue
            }
            let entry = (try? Regex(pattern)).map { regex in
                let (prefix, folded) = Self.anchoredLiteral(pattern)
                return Entry(regex: regex, literalPrefix: prefix, caseInsensitive: folded)
            }
            Self.compiled[pattern] = entry
            table[pattern] = entry
        }
        self.table = table
    }

    func firstMatch(_ pattern: String, in text: String) -> Bool {
        guard let entry = table[pattern] else { return false }
        if !entry.literalPrefix.isEmpty {
            var bytes = text.utf8.makeIterator()
            for expected in entry.literalPrefix {
                guard let byte = bytes.next() else { return false }
                // Past ASCII, case folding is Unicode's (`ſ` is an `s`): ask the engine.
                if byte >= 0x80 { break }
                let same = entry.caseInsensitive ? Self.lower(byte) == Self.lower(expected) : byte == expected
                if !same { return false }
            }
        }
        return (try? entry.regex.firstMatch(in: text)) != nil
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    /// The ASCII text a match must begin with, for `^…` and `(?i)^…`: characters up to
    /// the first operator (an escaped punctuation character is itself), less the last
    /// one when a quantifier follows it. Empty when the pattern is not anchored so.
    static func anchoredLiteral(_ pattern: String) -> (prefix: [UInt8], caseInsensitive: Bool) {
        var bytes = Array(pattern.utf8)
        var folded = false
        if bytes.starts(with: Array("(?i)".utf8)) {
            folded = true
            bytes.removeFirst(4)
        }
        guard bytes.first == UInt8(ascii: "^"), !hasTopLevelAlternation(bytes) else { return ([], false) }
        var literal: [UInt8] = []
        var index = 1
        let operators = Set(".[]()*+?{}|^$".utf8)
        let quantifiers = Set("*+?{".utf8)
        while index < bytes.count {
            var byte = bytes[index]
            var width = 1
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count else { break }
                let escaped = bytes[index + 1]
                let isWord = (escaped >= 0x30 && escaped <= 0x39) || (lower(escaped) >= 0x61 && lower(escaped) <= 0x7A)
                guard escaped < 0x80, !isWord else { break }
                byte = escaped
                width = 2
            } else if byte >= 0x80 || operators.contains(byte) {
                break
            }
            if index + width < bytes.count, quantifiers.contains(bytes[index + width]) { break }
            literal.append(byte)
            index += width
        }
        return (literal, folded)
    }

    /// Whether a `|` outside any group or class splits the whole pattern (`^a|b`
    /// matches `xb`, so `a` is no prefix).
    static func hasTopLevelAlternation(_ bytes: [UInt8]) -> Bool {
        var depth = 0
        var inClass = false
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 1
            case UInt8(ascii: "[") where !inClass: inClass = true
            case UInt8(ascii: "]") where inClass: inClass = false
            case UInt8(ascii: "(") where !inClass: depth += 1
            case UInt8(ascii: ")") where !inClass: depth -= 1
            case UInt8(ascii: "|") where !inClass && depth <= 0: return true
            default: break
            }
            index += 1
        }
        return false
    }
}
