/// Reads the directives of one site (and the blocks nested in it) into a `CaddyProgram`,
/// collecting auth providers and diagnostics. Each directive is read by its handler in
/// `CaddyDirectives.table`.
struct CaddySiteReader {
    var diagnostics = Diagnostics()
    /// Auth providers of the whole Caddyfile, shared across sites.
    var providers: [AuthProvider]
    var order: DirectiveOrder
    /// Every path pattern met, in the request's original path space.
    var boundaryPatterns: [PathPattern] = []
    /// Prefixes `uri strip_prefix` removes and `rewrite` adds anywhere in the site:
    /// a matcher read after them sees a changed path, so its boundary also lies at
    /// the prefix plus the pattern (or the pattern minus the prefix) in the original path.
    var strippedPrefixes: [String] = []
    var addedPrefixes: [String] = []
    /// Conditions authgate cannot evaluate, numbered in the order met (shared across
    /// sites, like the providers).
    var opaqueConditions: [OpaqueCondition]
    /// Directives the user vouched have no effect on access (`--ignore-directive`).
    var ignoredDirectives: Set<String> = []
    /// The named matcher being defined, for messages about its conditions.
    var definingMatcher: String?
    /// `--upstream FROM=TO`: where upstreams outside the cluster live in it.
    var upstreamMappings: [String: String] = [:]
    /// For `{env.VAR}` in upstreams.
    var environment: [String: String] = [:]
    /// The header field names the Caddyfile writes anywhere, first spelling kept: what
    /// a wildcard deletion (`request_header -Remote-*`) is expanded to.
    var headerNames: [String] = []

    /// Reads upstream tokens: the upstreams, and the placeholders only Caddy can fill in.
    mutating func upstreams(_ tokens: [Token], transportTLS: Bool = false) throws(DiagnosticError) -> (upstreams: [Upstream], placeholders: [(Token, String)]) {
        var upstreams: [Upstream] = []
        var placeholders: [(Token, String)] = []
        for token in tokens {
            switch try UpstreamAddress.parse(token, transportTLS: transportTLS, mappings: upstreamMappings, environment: environment, reader: &self) {
            case .upstreams(let found):
                for upstream in found where !upstreams.contains(upstream) { upstreams.append(upstream) }
            case .placeholder(let placeholder):
                placeholders.append((token, placeholder))
            }
        }
        if !upstreams.isEmpty {
            for (token, placeholder) in placeholders {
                warn("upstream '\(token.text)' holds \(placeholder), which only Caddy fills in when it runs; it is left out and the other upstreams take its requests", at: token)
            }
        }
        return (upstreams, placeholders)
    }

    /// The unknown an upstream only Caddy can resolve makes.
    static func placeholderUpstream(_ token: Token, _ placeholder: String) -> UnknownConstruct {
        let hint = placeholder.hasPrefix("{env.") ? "set \(placeholder.dropFirst(5).dropLast()) in the environment authgate runs in, or pass --upstream \(token.text)=SERVICE.NAMESPACE:PORT" : "pass --upstream \(token.text)=SERVICE.NAMESPACE:PORT to name the Service it stands for"
        return UnknownConstruct(construct: "upstream '\(token.text)'", location: token.location, resolution: "only Caddy fills in \(placeholder) when it runs; \(hint)", decidesOutcome: true)
    }

