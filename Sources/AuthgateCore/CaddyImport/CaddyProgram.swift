/// A site's routes as Caddy's HTTP adapter arranges them: directives sorted into
/// Caddy's order, `handle` blocks grouped so only the first match runs, `route` blocks
/// kept as written. Evaluating it for a request is what Caddy did with that request.
struct CaddyRoute: Sendable {
    var matcher: CaddyMatcher
    /// Routes sharing a group are mutually exclusive: only the first that matches runs.
    var group: Int?
    var handlers: [CaddyHandler]
}

indirect enum CaddyHandler: Sendable {
    /// Ask the auth provider; on success continue with the copied headers.
    case forwardAuth(provider: Int, location: SourceLocation)
    case rewrite(PathRewrite, location: SourceLocation)
    case requestHeaders(HeaderChanges)
    case responseHeaders(HeaderChanges)
    /// A nested route list (`handle`, `handle_path`, `route`); when nothing in it
    /// answers, the request goes on to the next handler.
    case subroute([CaddyRoute])
    case proxy([Upstream], requestHeaders: HeaderChanges, responseHeaders: HeaderChanges, location: SourceLocation)
    case redirect(Redirect, location: SourceLocation)
    /// The proxy answers itself (`respond`, `abort`, `file_server`, `php_fastcgi`, …).
    case answer(directive: String, location: SourceLocation)
    /// A directive whose effect on access authgate cannot tell (a plugin such as
    /// `authorize`): every request it touches is marked with it, and routing goes on.
    case unknown(UnknownConstruct)

    var isTerminal: Bool {
        switch self {
        case .proxy, .redirect, .answer: true
        default: false
        }
    }
}

/// The conditions of one matcher set; all must hold.
struct CaddyMatcher: Sendable {
    var conditions: [CaddyCondition]

    static let always = CaddyMatcher(conditions: [])

    /// Evaluates for a host, the (possibly rewritten) path and the rest of the request.
    func matches(host: String, path: String, request: RequestVariant = .baseline) -> Bool {
        conditions.allSatisfy { $0.holds(host: host, path: path, request: request) }
    }

    /// The single path pattern, when the matcher's path condition has exactly one value
    /// (whatever other conditions it has: Caddy reads only the set's `path`); Caddy
    /// sorts same-directive routes by it.
    var singlePath: String? {
        let paths = conditions.compactMap { condition -> [String]? in
            if case .path(_, let written) = condition { return written }
            return nil
        }
        guard paths.count == 1, paths[0].count == 1 else { return nil }
        return paths[0][0]
    }

    var hasConditions: Bool { !conditions.isEmpty }

    /// The header fields the matcher tests, with where each test was written.
    var headerFields: [(field: String, location: SourceLocation?)] {
        func fields(_ condition: CaddyCondition) -> [(String, SourceLocation?)] {
            switch condition {
            case .header(let tests): tests.map { ($0.field, $0.location) }
            case .headerRegexp(let field, _, let location): [(field, location)]
            case .not(let inner): inner.flatMap(fields)
            default: []
            }
        }
        return conditions.flatMap(fields)
    }
}

