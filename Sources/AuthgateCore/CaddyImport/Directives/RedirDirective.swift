/// `redir [<matcher>] <to> [permanent|temporary|html|<3xx>]`
///
/// Becomes a `RequestRedirect` filter: `permanent` is 301, `temporary` (the default)
/// 302, an explicit code is kept where Gateway API allows it (301, 302, 303, 307, 308).
/// `{uri}` (or `{path}`) at the end of the target keeps the request's path; a target
/// without a path redirects to `/`.
enum RedirDirective {
    static let gatewayCodes: Set<Int> = [301, 302, 303, 307, 308]

    /// Caddy's placeholders for the request's host (`{hostport}` keeps a port the
    /// redirect then drops: on 80 and 443 there is none).
    static let hostPlaceholders = ["{http.request.hostport}", "{http.request.host}", "{hostport}", "{host}"]
    /// Caddy's placeholders for the request's path (and query).
    static let pathPlaceholders: Set<String> = ["{uri}", "{path}", "{http.request.uri}", "{http.request.uri.path}", "{http.request.orig_uri}"]

    static func read(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        var cursor = segment.cursor
        cursor.next()
        guard let head = cursor.token else { return [] }
        // A lone argument is the target (`redir /new`), as Caddy reads it.
        var peek = cursor
        let lone = peek.remainingArgTokens().count == 1
        let matcher = lone ? .always : try reader.matcherToken(&cursor, scope: scope)
        let args = cursor.remainingArgTokens()
        guard let target = args.first, args.count <= 2 else {
            throw cursor.argumentError()
        }
        var status = 302
        if args.count == 2 {
            let code = args[1]
            switch code.text {
            case "permanent": status = 301
            case "temporary": status = 302
            case "html":
                reader.warn("redir html answers with an HTML page that refreshes; Gateway API can only redirect, so it becomes a 302", at: code)
            default:
                guard let number = Int(code.text), (300...399).contains(number) else {
                    throw code.error("redir status must be permanent, temporary, html or a 3xx code, got '\(code.text)'")
                }
                if Self.gatewayCodes.contains(number) {
                    status = number
                } else {
                    reader.warn("redir status \(number) is not one Gateway API can send (301, 302, 303, 307, 308); it becomes 302", at: code)
                }
            }
        }
        let redirect = try parseTarget(target, status: status, reader: &reader)
        return [CaddyRoute(matcher: matcher, handlers: [.redirect(redirect, location: head.location)])]
    }

    static func parseTarget(_ token: Token, status: Int, reader: inout CaddySiteReader) throws(DiagnosticError) -> Redirect {
        var rest = Substring(token.text)
        var redirect = Redirect(status: status)
        if let separator = rest.range(of: "://") {
            let scheme = rest[..<separator.lowerBound].lowercased()
            // `{scheme}` keeps the request's, as a redirect without a scheme does.
            let keepsScheme = scheme == "{scheme}" || scheme == "{http.request.scheme}"
            guard scheme == "http" || scheme == "https" || keepsScheme else {
                throw token.error("redir target scheme '\(scheme)' cannot be migrated; Gateway API redirects to http or https")
            }
            redirect.scheme = keepsScheme ? nil : scheme
            rest = rest[separator.upperBound...]
            // The request's own host, as Caddy's placeholders spell it: Gateway API
            // keeps the request's host when the redirect names none.
            if let placeholder = hostPlaceholders.first(where: { rest.hasPrefix($0) }) {
                rest = rest.dropFirst(placeholder.count)
                if rest.isEmpty {
                    redirect.path = "/"
                    return redirect
                }
            } else {
                let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "{" || $0 == "?" }) ?? rest.endIndex
                let authority = rest[..<authorityEnd]
                rest = rest[authorityEnd...]
                if let (host, port) = SiteAddress.splitHostPort(authority) {
                    redirect.hostname = host.lowercased()
                    guard let number = Int(port), (1...65535).contains(number) else {
                        throw token.error("invalid port '\(port)' in redir target")
                    }
                    redirect.port = number
                } else {
                    redirect.hostname = authority.lowercased()
                }
                if redirect.hostname?.isEmpty == true {
                    let placeholder = rest.prefix { $0 != "}" } + (rest.contains("}") ? "}" : "")
                    throw token.error("redir target host '\(placeholder)' is filled in only when Caddy runs; Gateway API's RequestRedirect keeps the request's host ({host}) or names a fixed one")
                }
                if rest.isEmpty {
                    redirect.path = "/"
                    return redirect
                }
            }
        }
        let path = String(rest)
        if pathPlaceholders.contains(path) {
            return redirect
        }
        if path.contains("{") || path.contains("?") {
            let placeholder = path.drop { $0 != "{" }.prefix { $0 != "}" } + (path.contains("}") ? "}" : "")
            reader.warn("redir target path '\(path)' holds \(placeholder.isEmpty ? "a query" : "the placeholder '\(placeholder)'"), which Gateway API's RequestRedirect cannot build; the redirect keeps the request's path", at: token)
            return redirect
        }
        redirect.path = path
        return redirect
    }
}
