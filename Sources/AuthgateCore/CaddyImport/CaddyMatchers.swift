/// Named matchers: `@name { path …; host …; not … }`, `@name path /a /b` on one line,
/// and `@name "expression"`. Path, path_regexp, host and `not` are understood; other matcher types
/// (method, header, query, remote_ip, expression, …) cannot be expressed in Gateway API
/// and become a warning plus a condition taken to hold (see `CaddyCondition.unsupported`).
enum CaddyMatchers {
    static func define(_ segment: Segment, in scope: inout CaddySiteReader.Scope, reader: inout CaddySiteReader) throws(DiagnosticError) {
        var cursor = segment.cursor
        cursor.next()
        guard let nameToken = cursor.token else { return }
        let name = nameToken.text
        // Caddy refuses a second definition, also in a nested block (which starts
        // from a copy of the outer definitions).
        guard scope.matchers[name] == nil else { throw nameToken.error("matcher is defined more than once: \(name)") }
        var conditions: [CaddyCondition] = []
        if cursor.nextArg() {
            guard let first = cursor.token else { return }
            if first.isOpenBrace {
                cursor.back()
                let depth = cursor.nesting
                var lines: [(Token, CaddyCondition)] = []
                while cursor.nextBlock(depth) {
                    let typeToken = cursor.token
                    lines.append((typeToken ?? nameToken, try condition(&cursor, scope: scope, reader: &reader)))
                }
                conditions = try merged(lines)
            } else if first.isQuoted && !cursor.nextIsOnSameLine() {
                reader.warn("matcher \(name) is a CEL expression, which Gateway API cannot express; authgate treats it as always matching", at: first)
                conditions.append(.unsupported("expression"))
            } else {
                conditions.append(try condition(&cursor, scope: scope, reader: &reader))
            }
        } else {
            throw nameToken.error("matcher \(name) is defined without any condition")
        }
        scope.matchers[name] = CaddyMatcher(conditions: conditions)
    }

    /// One matcher set from a block's lines, as Caddy builds it: lines of the same
    /// type are one matcher, so `path /a` and `path /b` match either path (and `host`
    /// likewise); a second `path_regexp` is an error in Caddy too.
    static func merged(_ lines: [(Token, CaddyCondition)]) throws(DiagnosticError) -> [CaddyCondition] {
        var result: [CaddyCondition] = []
        var pathAt: Int?, hostAt: Int?, regexpSeen = false
        for (token, condition) in lines {
            switch condition {
            case .path(let patterns, let written):
                if let index = pathAt, case .path(let earlier, let earlierWritten) = result[index] {
                    result[index] = .path(earlier + patterns, written: earlierWritten + written)
                } else {
                    pathAt = result.count
                    result.append(condition)
                }
            case .host(let hosts):
                if let index = hostAt, case .host(let earlier) = result[index] {
                    result[index] = .host(earlier + hosts)
                } else {
                    hostAt = result.count
                    result.append(condition)
                }
            case .pathRegexp:
                guard !regexpSeen else { throw token.error("path_regexp can only be used once per named matcher, as in Caddy") }
                regexpSeen = true
                result.append(condition)
            default:
                result.append(condition)
            }
        }
        return result
    }

    /// Reads one condition with the cursor on its type word.
    static func condition(_ cursor: inout TokenCursor, scope: CaddySiteReader.Scope, reader: inout CaddySiteReader, depth: Int = 0) throws(DiagnosticError) -> CaddyCondition {
        guard let typeToken = cursor.token else { throw cursor.error("expected a matcher type") }
        guard depth < 32 else { throw typeToken.error("matchers are nested more than 32 deep here; authgate refuses to read further") }
        switch typeToken.text {
        case "path":
            let values = cursor.remainingArgTokens()
            guard !values.isEmpty else { throw typeToken.error("path matcher needs at least one pattern") }
            return try reader.pathCondition(values, scope: scope)
        case "path_regexp":
            // `path_regexp [name] regexp`; the name only labels capture groups.
            let values = cursor.remainingArgTokens()
            guard let expression = values.last, values.count <= 2 else {
                throw typeToken.error(values.isEmpty ? "path_regexp needs a regular expression" : "path_regexp takes an optional name and one regular expression")
            }
            return try reader.pathRegexpCondition(expression, scope: scope)
        case "host":
            let values = cursor.remainingArgTokens()
            guard !values.isEmpty else { throw typeToken.error("host matcher needs at least one host name") }
            return .host(values.map { $0.text.lowercased() })
        case "not":
            var inner: [CaddyCondition] = []
            if cursor.nextArg() {
                if cursor.isAtOpenBrace {
                    cursor.back()
                } else {
                    inner.append(try condition(&cursor, scope: scope, reader: &reader, depth: depth + 1))
                }
            }
            let nesting = cursor.nesting
            var lines: [(Token, CaddyCondition)] = []
            while cursor.nextBlock(nesting) {
                let lineToken = cursor.token ?? typeToken
                lines.append((lineToken, try condition(&cursor, scope: scope, reader: &reader, depth: depth + 1)))
            }
            // A block is one matcher set: `not { path /a; path /b }` negates either.
            inner += try merged(lines)
            guard !inner.isEmpty else { throw typeToken.error("not matcher needs a matcher to negate") }
            if inner.contains(where: \.containsUnsupported) {
                reader.warn("'not' wraps a matcher Gateway API cannot express; authgate treats the whole 'not' as always matching, so what it guards (such as forward_auth) still applies everywhere", at: typeToken)
            }
            return .not(inner)
        default:
            let type = typeToken.text
            _ = cursor.remainingArgTokens()
            let depth = cursor.nesting
            while cursor.nextBlock(depth) {}
            reader.warn("matcher type '\(type)' cannot be expressed in Gateway API routing; authgate treats it as always matching (so auth it guards applies to every request, and a route it guards takes every request)", at: typeToken)
            return .unsupported(type)
        }
    }
}
