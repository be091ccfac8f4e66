/// Named matchers: `@name { path …; host …; not … }`, `@name path /a /b` on one line,
/// and `@name "expression"`. `path`, `path_regexp`, `host`, `header`, `header_regexp`,
/// `method`, `query`, `remote_ip`, `client_ip` and `not` are read exactly; any other
/// type (`expression`, `vars`, `file`, `protocol`, a plugin's) is an opaque condition:
/// the coverage check evaluates the site with it holding and not holding, and where the
/// outcome differs the paths are unknown (see `CaddyCondition.opaque`).
enum CaddyMatchers {
    static func define(_ segment: Segment, in scope: inout CaddySiteReader.Scope, reader: inout CaddySiteReader) throws(DiagnosticError) {
        var cursor = segment.cursor
        cursor.next()
        guard let nameToken = cursor.token else { return }
        let name = nameToken.text
        // Caddy refuses a second definition, also in a nested block (which starts
        // from a copy of the outer definitions).
        guard scope.matchers[name] == nil else { throw nameToken.error("matcher is defined more than once: \(name)") }
        reader.definingMatcher = name
        defer { reader.definingMatcher = nil }
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
                conditions.append(reader.opaqueCondition("expression", matcher: name, at: first))
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
        var pathAt: Int?, hostAt: Int?, headerAt: Int?, methodAt: Int?, queryAt: Int?, regexpSeen = false
        var ipAt: [String: Int] = [:]
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
            case .header(let tests):
                // One header matcher per set: fields are ANDed, values of a field ORed.
                if let index = headerAt, case .header(var earlier) = result[index] {
                    for test in tests {
                        if let same = earlier.firstIndex(where: { $0.field.lowercased() == test.field.lowercased() && $0.absent == test.absent }) {
                            earlier[same].values += test.values
                        } else {
                            earlier.append(test)
                        }
                    }
                    result[index] = .header(earlier)
                } else {
                    headerAt = result.count
                    result.append(condition)
                }
            case .method(let methods):
                if let index = methodAt, case .method(let earlier) = result[index] {
                    result[index] = .method(earlier + methods)
                } else {
                    methodAt = result.count
                    result.append(condition)
                }
            case .query(let tests):
                if let index = queryAt, case .query(var earlier) = result[index] {
                    for test in tests {
                        if let same = earlier.firstIndex(where: { $0.key == test.key }) { earlier[same].values += test.values } else { earlier.append(test) }
                    }
                    result[index] = .query(earlier)
                } else {
                    queryAt = result.count
                    result.append(condition)
                }
            case .clientIP(let ranges, let directive):
                if let index = ipAt[directive], case .clientIP(let earlier, _) = result[index] {
                    result[index] = .clientIP(earlier + ranges, directive: directive)
                } else {
                    ipAt[directive] = result.count
                    result.append(condition)
                }
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
            return .not(inner)
        case "header":
            let values = cursor.remainingArgTokens()
            guard let field = values.first else { throw typeToken.error("header matcher needs a field name") }
            let absent = field.text.hasPrefix("!")
            let name = absent ? String(field.text.dropFirst()) : field.text
            guard !name.isEmpty else { throw field.error("header matcher needs a field name") }
            if absent && values.count > 1 { throw values[1].error("header matcher !\(name) takes no value: the field must be absent") }
            for value in values.dropFirst() where value.text.contains("{") {
                reader.warn("header matcher value '\(value.text)' holds a placeholder, which authgate compares literally", at: value)
            }
            return .header([.init(field: name, absent: absent, values: values.count > 1 ? values.dropFirst().map(\.text) : ["*"], location: typeToken.location)])
        case "header_regexp":
            // `header_regexp [name] field regexp`; the name only labels capture groups.
            let values = cursor.remainingArgTokens()
            guard values.count == 2 || values.count == 3 else { throw typeToken.error("header_regexp takes an optional name, a field and a regular expression") }
            let pattern = values[values.count - 1]
            if let problem = RegexSafety.problem(in: pattern.text) {
                throw pattern.error("header_regexp '\(pattern.text)' cannot be converted: \(problem)")
            }
            guard (try? Regex(pattern.text)) != nil, RegexSample.value(pattern.text) != nil else {
                return reader.opaqueCondition("header_regexp", matcher: nil, at: typeToken, why: "authgate cannot evaluate its expression or find a value it matches")
            }
            return .headerRegexp(field: values[values.count - 2].text, pattern: pattern.text, location: typeToken.location)
        case "method":
            let values = cursor.remainingArgTokens()
            guard !values.isEmpty else { throw typeToken.error("method matcher needs at least one method") }
            return .method(values.map(\.text))
        case "query":
            var tests: [CaddyCondition.QueryTest] = []
            for token in cursor.remainingArgTokens() {
                let parts = token.text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw token.error("query matcher arguments are key=value, got '\(token.text)'")
                }
                if let same = tests.firstIndex(where: { $0.key == parts[0] }) { tests[same].values.append(parts[1]) } else { tests.append(.init(key: parts[0], values: [parts[1]])) }
            }
            guard !tests.isEmpty else {
                return reader.opaqueCondition("query", matcher: nil, at: typeToken, why: "an empty query matcher matches only requests without a query string")
            }
            return .query(tests)
        case "remote_ip", "client_ip":
            var ranges: [IPRange] = []
            for token in cursor.remainingArgTokens() {
                if token.text == "forwarded" && typeToken.text == "remote_ip" {
                    return reader.opaqueCondition("remote_ip forwarded", matcher: nil, at: token, why: "it trusts X-Forwarded-For from any client")
                }
                if token.text.contains("{") {
                    return reader.opaqueCondition(typeToken.text, matcher: nil, at: token, why: "its ranges ('\(token.text)') are filled in only when Caddy runs")
                }
                let written = token.text == "private_ranges" ? IPRange.privateRanges : [token.text]
                for text in written {
                    guard let range = IPRange(text) else { throw token.error("\(typeToken.text): '\(token.text)' is not an IP address or CIDR range") }
                    ranges.append(range)
                }
            }
            guard !ranges.isEmpty else { throw typeToken.error("\(typeToken.text) needs at least one IP address or range") }
            return .clientIP(ranges, directive: typeToken.text)
        default:
            let type = typeToken.text
            _ = cursor.remainingArgTokens()
            let depth = cursor.nesting
            while cursor.nextBlock(depth) {}
            return reader.opaqueCondition(type, matcher: nil, at: typeToken)
        }
    }
}