    /// The boundary patterns, with those moved by the site's prefix rewrites. Strips
    /// compose (`uri strip_prefix /a` then `/api` before `handle_path /api/*` is reached
    /// by `/a/api/api/…`), so patterns are moved again behind each strip, up to three
    /// deep.
    var allBoundaryPatterns: [PathPattern] {
        func moved(_ pattern: PathPattern, behind prefix: String) -> PathPattern? {
            switch pattern {
            case .exact(let value) where value.hasPrefix("/"): return .exact(prefix + value)
            case .prefix(let value) where value.hasPrefix("/"): return .prefix(prefix + value)
            case .segmentPrefix(let value) where value.hasPrefix("/"): return .segmentPrefix(prefix + value)
            case .glob(let value) where value.hasPrefix("/"): return .glob(prefix + value)
            case .regex(let value):
                // An anchored expression moves behind the prefix; an unanchored one
                // (like a suffix) matches the longer path as it is.
                for anchor in ["(?i)^", "^"] where value.hasPrefix(anchor) {
                    return .regex(anchor + GatewayPathMatch.quote(prefix) + value.dropFirst(anchor.count))
                }
                return nil
            default: return nil
            }
        }
        var result = boundaryPatterns
        var seen = Set(boundaryPatterns)
        var frontier = boundaryPatterns
        let strips = Array(Set(strippedPrefixes)).sorted()
        for _ in 0..<min(3, strips.count) {
            var next: [PathPattern] = []
            for prefix in strips {
                for pattern in [.prefix(prefix + "/")] + frontier.compactMap({ moved($0, behind: prefix) }) where seen.insert(pattern).inserted {
                    next.append(pattern)
                }
            }
            // Bounded: a hostile file could stack many strips.
            if result.count + next.count > 4 * max(boundaryPatterns.count, 64) { break }
            result += next
            frontier = next
        }
        for prefix in addedPrefixes where !prefix.isEmpty {
            for pattern in boundaryPatterns {
                switch pattern {
                case .exact(let value) where value.hasPrefix(prefix): result.append(.exact(String(value.dropFirst(prefix.count))))
                case .prefix(let value) where value.hasPrefix(prefix) && value.count > prefix.count: result.append(.prefix(String(value.dropFirst(prefix.count))))
                default: break
                }
            }
        }
        return result.filter { if case .exact(let value) = $0 { return value.hasPrefix("/") }; if case .prefix(let value) = $0 { return value.hasPrefix("/") }; return true }
    }
    private var nextGroup = 0

    init(providers: [AuthProvider], order: DirectiveOrder, opaqueConditions: [OpaqueCondition] = [], ignoredDirectives: Set<String> = []) {
        self.providers = providers
        self.order = order
        self.opaqueConditions = opaqueConditions
        self.ignoredDirectives = ignoredDirectives
    }

    /// The scope a block is read in: the named matchers visible there, and the prefix
    /// an enclosing `handle_path` stripped (so patterns can be stated on the original path).
    struct Scope {
        var matchers: [String: CaddyMatcher] = [:]
        var strippedPrefix = ""
        /// How many `handle`/`route` blocks enclose this one.
        var depth = 0
    }

    /// Deeper than any real Caddyfile; evaluating much deeper would exhaust the stack.
    static let maximumDepth = 128