indirect enum CaddyCondition: Sendable {
    /// Any of these path patterns (lower-case; Caddy matches paths case-insensitively).
    case path([PathPattern], written: [String])
    /// Caddy's `path_regexp`: an unanchored Go regular expression on the cleaned path,
    /// case-sensitive (unlike `path`).
    case pathRegexp(String)
    /// Any of these hosts (lower-case; `*` labels are wildcards).
    case host([String])
    /// None of these conditions all hold.
    case not([CaddyCondition])
    /// Caddy's `header`: for each field (all must hold), any of its value tests.
    case header([HeaderTest])
    /// Caddy's `header_regexp`: an unanchored Go regexp on any value of the field.
    case headerRegexp(field: String, pattern: String, location: SourceLocation?)
    /// Caddy's `method`: any of these (compared exactly, as Caddy does).
    case method([String])
    /// Caddy's `query`: for each key (all must hold), any of its values (`*`: present).
    case query([QueryTest])
    /// Caddy's `remote_ip` / `client_ip`: the client address is in one of the ranges.
    case clientIP([IPRange], directive: String)
    /// A condition authgate cannot evaluate (`expression`, `vars`, `file`, `protocol`…):
    /// it holds for a request exactly when the request says so (`RequestVariant.holding`).
    case opaque(Int)

    struct HeaderTest: Sendable, Hashable {
        /// The field as written (without `!`).
        var field: String
        /// `!Field`: the field must be absent.
        var absent: Bool
        /// Caddy's value forms: exact, `*x` (suffix), `x*` (prefix), `*x*` (contains), `*` (any).
        var values: [String]
        var location: SourceLocation?

        func holds(_ request: RequestVariant) -> Bool {
            let sent = request.values(ofHeader: field)
            if absent { return sent.isEmpty }
            guard !sent.isEmpty else { return false }
            return values.contains { test in sent.contains { Self.valueMatches(test, $0) } }
        }

        static func valueMatches(_ test: String, _ value: String) -> Bool {
            if test == "*" { return true }
            let leading = test.hasPrefix("*"), trailing = test.hasSuffix("*") && test.count > 1
            let core = String(test.dropFirst(leading ? 1 : 0).dropLast(trailing ? 1 : 0))
            switch (leading, trailing) {
            case (true, true): return value.contains(core)
            case (true, false): return value.hasSuffix(core)
            case (false, true): return value.hasPrefix(core)
            case (false, false): return value == test
            }
        }
    }

    struct QueryTest: Sendable, Hashable {
        var key: String
        var values: [String]

        func holds(_ request: RequestVariant) -> Bool {
            let sent = request.values(ofQuery: key)
            return values.contains { test in test == "*" ? !sent.isEmpty : sent.contains(test) }
        }
    }

    func holds(host: String, path: String, request: RequestVariant = .baseline) -> Bool {
        switch self {
        case .path(let patterns, _):
            let lower = path.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") || $0 >= 0x80 } ? path.lowercased() : path
            let cleaned = CaddyPath.clean(lower)
            return patterns.contains { $0.matches(cleaned) }
        case .pathRegexp(let pattern):
            return PathPattern.regex(pattern).matches(CaddyPath.clean(path))
        case .host(let hosts):
            return hosts.contains { HostName.matches(pattern: $0, host: host) }
        case .not(let inner):
            return !inner.allSatisfy { $0.holds(host: host, path: path, request: request) }
        case .header(let tests):
            return tests.allSatisfy { $0.holds(request) }
        case .headerRegexp(let field, let pattern, _):
            let cache = RegexCache([pattern])
            return request.values(ofHeader: field).contains { cache.firstMatch(pattern, in: $0) }
        case .method(let methods):
            return methods.contains(request.method)
        case .query(let tests):
            return tests.allSatisfy { $0.holds(request) }
        case .clientIP(let ranges, _):
            return ranges.contains { $0.contains(request.clientIP) }
        case .opaque(let id):
            return request.holding.contains(id)
        }
    }
}

enum HostName {
    /// Caddy's host matcher: exact (case-insensitive), or `*` standing for one label.
    static func matches(pattern: String, host: String) -> Bool {
        let host = host.lowercased()
        if pattern == host { return true }
        guard pattern.contains("*") else { return false }
        let patternLabels = pattern.split(separator: ".", omittingEmptySubsequences: false)
        let hostLabels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard patternLabels.count == hostLabels.count else { return false }
        return zip(patternLabels, hostLabels).allSatisfy { $0 == "*" || $0 == $1 }
    }

    /// The HTTPRoute CRD's hostname pattern: RFC 1123 labels, optionally one leading
    /// `*.`, at most 253 characters.
    static func isGatewayHostname(_ host: String) -> Bool {
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        var rest = Substring(host)
        if rest.hasPrefix("*.") { rest = rest.dropFirst(2) }
        let labels = rest.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            guard let first = label.first, let last = label.last, label.utf8.count <= 63 else { return false }
            let allowed = label.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
            return allowed && first != "-" && last != "-"
        }
    }

    /// Gateway API's hostname match: `*.example.com` is a suffix match over one or more
    /// labels; anything else is exact.
    static func gatewayMatches(pattern: String, host: String) -> Bool {
        if pattern.hasPrefix("*.") { return host.hasSuffix(pattern.dropFirst()) && host.count > pattern.count - 1 }
        return pattern == host
    }
}

enum CaddyPath {
    /// Whether cleaning leaves the path as it is: it starts with `/` and has no empty,
    /// `.` or `..` segment (most probes are like that, and cleaning allocates).
    static func isClean(_ path: String) -> Bool {
        var previous: UInt8 = 0
        for byte in path.utf8 {
            if previous == UInt8(ascii: "/") && (byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")) { return false }
            if previous == 0 && byte != UInt8(ascii: "/") { return false }
            previous = byte
        }
        return previous != 0
    }

    /// Caddy cleans the request path before matching: doubled slashes merged, `.` and
    /// `..` resolved, a trailing slash kept.
    static func clean(_ path: String) -> String {
        if path.isEmpty { return "/" }
        if isClean(path) { return path }
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        var cleaned = "/" + parts.joined(separator: "/")
        if path.hasSuffix("/") && cleaned != "/" { cleaned += "/" }
        return cleaned
    }
}

/// The routes of one Caddy site, evaluable for any request.
struct CaddyProgram: SourceBehaviour {
    var routes: [CaddyRoute]
    var boundaryPatterns: [PathPattern]
    var variants: [ProbeVariant]
    var opaqueConditions: [OpaqueCondition]

    /// For each auth provider (by index), the request headers it sets (copy_headers,
    /// lower-case): a matcher that tests one after the auth ran reads the auth server's
    /// answer, which no HTTPRoute match can.
    var headersSetByAuth: [Int: Set<String>] = [:]
    var renameTargets: [Int: [String]] = [:]

