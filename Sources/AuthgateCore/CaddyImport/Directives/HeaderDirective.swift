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
                // modifiers remove exact names only (and refuse `*` in a name). The
                // names this Caddyfile itself uses (the auth server's `copy_headers`,
                // `header_up` lines) are the ones a client would spoof: those are
                // removed by name.
                let named = name.contains { $0 != "*" } ? reader.headerNames.filter { Self.wildcard(name, matches: $0) } : []
                guard !named.isEmpty else {
                    reader.warn("header deletion '-\(name)' uses a wildcard; Gateway API removes exact header names only, so it is left out (Traefik's forwardAuth replaces the headers it copies from the auth server, so client-sent copies of those never reach the backend)", at: field)
                    return changes
                }
                reader.warn("header deletion '-\(name)' uses a wildcard; Gateway API removes exact header names only, so it removes the \(named.count == 1 ? "name" : "\(named.count) names") this Caddyfile uses that match it (\(named.joined(separator: ", "))); other names that match are not removed", at: field)
                changes.remove.append(contentsOf: named)
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

    /// Whether `name` matches Caddy's header pattern, where `*` stands for any run of
    /// characters; field names compare without regard to case.
    static func wildcard(_ pattern: String, matches name: String) -> Bool {
        let parts = pattern.lowercased().split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        var rest = Substring(name.lowercased())
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for (index, part) in parts.enumerated().dropFirst() {
            if index == parts.count - 1 { return rest.hasSuffix(part) }
            guard let found = rest.range(of: part) else { return false }
            rest = rest[found.upperBound...]
        }
        return rest.isEmpty
    }
}
