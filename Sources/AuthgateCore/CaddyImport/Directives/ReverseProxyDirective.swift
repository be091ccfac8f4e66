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

        let depth = cursor.nesting
        while cursor.nextBlock(depth) {
            guard let sub = cursor.token else { break }
            switch sub.text {
            case "to":
                upstreamTokens += cursor.remainingArgTokens()
            case "header_up":
                requestHeaders.merge(try HeaderDirective.headerOperation(&cursor, keyword: sub, reader: &reader))
            case "lb_policy":
                let policy = cursor.remainingArgs().first ?? ""
                if policy != "round_robin" && policy != "random" {
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
            default:
                reader.warnUnsupportedSubdirective(sub, of: "reverse_proxy", why: "Gateway API has no equivalent")
                _ = cursor.remainingArgTokens()
                let inner = cursor.nesting
                while cursor.nextBlock(inner) {}
            }
        }
        guard !upstreamTokens.isEmpty else {
            throw head.error("reverse_proxy needs at least one upstream")
        }
        var upstreams: [Upstream] = []
        for token in upstreamTokens {
            let upstream = try UpstreamAddress.parse(token, transportTLS: forceTLS)
            if !upstreams.contains(upstream) { upstreams.append(upstream) }
        }
        return [CaddyRoute(matcher: matcher, handlers: [.proxy(upstreams, requestHeaders: requestHeaders, responseHeaders: responseHeaders, location: head.location)])]
    }
}
