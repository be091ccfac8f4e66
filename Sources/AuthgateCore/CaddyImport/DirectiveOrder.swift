/// Caddy 2.11's directive order (`httpcaddyfile/directives.go`, `defaultDirectiveOrder`):
/// inside a site or a `handle` block, directives run in this order whatever order they
/// were written in, so `forward_auth` always runs before `reverse_proxy`.
struct DirectiveOrder: Sendable {
    private(set) var names: [String] = [
        "tracing", "map", "vars", "fs", "root", "log_append", "skip_log", "log_skip", "log_name",
        "header", "copy_response_headers", "request_body", "redir",
        "method", "rewrite", "uri", "try_files",
        "basicauth", "basic_auth", "forward_auth", "request_header", "encode", "push", "intercept", "templates",
        "invoke", "handle", "handle_path", "route",
        "abort", "error", "copy_response", "respond", "metrics", "reverse_proxy", "php_fastcgi", "file_server", "acme_server",
    ]

    /// Applies the `order` global option: `order DIR first|last|before OTHER|after OTHER`.
    mutating func apply(_ arguments: [Token]) throws(DiagnosticError) {
        guard arguments.count >= 2 else {
            throw (arguments.first ?? arguments.last)?.error("order needs a directive and a position (first, last, before DIR, after DIR)")
                ?? DiagnosticError("order needs a directive and a position", at: nil)
        }
        let directive = arguments[0].text
        names.removeAll { $0 == directive }
        switch arguments[1].text {
        case "first": names.insert(directive, at: 0)
        case "last": names.append(directive)
        case "before", "after":
            guard arguments.count == 3 else { throw arguments[1].error("order \(directive) \(arguments[1].text) needs the directive to place it next to") }
            guard let anchor = names.firstIndex(of: arguments[2].text) else {
                throw arguments[2].error("order: '\(arguments[2].text)' is not an ordered directive")
            }
            names.insert(directive, at: arguments[1].text == "before" ? anchor : anchor + 1)
        default:
            throw arguments[1].error("order: unknown position '\(arguments[1].text)'; use first, last, before or after")
        }
    }

    func position(of directive: String) -> Int {
        names.firstIndex(of: directive) ?? names.count
    }

    func contains(_ directive: String) -> Bool { names.contains(directive) }

    /// Caddy's `sortRoutes`: stable by directive position; the same directive with one
    /// path each goes longest path first (a path and the same path with a trailing `*`:
    /// the shorter first); otherwise routes with a matcher go before those without.
    func sort(_ routes: [(directive: String, route: CaddyRoute)]) -> [(directive: String, route: CaddyRoute)] {
        let indexed = routes.enumerated().map { ($0.offset, $0.element) }
        return indexed.sorted { a, b in
            if less(a.1, b.1) { return true }
            if less(b.1, a.1) { return false }
            return a.0 < b.0
        }.map(\.1)
    }

    private func less(_ a: (directive: String, route: CaddyRoute), _ b: (directive: String, route: CaddyRoute)) -> Bool {
        if a.directive != b.directive { return position(of: a.directive) < position(of: b.directive) }
        if let pathA = a.route.matcher.singlePath, let pathB = b.route.matcher.singlePath {
            if pathA.trimmingSuffix("*") == pathB.trimmingSuffix("*") { return pathA.utf8.count < pathB.utf8.count }
            return pathA.utf8.count > pathB.utf8.count
        }
        return a.route.matcher.hasConditions && !b.route.matcher.hasConditions
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> Substring {
        hasSuffix(suffix) ? dropLast(suffix.count) : Substring(self)
    }
}
