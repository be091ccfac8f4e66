/// `handle [<matcher>] { … }`, `handle_path <path> { … }` and `route [<matcher>] { … }`.
///
/// `handle` blocks of one level are mutually exclusive (the first that matches runs,
/// most specific path first, a matcher-less one last) and their contents are sorted in
/// Caddy's directive order. `handle_path` is `handle` that strips the matched prefix
/// first (a `URLRewrite` `ReplacePrefixMatch` in Gateway API). `route` keeps its
/// contents in written order.
enum HandleDirective {
    static func readHandle(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        try read(segment, scope, &reader, sorted: true, stripping: false)
    }

    static func readHandlePath(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        try read(segment, scope, &reader, sorted: true, stripping: true)
    }

    static func readRoute(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        try read(segment, scope, &reader, sorted: false, stripping: false)
    }

    private static func read(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader, sorted: Bool, stripping: Bool) throws(DiagnosticError) -> [CaddyRoute] {
        var cursor = segment.cursor
        cursor.next()
        guard let head = cursor.token else { return [] }
        var inner = scope
        var handlers: [CaddyHandler] = []
        let matcher: CaddyMatcher
        if stripping {
            guard cursor.nextArg(), let pathToken = cursor.token, !pathToken.isOpenBrace else {
                throw head.error("handle_path needs a path matcher such as /api/*")
            }
            guard pathToken.text.hasPrefix("/") else {
                throw pathToken.error("path matcher must begin with '/', got \(pathToken.text)")
            }
            matcher = CaddyMatcher(conditions: [try reader.pathCondition([pathToken], scope: scope)])
            var prefix = String(pathToken.text.trimmingSuffix("*"))
            if prefix.hasSuffix("/") { prefix.removeLast() }
            if pathToken.text.dropLast().contains("*") || pathToken.text.contains("?") || pathToken.text.contains("[") {
                reader.warn("handle_path \(pathToken.text): Caddy strips '\(prefix)' literally; authgate does the same, but check the result", at: pathToken)
            }
            if !prefix.isEmpty {
                handlers.append(.rewrite(.stripPrefix(prefix), location: pathToken.location))
                inner.strippedPrefix = scope.strippedPrefix + prefix
            }
        } else {
            matcher = try reader.matcherToken(&cursor, scope: scope)
        }
        let extra = cursor.remainingArgTokens()
        if let first = extra.first {
            throw first.error("unexpected argument '\(first.text)' to \(head.text); it takes a matcher and a block")
        }
        let body = cursor.blockSegments()
        let routes = try reader.readBlock(body, scope: inner, sorted: sorted)
        handlers.append(.subroute(routes))
        return [CaddyRoute(matcher: matcher, handlers: handlers)]
    }
}