    init(routes: [CaddyRoute], boundaryPatterns: [PathPattern], opaqueConditions: [OpaqueCondition] = [], providers: [AuthProvider] = []) {
        for (index, provider) in providers.enumerated() {
            headersSetByAuth[index] = Set((provider.copyHeaders + provider.renamedHeaders.map(\.to)).map { $0.lowercased() })
            if !provider.renamedHeaders.isEmpty { renameTargets[index] = provider.renamedHeaders.map(\.to) }
        }
        self.routes = routes
        self.boundaryPatterns = boundaryPatterns
        variants = CaddyVariants.build(routes)
        let used = CaddyVariants.opaqueIDs(routes)
        self.opaqueConditions = opaqueConditions.filter { used.contains($0.id) }
    }

    /// What a plain request (the baseline variant) got.
    func outcome(host: String, path: String) -> RequestOutcome {
        outcome(host: host, path: path, request: variants.first?.request ?? .baseline)
    }

    func outcome(host: String, path: String, request: RequestVariant) -> RequestOutcome {
        var state = State(path: path, request: request)
        state.headersSetByAuth = headersSetByAuth
        state.renameTargets = renameTargets
        if Self.run(routes, host: host, state: &state) {
            return state.outcome
        }
        state.outcome.terminal = .unhandled
        return state.outcome
    }

    struct State {
        var path: String
        var request: RequestVariant
        var headersSetByAuth: [Int: Set<String>] = [:]
        var renameTargets: [Int: [String]] = [:]
        var outcome = RequestOutcome(terminal: .unhandled)
    }

    /// Runs a route list; true once a terminal handler answered.
    static func run(_ routes: [CaddyRoute], host: String, state: inout State) -> Bool {
        var finishedGroups = Set<Int>()
        for route in routes {
            if let group = route.group, finishedGroups.contains(group) { continue }
            let headerFields = route.matcher.headerFields
            if !headerFields.isEmpty && (!state.outcome.auth.isEmpty || !state.outcome.requestHeaders.isEmpty) {
                // A header the auth server or a request_header set before this matcher:
                // Caddy tests that value; Traefik matches routes on what the client sent,
                // before any filter runs.
                var set = Set(state.outcome.auth.flatMap { state.headersSetByAuth[$0] ?? [] })
                let changes = state.outcome.requestHeaders
                set.formUnion((changes.set + changes.add).map { $0.name.lowercased() } + changes.remove.map { $0.lowercased() })
                for (field, location) in headerFields where set.contains(field.lowercased()) {
                    let construct = UnknownConstruct(
                        construct: "matcher on header '\(field)'", location: location,
                        resolution: "it tests the value forward auth (copy_headers) or request_header set, but Traefik matches a route on the header the client sent, before its forwardAuth runs, so Gateway API cannot express this check (a client could send the header itself); enforce it in the auth server's policy instead", decidesOutcome: true)
                    if !state.outcome.unknown.contains(construct) { state.outcome.unknown.append(construct) }
                }
            }
            guard route.matcher.matches(host: host, path: state.path, request: state.request) else { continue }
            if let group = route.group { finishedGroups.insert(group) }
            for handler in route.handlers {
                switch handler {
                case .forwardAuth(let provider, let location):
                    state.outcome.addAuth(provider, at: location)
                    // Caddy sets a renamed copy (`A>B`) from the auth server's answer,
                    // which Traefik cannot: the output removes any B the client sent,
                    // so it cannot be forged.
                    for target in state.renameTargets[provider] ?? [] where !state.outcome.requestHeaders.remove.contains(target) {
                        state.outcome.requestHeaders.remove.append(target)
                    }
                case .rewrite(let rewrite, _):
                    state.outcome.rewrites.append(rewrite)
                    state.path = rewrite.apply(to: state.path)
                case .requestHeaders(let changes):
                    state.outcome.requestHeaders.merge(changes)
                case .responseHeaders(let changes):
                    state.outcome.responseHeaders.merge(changes)
                case .subroute(let inner):
                    if run(inner, host: host, state: &state) { return true }
                case .proxy(let upstreams, let headers, let responseHeaders, let location):
                    state.outcome.requestHeaders.merge(headers)
                    state.outcome.responseHeaders.merge(responseHeaders)
                    state.outcome.terminal = .proxy(upstreams)
                    state.outcome.provenance.terminal = location
                    return true
                case .redirect(let redirect, let location):
                    state.outcome.terminal = .redirect(redirect)
                    state.outcome.provenance.terminal = location
                    return true
                case .answer(let directive, let location):
                    state.outcome.terminal = .answeredByProxy(directive: directive)
                    state.outcome.provenance.terminal = location
                    return true
                case .unknown(let construct):
                    if !state.outcome.unknown.contains(construct) { state.outcome.unknown.append(construct) }
                }
            }
        }
        return false
    }
}
