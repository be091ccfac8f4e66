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

        func readCopyHeader(_ token: Token) {
            let parts = token.text.split(separator: ">", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                copyHeaders.append(parts[0])
                renames.append(HeaderRename(from: parts[0], to: parts[1], location: token.location))
                reader.warn("copy_headers renames \(parts[0]) to \(parts[1]); Traefik's forwardAuth cannot rename headers, so the backend will receive \(parts[0]) instead of \(parts[1])", at: token)
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
            default:
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
        let upstream = try UpstreamAddress.parse(firstToken)
        if upstreamTokens.count > 1 {
            reader.warn("forward_auth lists \(upstreamTokens.count) upstreams; Traefik's forwardAuth calls one address, so authgate uses \(firstToken.text)", at: upstreamTokens[1])
        }
        if !authRequestHeaders.isEmpty {
            reader.warn("forward_auth header_up sets headers on the auth request; Traefik's forwardAuth cannot set headers (only pass them with authRequestHeaders), so they are not migrated", at: head)
        }
        var endpoint = uri.text
        if !endpoint.hasPrefix("/") { endpoint = "/" + endpoint }
        let provider = AuthProvider(
            kind: AuthProvider.kind(forEndpoint: endpoint), upstream: upstream, endpoint: endpoint,
            copyHeaders: copyHeaders, renamedHeaders: renames, trustedProxies: trusted,
            authRequestHeaders: authRequestHeaders, location: head.location)
        let index = reader.register(provider)
        return [CaddyRoute(matcher: matcher, handlers: [.forwardAuth(provider: index, location: head.location)])]
    }
}
