/// `forward_auth [<matcher>] <upstreams...> { uri …; copy_headers …; trusted_proxies …; header_up … }`
///
/// Becomes an auth provider (one per distinct configuration) and a route that sends
/// matching requests through it. In Traefik it is a `forwardAuth` Middleware:
/// `uri` joins the address (Authentik's `/outpost.goauthentik.io/auth/caddy` becomes
/// `…/auth/traefik`), `copy_headers A B>C` becomes `authResponseHeaders: [A, B]`
/// (Traefik cannot rename, so `B>C` is a warning naming both).
enum ForwardAuthDirective {
    static func read(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        var cursor = segment.cursor
        cursor.next()
        guard let head = cursor.token else { return [] }
        let matcher = try reader.matcherToken(&cursor, scope: scope)
        var upstreamTokens = cursor.remainingArgTokens()
        var uri: Token?
        var copyHeaders: [String] = []
        var renames: [HeaderRename] = []
        var trusted: [String] = []
        var authRequestHeaders = HeaderChanges()
        var responses = ResponseHandlers()
        var tls = AuthProvider.TLS()

        func readCopyHeader(_ token: Token) {
            let parts = token.text.split(separator: ">", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                copyHeaders.append(parts[0])
                renames.append(HeaderRename(from: parts[0], to: parts[1], location: token.location))
                reader.warn("copy_headers renames \(parts[0]) to \(parts[1]); Traefik's forwardAuth cannot rename headers, so the backend will receive \(parts[0]) instead of \(parts[1]), and authgate removes any \(parts[1]) the client sends so that it cannot be forged", at: token)
            } else {
                copyHeaders.append(token.text)
            }
        }

        let depth = cursor.nesting
        while cursor.nextBlock(depth) {
            guard let sub = cursor.token else { break }
            switch sub.text {
            case "uri":
                let args = cursor.remainingArgTokens()
                guard args.count == 1 else { throw sub.error("uri needs exactly one argument, the auth endpoint path") }
                uri = args[0]
            case "copy_headers":
                for token in cursor.remainingArgTokens() { readCopyHeader(token) }
                let inner = cursor.nesting
                while cursor.nextBlock(inner) {
                    if let token = cursor.token { readCopyHeader(token) }
                    for token in cursor.remainingArgTokens() { readCopyHeader(token) }
                }
            case "trusted_proxies":
                trusted += cursor.remainingArgs()
            case "to":
                upstreamTokens += cursor.remainingArgTokens()
            case "header_up":
                authRequestHeaders.merge(try HeaderDirective.headerOperation(&cursor, keyword: sub, reader: &reader))
            case "transport":
                // `transport http { tls … }`: the auth server speaks HTTPS.
                let kind = cursor.remainingArgs().first ?? ""
                let inner = cursor.nesting
                while cursor.nextBlock(inner) {
                    guard let option = cursor.token else { break }
                    let args = cursor.remainingArgs()
                    let nested = cursor.nesting
                    var nestedArgs: [String] = []
                    while cursor.nextBlock(nested) { nestedArgs += [cursor.token?.text ?? ""] + cursor.remainingArgs() }
                    switch option.text {
                    case "tls": tls.enabled = true
                    case "tls_insecure_skip_verify": tls.enabled = true; tls.insecureSkipVerify = true
                    case "tls_trusted_ca_certs": tls.enabled = true; tls.caFiles += args
                    case "tls_trust_pool":
                        tls.enabled = true
                        // `tls_trust_pool file [<pem>…] { pem_file … }`
                        let files = args.dropFirst() + nestedArgs.filter { $0 != "pem_file" }
                        if args.first == "file" && !files.isEmpty { tls.caFiles += files } else {
                            reader.warn("transport tls_trust_pool \(args.first ?? "") is not migrated: authgate reads only a pool of PEM files (Traefik's forwardAuth takes a CA from a Secret, tls.caSecret)", at: option)
                        }
                    case "tls_server_name", "tls_client_auth":
                        tls.enabled = true
                        reader.warn("transport \(option.text) is not migrated: Traefik's forwardAuth takes a client certificate from a Secret (tls.certSecret) and checks the address's host name", at: option)
                    default:
                        reader.warn("transport option '\(option.text)' is not migrated (Traefik's forwardAuth has no equivalent)", at: option)
                    }
                }
                if kind != "http" { reader.warnUnsupportedSubdirective(sub, of: "forward_auth", why: "transport \(kind) has no equivalent") }
            default:
                if try responses.read(sub, &cursor) { continue }
                reader.warnUnsupportedSubdirective(sub, of: "forward_auth", why: "Traefik's forwardAuth Middleware has no equivalent")
                _ = cursor.remainingArgTokens()
                let inner = cursor.nesting
                while cursor.nextBlock(inner) {}
            }
        }
        guard let uri else {
            throw head.error("forward_auth needs the 'uri' sub-directive (the auth endpoint), as Caddy requires")
        }
        guard let firstToken = upstreamTokens.first else {
            throw head.error("forward_auth needs at least one upstream (the auth server)")
        }
        _ = firstToken
        let (upstreams, placeholders) = try reader.upstreams(upstreamTokens, transportTLS: tls.enabled)
        guard let upstream = upstreams.first else {
            let (token, placeholder) = placeholders[0]
            return [CaddyRoute(matcher: matcher, handlers: [.unknown(CaddySiteReader.placeholderUpstream(token, placeholder))])]
        }
        if upstreams.count > 1 {
            reader.warn("forward_auth lists \(upstreams.count) upstreams; Traefik's forwardAuth calls one address, so authgate uses \(upstream)", at: upstreamTokens[1])
        }
        // Traefik in the cluster cannot call the Caddy host: a Middleware pointing there
        // answers every request with an error. The auth still ran in the source.
        var unreachable: [CaddyHandler] = []
        if upstream.placement == .loopback {
            let written = upstream.host.hasPrefix("unix/") ? upstream.host : "localhost:\(upstream.port)"
            unreachable.append(.unknown(UnknownConstruct(
                construct: "forward_auth \(upstream)", location: head.location,
                resolution: "the auth server runs on the Caddy host, which Traefik in the cluster cannot call: pass --upstream \(written)=SERVICE.NAMESPACE:PORT for the Service it runs as in the cluster", decidesOutcome: true)))
        }
        if !authRequestHeaders.isEmpty {
            reader.warn("forward_auth header_up sets headers on the auth request; Traefik's forwardAuth cannot set headers (only pass them with authRequestHeaders), so they are not migrated", at: head)
        }
        var endpoint = uri.text
        if !endpoint.hasPrefix("/") { endpoint = "/" + endpoint }
        var provider = AuthProvider(
            kind: AuthProvider.kind(forEndpoint: endpoint), upstream: upstream, endpoint: endpoint,
            copyHeaders: copyHeaders, renamedHeaders: renames, trustedProxies: trusted,
            authRequestHeaders: authRequestHeaders, location: head.location)
        if tls.enabled || upstream.scheme == .https { provider.tls = tls }
        var unknown: [CaddyHandler] = []
        for handler in responses.handlers {
            if let signin = signinRedirect(handler, reader: &reader) {
                provider.signinURL = signin
            } else {
                unknown.append(.unknown(UnknownConstruct(
                    construct: "forward_auth handle_response", location: handler.head.location,
                    resolution: "Caddy sends a request on to the backend when these routes write no answer, even one the auth server refused; authgate reads only a 401 answered with redir (Traefik's authSigninURL)")))
            }
        }
        let index = reader.register(provider)
        return [CaddyRoute(matcher: matcher, handlers: [.forwardAuth(provider: index, location: head.location)] + unreachable + unknown)]
    }

    /// `@error status 401` + `handle_response @error { redir <url> }` (oauth2-proxy's
    /// documented setup): a client without a session is sent to the sign-in page,
    /// which is Traefik's `authSigninURL` (a fixed URL, answered with 302).
    private static func signinRedirect(_ handler: ResponseHandlers.Handler, reader: inout CaddySiteReader) -> String? {
        guard handler.statuses == .some(["401"]), handler.body.count == 1, handler.body[0].directive == "redir" else { return nil }
        var args = Array(handler.body[0].tokens.dropFirst())
        if args.first?.text == "*" { args.removeFirst() }
        guard let target = args.first, args.count <= 2 else { return nil }
        var url = target.text
        if url.contains("{") {
            let fixed = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
            guard !fixed.contains("{") else { return nil }
            reader.warn("the sign-in redirect '\(url)' holds placeholders, which Traefik's authSigninURL cannot fill; authgate writes \(fixed), so after signing in a user lands where the auth server sends them by default instead of on the page they asked for", at: target)
            url = fixed
        }
        return url
    }
}