    /// Reads a block's segments. Directives are sorted into Caddy's order unless the
    /// block is a `route` (which keeps written order).
    mutating func readBlock(_ segments: [Segment], scope outer: Scope, sorted: Bool) throws(DiagnosticError) -> [CaddyRoute] {
        var scope = outer
        scope.depth += 1
        if scope.depth > Self.maximumDepth, let first = segments.first?.tokens.first {
            throw first.error("blocks are nested more than \(Self.maximumDepth) deep here; authgate refuses to read further")
        }
        for segment in segments where segment.directive.hasPrefix("@") {
            try CaddyMatchers.define(segment, in: &scope, reader: &self)
        }
        var routes: [(directive: String, route: CaddyRoute)] = []
        for segment in segments where !segment.directive.hasPrefix("@") {
            guard let head = segment.tokens.first else { continue }
            let name = head.text
            let normalized = name == "handle_path" ? "handle" : name
            if ignoredDirectives.contains(name) {
                warn("'\(name)' is left out: --ignore-directive \(name) says it has no effect on access", at: head)
            } else if let handler = CaddyDirectives.table[name] {
                let produced = try handler(segment, scope, &self)
                routes += produced.map { (normalized, $0) }
            } else if name == "tls", let clientAuth = segment.tokens.first(where: { $0.text == "client_auth" }),
                !(segment.tokens.contains { $0.text == "mode" } && segment.tokens.contains { $0.text == "request" }) {
                // Client certificates guard the whole site; Gateway API checks them on
                // the listener, which authgate does not write.
                let construct = UnknownConstruct(
                    construct: "tls client_auth", location: clientAuth.location,
                    resolution: "the site requires client certificates, which Gateway API checks on the listener (Gateway tls.frontendValidation, or a Traefik TLSOption with clientAuth): set that up, then pass --ignore-directive tls")
                routes.append((DirectiveOrder.unorderedPlugin, CaddyRoute(matcher: .always, handlers: [.unknown(construct)])))
            } else if CaddyDirectives.ignoredOutsideRoutes.contains(name) {
                warn("'\(name)' has no equivalent in Gateway API routing; it is left out", at: head)
            } else {
                // A plugin's directive: it may deny or answer requests (caddy-security's
                // `authorize`, `tailscale_auth`, `crowdsec`…), and a plugin may register
                // its own place in the directive order, so where no `order` option
                // places it, it is taken to run first.
                var cursor = segment.cursor
                cursor.next()
                let matcher = try matcherToken(&cursor, scope: scope)
                let construct = UnknownConstruct(
                    construct: "directive '\(name)'", location: head.location,
                    resolution: "authgate does not know what it does to access; if it has no effect on access, pass --ignore-directive \(name)")
                let key = order.contains(name) ? name : DirectiveOrder.unorderedPlugin
                routes.append((key, CaddyRoute(matcher: matcher, handlers: [.unknown(construct)])))
            }
        }
        if sorted {
            routes = order.sort(routes)
        }
        // Caddy makes `handle` (and `handle_path`) and `rewrite` routes of one block
        // mutually exclusive: only the first that matches runs.
        var groupOfDirective: [String: Int] = [:]
        var result: [CaddyRoute] = []
        for var entry in routes {
            if entry.directive == "handle" || entry.directive == "rewrite" {
                if groupOfDirective[entry.directive] == nil {
                    groupOfDirective[entry.directive] = nextGroup
                    nextGroup += 1
                }
                entry.route.group = groupOfDirective[entry.directive]
            }
            result.append(entry.route)
        }
        return result
    }

    /// Reads the matcher argument a directive may start with: `*`, a path, or `@name`.
    /// Returns `.always` when there is none (the cursor is left before the next word).
    mutating func matcherToken(_ cursor: inout TokenCursor, scope: Scope) throws(DiagnosticError) -> CaddyMatcher {
        guard cursor.nextArg() else { return .always }
        guard let token = cursor.token, !token.isOpenBrace else {
            cursor.back()
            return .always
        }
        if token.text == "*" && !token.isQuoted { return .always }
        if token.text.hasPrefix("/") {
            return CaddyMatcher(conditions: [try pathCondition([token], scope: scope)])
        }
        if token.text.hasPrefix("@") {
            guard let matcher = scope.matchers[token.text] else {
                throw token.error("unrecognized matcher name: \(token.text)")
            }
            return matcher
        }
        cursor.back()
        return .always
    }

    /// A path condition from written patterns, recording each pattern's boundary.
    mutating func pathCondition(_ tokens: [Token], scope: Scope) throws(DiagnosticError) -> CaddyCondition {
        var patterns: [PathPattern] = []
        for token in tokens {
            let written = token.text
            // Each wildcard of a glob becomes `[^/]*` in a RegularExpression, and
            // evaluating many of them costs time exponential in their number.
            if PathPattern.caddy(written).wildcardCount > 6 {
                throw token.error("path pattern '\(written)' has more than 6 wildcards; authgate cannot evaluate it in bounded time")
            }
            if written.contains("{") {
                warn("path pattern '\(written)' holds a placeholder, which authgate cannot evaluate; it is matched literally", at: token)
            }
            if written.contains("%") {
                warn("path pattern '\(written)' holds an escape sequence; Caddy compares it in escaped form, authgate compares decoded paths", at: token)
            }
            let pattern = PathPattern.caddy(written.lowercased())
            patterns.append(pattern)
            recordBoundary(pattern, strippedPrefix: scope.strippedPrefix)
        }
        return .path(patterns, written: tokens.map(\.text))
    }

