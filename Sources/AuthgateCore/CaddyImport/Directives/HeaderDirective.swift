/// `header [<matcher>] [+|-]<field> [<value>]` (response headers) and
/// `request_header [<matcher>] [+|-]<field> [<value>]` (request headers), inline or in
/// a block. `Field value` sets, `+Field value` adds, `-Field` removes: Gateway API's
/// `ResponseHeaderModifier` and `RequestHeaderModifier`. Placeholders, replacements
/// (`Field find replace`), `?Field` defaults and `>Field` deferral are warnings.
enum HeaderDirective {
    static func readResponseHeader(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        try read(segment, scope, &reader, response: true)
    }

    static func readRequestHeader(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        try read(segment, scope, &reader, response: false)
    }

    private static func read(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader, response: Bool) throws(DiagnosticError) -> [CaddyRoute] {
        var cursor = segment.cursor
        cursor.next()
        guard let head = cursor.token else { return [] }
        let matcher = try reader.matcherToken(&cursor, scope: scope)
        var changes = HeaderChanges()
        if cursor.nextArg() {
            if cursor.isAtOpenBrace {
                cursor.back()
            } else {
                cursor.back()
                changes.merge(try headerOperation(&cursor, keyword: head, reader: &reader))
            }
        }
        let depth = cursor.nesting
        while cursor.nextBlock(depth) {
            cursor.back()
            changes.merge(try headerOperation(&cursor, keyword: head, reader: &reader, fieldIsCurrentLine: true))
        }
        guard !changes.isEmpty else { return [] }
        let handler: CaddyHandler = response ? .responseHeaders(changes) : .requestHeaders(changes)
        return [CaddyRoute(matcher: matcher, handlers: [handler])]
    }

    /// Reads `[+|-]Field [value [replacement]]` after `keyword` (or, in a block, the
    /// line's first word) into header changes.
    static func headerOperation(_ cursor: inout TokenCursor, keyword: Token, reader: inout CaddySiteReader, fieldIsCurrentLine: Bool = false) throws(DiagnosticError) -> HeaderChanges {
        var args: [Token]
        if fieldIsCurrentLine {
            cursor.next()
            guard let first = cursor.token else { return HeaderChanges() }
            args = [first] + cursor.remainingArgTokens()
        } else {
            args = cursor.remainingArgTokens()
        }
        guard let field = args.first else {
            throw keyword.error("\(keyword.text) needs a header field")
        }
        var changes = HeaderChanges()
        var name = field.text
        let values = args.dropFirst().map(\.text)
        if name.hasPrefix("-") {
            name.removeFirst()
            if name.contains("*") {
                // Caddy deletes every field the pattern matches; Gateway API's header
                // modifiers remove exact names only (and refuse `*` in a name).
                reader.warn("header deletion '-\(name)' uses a wildcard; Gateway API removes exact header names only, so it is left out (Traefik's forwardAuth replaces the headers it copies from the auth server, so client-sent copies of those never reach the backend)", at: field)
                return changes
            }
            changes.remove.append(name)
            return changes
        }
        if name.hasPrefix("?") || name.hasPrefix(">") {
            reader.warn("header field '\(field.text)': defaults ('?') and deferred ('>') header operations have no Gateway API equivalent; left out", at: field)
            return changes
        }
        let adding = name.hasPrefix("+")
        if adding { name.removeFirst() }
        guard values.count <= 1 else {
            reader.warn("header \(name): find-and-replace of header values has no Gateway API equivalent; left out", at: field)
            return changes
        }
        let value = values.first ?? ""
        if value.contains("{") {
            reader.warn("header \(name) value '\(value)' holds a placeholder, which is filled in only when Caddy runs; left out", at: field)
            return changes
        }
        if adding {
            changes.add.append(HeaderValue(name: name, value: value))
        } else {
            changes.set.append(HeaderValue(name: name, value: value))
        }
        return changes
    }
}
