/// `reverse_proxy [<matcher>] [<upstreams...>] { to …; lb_policy …; transport http { tls … }; header_up …; header_down … }`
///
/// `header_up` and `header_down` with fixed values become RequestHeaderModifier and
/// ResponseHeaderModifier filters.
///
/// Becomes a route ending at its upstreams: one `backendRef` each (Traefik balances
/// them round-robin). `transport http { tls }` makes them HTTPS. What Gateway API
/// cannot say (load-balancing policies, health checks, TLS verification settings,
/// response handling) is a warning naming the sub-directive.
enum ReverseProxyDirective {
    static func read(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        var cursor = segment.cursor
        cursor.next()
        guard let head = cursor.token else { return [] }
        let matcher = try reader.matcherToken(&cursor, scope: scope)
        var upstreamTokens = cursor.remainingArgTokens()
        var requestHeaders = HeaderChanges()
        var responseHeaders = HeaderChanges()
        var forceTLS = false
        var responses = ResponseHandlers()
        var method: Token?
        var rewrite: Token?

        let depth = cursor.nesting
        var forwardedForAuth: [Token] = []
        var firstPolicy = false
        var dynamicUpstreams: [Token] = []
        var dynamicUnknown: UnknownConstruct?
        while cursor.nextBlock(depth) {
            guard let sub = cursor.token else { break }
            let start = cursor
            switch sub.text {
            case "to":
                upstreamTokens += cursor.remainingArgTokens()
            case "header_up":
                // What forward auth written by hand sends the auth server (Traefik's
                // forwardAuth sends the same): kept aside until the block is read.
                if cursor.nextArg(), let field = cursor.token, ["x-forwarded-method", "x-forwarded-uri"].contains(field.text.lowercased()),
                    cursor.nextArg(), let value = cursor.token, ["{method}", "{uri}", "{http.request.method}", "{http.request.uri}"].contains(value.text), !cursor.nextArg() {
                    forwardedForAuth.append(field)
                    continue
                }
                cursor = start
                requestHeaders.merge(try HeaderDirective.headerOperation(&cursor, keyword: sub, reader: &reader))
            case "lb_policy":
                let policy = cursor.remainingArgs().first ?? ""
                if policy == "first" {
                    firstPolicy = true
                } else if policy != "round_robin" && policy != "random" {
                    reader.warnUnsupportedSubdirective(sub, of: "reverse_proxy", why: "Traefik balances Gateway API backends by weighted round robin; lb_policy \(policy) is not kept")
                }
                let inner = cursor.nesting
                while cursor.nextBlock(inner) {}
            case "transport":
                let kind = cursor.remainingArgs().first ?? ""
                if kind != "http" {
                    reader.warnUnsupportedSubdirective(sub, of: "reverse_proxy", why: "transport \(kind) has no Gateway API equivalent")
                }
                let inner = cursor.nesting
                while cursor.nextBlock(inner) {
                    guard let option = cursor.token else { break }
                    _ = cursor.remainingArgTokens()
                    let nested = cursor.nesting
                    while cursor.nextBlock(nested) {}
                    switch option.text {
                    case "tls":
                        forceTLS = true
                    case "tls_insecure_skip_verify", "tls_trust_pool", "tls_trusted_ca_certs", "tls_server_name", "tls_client_auth":
                        reader.warn("transport \(option.text) is not migrated: certificate checks for HTTPS backends belong in a BackendTLSPolicy (Gateway API) or a Traefik ServersTransport; without one, Traefik verifies the backend's certificate against the system roots", at: option)
                    default:
                        reader.warn("transport option '\(option.text)' is not migrated (Traefik configures backend connections in a ServersTransport)", at: option)
                    }
                }
            case "header_down":
                responseHeaders.merge(try HeaderDirective.headerOperation(&cursor, keyword: sub, reader: &reader))
            case "dynamic":
                // `dynamic a <name> <port>` (or its block form) resolves a DNS name when
                // Caddy runs: in a cluster that name is a Service.
                let args = cursor.remainingArgTokens()
                var fields: [String: Token] = [:]
                let inner = cursor.nesting
                while cursor.nextBlock(inner) {
                    if let key = cursor.token, let value = cursor.remainingArgTokens().first { fields[key.text] = value }
                }
                let name = args.count > 1 ? args[1] : fields["name"]
                let port = args.count > 2 ? args[2] : fields["port"]
                if args.first?.text == "a", let name, let port {
                    var target = name
                    target.text = "\(name.text):\(port.text)"
                    dynamicUpstreams.append(target)
                    reader.diagnostics.append(.note("dynamic a \(name.text) \(port.text) is read as the upstream \(target.text), the Service that name stands for in the cluster (--upstream \(target.text)=… names another)", at: sub.location, importChain: sub.importChain))
                } else {
                    dynamicUnknown = UnknownConstruct(
                        construct: "reverse_proxy dynamic \(args.first?.text ?? "")", location: sub.location,
                        resolution: "its upstreams are looked up when Caddy runs; write the Service as the upstream (or a dynamic a NAME PORT), or pass --upstream", decidesOutcome: true)
                }
            case "method":
                method = cursor.remainingArgTokens().first
            case "rewrite":
                rewrite = cursor.remainingArgTokens().first
            default:
                if try responses.read(sub, &cursor) { continue }
                reader.warnUnsupportedSubdirective(sub, of: "reverse_proxy", why: "Gateway API has no equivalent")
                _ = cursor.remainingArgTokens()
                let inner = cursor.nesting
                while cursor.nextBlock(inner) {}
            }
        }
        upstreamTokens += dynamicUpstreams
        if upstreamTokens.isEmpty, let dynamicUnknown {
            return [CaddyRoute(matcher: matcher, handlers: [.unknown(dynamicUnknown), .answer(directive: "reverse_proxy", location: head.location)])]
        }
        guard !upstreamTokens.isEmpty else {
            if let name = segment.tokens.prefix(3).flatMap(\.emptiedVariables).first {
                throw head.error("reverse_proxy needs at least one upstream: {$\(name)} stood there and \(name) is not set in the environment (set it, or give {$\(name):default})")
            }
            throw head.error("reverse_proxy needs at least one upstream")
        }
        var (upstreams, placeholders) = try reader.upstreams(upstreamTokens, transportTLS: forceTLS)
        if firstPolicy && upstreams.count > 1 {
            // `lb_policy first` sends every request to the first upstream while it is up;
            // Traefik would balance across all, so the others (fallbacks) are left out.
            reader.warn("lb_policy first sends requests to \(upstreams[0]) while it is up; Gateway API balances across backends, so the fallbacks (\(upstreams.dropFirst().map(\.description).joined(separator: ", "))) are left out", at: head)
            upstreams = [upstreams[0]]
        }
        if upstreams.isEmpty, let (token, placeholder) = placeholders.first {
            return [CaddyRoute(matcher: matcher, handlers: [.unknown(CaddySiteReader.placeholderUpstream(token, placeholder)), .answer(directive: "reverse_proxy", location: head.location)])]
        }
        if !responses.isEmpty {
            if let auth = try handWrittenForwardAuth(responses, rewrite: rewrite, upstreams: upstreams, head: head, requestHeaders: requestHeaders, reader: &reader) {
                return [CaddyRoute(matcher: matcher, handlers: [auth])]
            }
            // What Caddy does with the answer decides whether the request goes on.
            let construct = UnknownConstruct(
                construct: "reverse_proxy handle_response", location: responses.handlers[0].head.location,
                resolution: "Caddy sends a request on to the next handler when these routes write no answer; authgate reads only the forward-auth form (@good status 2xx with request_header lines copying {http.reverse_proxy.header.*})")
            return [CaddyRoute(matcher: matcher, handlers: [.unknown(construct), .proxy(upstreams, requestHeaders: requestHeaders, responseHeaders: responseHeaders, location: head.location)])]
        }
        for field in forwardedForAuth {
            reader.warn("header \(field.text) holds a placeholder, which is filled in only when Caddy runs; left out", at: field)
        }
        if let method { reader.warnUnsupportedSubdirective(method, of: "reverse_proxy", why: "Gateway API backends get the client's method") }
        if let rewrite { reader.warnUnsupportedSubdirective(rewrite, of: "reverse_proxy", why: "the upstream request's URI cannot be rewritten per backend in Gateway API") }
        return [CaddyRoute(matcher: matcher, handlers: [.proxy(upstreams, requestHeaders: requestHeaders, responseHeaders: responseHeaders, location: head.location)])]
    }