    /// A `path_regexp` condition. Gateway API's RegularExpression is, in Traefik, the
    /// same unanchored, case-sensitive Go regexp on the path, so it converts as written
    /// when authgate can evaluate it for the coverage check.
    mutating func pathRegexpCondition(_ token: Token, scope: Scope) throws(DiagnosticError) -> CaddyCondition {
        let pattern = token.text
        if let problem = RegexSafety.problem(in: pattern) {
            throw token.error("path_regexp '\(pattern)' cannot be converted: \(problem)")
        }
        guard (try? Regex(pattern)) != nil else {
            return opaqueCondition("path_regexp", matcher: nil, at: token, why: "its expression uses syntax authgate cannot evaluate")
        }
        var boundary = pattern
        if !scope.strippedPrefix.isEmpty {
            // Written for the path after handle_path stripped its prefix: an anchored
            // expression moves back behind the prefix; an unanchored one is the same.
            for anchor in ["(?i)^", "^"] where pattern.hasPrefix(anchor) {
                boundary = anchor + GatewayPathMatch.quote(scope.strippedPrefix) + pattern.dropFirst(anchor.count)
                break
            }
        }
        boundaryPatterns.append(.regex(boundary))
        return .pathRegexp(pattern)
    }

    /// Remembers a pattern, moved back into the original path space when an enclosing
    /// `handle_path` stripped a prefix before it is matched.
    mutating func recordBoundary(_ pattern: PathPattern, strippedPrefix: String) {
        guard !strippedPrefix.isEmpty else {
            boundaryPatterns.append(pattern)
            return
        }
        switch pattern {
        case .any: boundaryPatterns.append(.prefix(strippedPrefix + "/"))
        case .exact(let value): boundaryPatterns.append(.exact(strippedPrefix + value))
        case .prefix(let value): boundaryPatterns.append(.prefix(strippedPrefix + value))
        case .glob(let value) where value.hasPrefix("/"): boundaryPatterns.append(.glob(strippedPrefix + value))
        default: boundaryPatterns.append(pattern)
        }
    }

    /// A condition authgate cannot evaluate: numbered, so the coverage check can
    /// evaluate the site with it holding and not holding.
    mutating func opaqueCondition(_ type: String, matcher: String?, at token: Token, why: String? = nil) -> CaddyCondition {
        let reason = why ?? "Gateway API cannot express it"
        let construct = UnknownConstruct(
            construct: "matcher '\(type)'" + ((matcher ?? definingMatcher).map { " (\($0))" } ?? ""), location: token.location,
            resolution: "\(reason); where it decides between outcomes authgate cannot reproduce, rewrite it with path, header, method, query or remote_ip, or accept the difference with --allow-unprotected")
        let id = opaqueConditions.count
        opaqueConditions.append(OpaqueCondition(id: id, unknown: construct))
        return .opaque(id)
    }

    /// Registers an auth provider, reusing an equal one; returns its index.
    mutating func register(_ provider: AuthProvider) -> Int {
        if let index = providers.firstIndex(of: provider) { return index }
        providers.append(provider)
        return providers.count - 1
    }

    mutating func warn(_ message: String, at token: Token) {
        diagnostics.append(.warning(message, at: token.location, importChain: token.importChain))
    }

    /// Warns about each remaining sub-directive of a block the handler does not read.
    mutating func warnUnsupportedSubdirective(_ token: Token, of directive: String, why: String) {
        warn("'\(directive)' sub-directive '\(token.text)' is not migrated: \(why)", at: token)
    }
}