    /// Forward auth written out by hand, as `forward_auth` expands (Authelia documents
    /// it as its "explicit" Caddy setup):
    ///
    ///     reverse_proxy authelia:9091 {
    ///         method GET
    ///         rewrite "/api/authz/forward-auth?authelia_url=https://auth.example.com/"
    ///         header_up X-Forwarded-Method {method}
    ///         header_up X-Forwarded-Uri {uri}
    ///         @good status 2xx
    ///         handle_response @good {
    ///             request_header Remote-User {http.reverse_proxy.header.Remote-User}
    ///         }
    ///     }
    ///
    /// A 2xx answer lets the request go on with the copied headers; any other answer is
    /// sent to the client. That is an auth provider whose address is the upstream plus
    /// the rewritten URI (query included), copying the `request_header` fields.
    private static func handWrittenForwardAuth(
        _ responses: ResponseHandlers, rewrite: Token?, upstreams: [Upstream], head: Token, requestHeaders: HeaderChanges, reader: inout CaddySiteReader
    ) throws(DiagnosticError) -> CaddyHandler? {
        // One block lets 2xx answers through with the copied headers; any other block
        // must answer the client itself (as Caddy does by default for other answers).
        let passing = responses.handlers.filter { ResponseHandlers.isSuccess($0.statuses) }
        guard passing.count == 1, let handler = passing.first, let rewrite, let upstream = upstreams.first,
            responses.handlers.allSatisfy({ ResponseHandlers.isSuccess($0.statuses) || ResponseHandlers.alwaysAnswers($0.body) }) else { return nil }
        if responses.handlers.count > 1 {
            reader.diagnostics.append(.note("the other handle_response blocks here answer the client themselves; Traefik's forwardAuth sends the auth server's own answer instead", at: responses.handlers.first { $0.head != handler.head }?.head.location, importChain: head.importChain))
        }
        var copied: [String] = []
        var renames: [HeaderRename] = []
        for segment in handler.body {
            let tokens = segment.tokens
            guard segment.directive == "request_header", tokens.count == 3 else { return nil }
            let target = tokens[1].text
            var value = tokens[2].text
            for prefix in ["{http.reverse_proxy.header.", "{rp.header."] where value.hasPrefix(prefix) && value.hasSuffix("}") {
                value = String(value.dropFirst(prefix.count).dropLast())
            }
            guard !value.contains("{"), !value.isEmpty, value != tokens[2].text else { return nil }
            copied.append(value)
            if value.lowercased() != target.lowercased() {
                renames.append(HeaderRename(from: value, to: target, location: tokens[1].location))
                reader.warn("request_header copies the auth server's \(value) as \(target); Traefik's forwardAuth cannot rename headers, so the backend will receive \(value) instead of \(target)", at: tokens[1])
            }
        }
        if upstreams.count > 1 {
            reader.warn("this forward auth lists \(upstreams.count) upstreams; Traefik's forwardAuth calls one address, so authgate uses \(upstream)", at: head)
        }
        var endpoint = rewrite.text
        if !endpoint.hasPrefix("/") { endpoint = "/" + endpoint }
        var unread = requestHeaders
        unread.set.removeAll { ["x-forwarded-method", "x-forwarded-uri"].contains($0.name.lowercased()) }
        if !unread.isEmpty {
            reader.warn("this forward auth sets headers on the auth request with header_up; Traefik's forwardAuth sends the client's headers and X-Forwarded-* only, so they are not migrated", at: head)
        }
        let provider = AuthProvider(
            kind: AuthProvider.kind(forEndpoint: endpoint), upstream: upstream, endpoint: endpoint,
            copyHeaders: copied, renamedHeaders: renames, location: head.location)
        reader.diagnostics.append(.note("reverse_proxy \(upstream) with handle_response for 2xx is forward auth written out by hand: it becomes a forwardAuth Middleware calling \(endpoint)", at: head.location, importChain: head.importChain))
        return .forwardAuth(provider: reader.register(provider), location: head.location)
    }
}
