/// Splits Caddyfile text into tokens exactly as Caddy 2.11's lexer does.
///
/// - Tokens are separated by whitespace; `#` starts a comment only at the start of a
///   token.
/// - `"…"` may span lines; inside it only `\"` is an escape, other backslashes stay.
///   Backtick quotes have no escapes at all.
/// - `<<MARKER` then a newline starts a heredoc that ends at `MARKER`; the whitespace
///   before the closing marker is stripped from every line, the last newline dropped.
///   `\<<` escapes it. `<<` followed by a space is an ordinary word.
/// - A backslash before a newline joins the lines: the next words keep the logical line
///   number (they are still arguments), while the physical line still advances.
/// - CR is ignored outside quotes.
///
/// Where Caddy silently returns a truncated token (a quote or heredoc never closed),
/// authgate reports an error: a migration must not guess where the text ends.
struct Lexer {
    private let text: ExpandedText
    private let source: SourceText
    private var position = 0
    private var line = 1
    private var skippedLines = 0

    init(source: SourceText, environment: [String: String]) {
        self.source = source
        self.text = ExpandedText.expanding(source.scalars, environment: environment)
    }

    static func tokenize(_ source: SourceText, environment: [String: String]) throws(DiagnosticError) -> [Token] {
        var lexer = Lexer(source: source, environment: environment)
        var tokens: [Token] = []
        while let token = try lexer.next() {
            tokens.append(token)
        }
        return tokens
    }

    private func location(at index: Int) -> SourceLocation {
        source.location(ofOffset: text.originalOffset(of: index))
    }

    private static let heredocMarkerCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-".unicodeScalars)

    // A direct port of the state machine in Caddy's lexer.go `next`, so that odd input
    // (an escaped space, a comment ending in a backslash) lexes as Caddy lexes it.
    private mutating func next() throws(DiagnosticError) -> Token? {
        let scalars = text.scalars
        var value: [Unicode.Scalar] = []
        var comment = false
        var quoted = false
        var backtickQuoted = false
        var inHeredoc = false
        var heredocEscaped = false
        var escaped = false
        var escapeStart = 0
        var heredocMarker = ""
        var heredocContentStart = 0
        var tokenLine = line
        var tokenStart = position

        let unset = text.unset
        func make(_ quote: Token.Quote) -> Token {
            var token = Token(
                text: String(String.UnicodeScalarView(value)), quote: quote, line: tokenLine,
                location: location(at: tokenStart))
            if !unset.isEmpty {
                // An unset variable expanded to nothing between the token's first
                // scalar and the one that ended it.
                var lower = text.originalOffset(of: tokenStart)
                // A block opened where the address was: the variable stood before it.
                if value == ["{"] && quote == .none {
                    while lower > 0 && source.scalars[lower - 1] != "\n" { lower -= 1 }
                }
                let upper = position - 1 < scalars.count && position > tokenStart ? text.originalOffset(of: position - 1) : Int.max
                token.emptiedVariables = unset.filter { $0.offset >= lower && $0.offset <= upper }.map(\.name)
            }
            return token
        }

        while true {
            guard position < scalars.count else {
                if quoted || backtickQuoted {
                    throw DiagnosticError(
                        "unterminated quoted text: the \(quoted ? "\"" : "`") opened here is never closed",
                        at: location(at: tokenStart))
                }
                if inHeredoc {
                    throw DiagnosticError(
                        "incomplete heredoc <<\(heredocMarker): expected the ending marker \(heredocMarker) before the end of the file",
                        at: location(at: tokenStart))
                }
                return value.isEmpty ? nil : make(.none)
            }
            let ch = scalars[position]
            position += 1

            // The start of a heredoc: `<<` at the start of a word.
            if !(quoted || backtickQuoted) && !(inHeredoc || heredocEscaped) && value.count > 1
                && value[0] == "<" && value[1] == "<"
            {
                if ch == " " { return make(.none) }  // a plain word such as `<<`
                if ch == "\r" { continue }
                if ch == "\n" {
                    if value.count == 2 {
                        throw DiagnosticError(
                            "missing opening heredoc marker: after << there must be a marker of letters, digits, dashes and underscores",
                            at: location(at: tokenStart))
                    }
                    if value[2] == "<" {
                        throw DiagnosticError(
                            "too many '<' for heredoc; only use two, for example <<END", at: location(at: tokenStart))
                    }
                    heredocMarker = String(String.UnicodeScalarView(value[2...]))
                    if !heredocMarker.unicodeScalars.allSatisfy(Self.heredocMarkerCharacters.contains) {
                        throw DiagnosticError(
                            "heredoc marker must contain only alphanumeric characters, dashes and underscores; got '\(heredocMarker)'",
                            at: location(at: tokenStart))
                    }
                    inHeredoc = true
                    skippedLines += 1
                    value = []
                    heredocContentStart = position
                    continue
                }
                value.append(ch)
                continue
            }

            // Inside a heredoc everything is literal until the marker.
            if inHeredoc {
                value.append(ch)
                if ch == "\n" { skippedLines += 1 }
                if value.count >= heredocMarker.unicodeScalars.count
                    && value.suffix(heredocMarker.unicodeScalars.count).elementsEqual(heredocMarker.unicodeScalars)
                {
                    value = try finishHeredoc(value, marker: heredocMarker, contentStart: heredocContentStart)
                    line += skippedLines
                    skippedLines = 0
                    return make(.heredoc(marker: heredocMarker))
                }
                continue
            }

            if !escaped && !backtickQuoted && ch == "\\" {
                escaped = true
                escapeStart = position - 1
                continue
            }

            if quoted || backtickQuoted {
                if quoted && escaped {
                    // Only a quote can be escaped inside "…"; any other backslash stays.
                    if ch != "\"" { value.append("\\") }
                    escaped = false
                } else if (quoted && ch == "\"") || (backtickQuoted && ch == "`") {
                    return make(quoted ? .double : .backtick)
                }
                if ch == "\n" {
                    line += 1 + skippedLines
                    skippedLines = 0
                }
                value.append(ch)
                continue
            }

            if ch.properties.isWhitespace {
                if ch == "\r" { continue }
                if ch == "\n" {
                    if escaped {
                        skippedLines += 1
                        escaped = false
                    } else {
                        line += 1 + skippedLines
                        skippedLines = 0
                    }
                    comment = false
                }
                if !value.isEmpty { return make(.none) }
                continue
            }

            if ch == "#" && value.isEmpty { comment = true }
            if comment { continue }

            if value.isEmpty {
                tokenLine = line
                tokenStart = escaped ? escapeStart : position - 1
                if ch == "\"" {
                    quoted = true
                    continue
                }
                if ch == "`" {
                    backtickQuoted = true
                    continue
                }
            }

            if escaped {
                if ch == "<" {
                    heredocEscaped = true
                } else {
                    value.append("\\")
                }
                escaped = false
            }
            value.append(ch)
        }
    }

    /// Strips the closing marker's indentation from every line of a heredoc body.
    private func finishHeredoc(
        _ value: [Unicode.Scalar], marker: String, contentStart: Int
    ) throws(DiagnosticError) -> [Unicode.Scalar] {
        let markerLength = marker.unicodeScalars.count
        let lastNewline = value.lastIndex(of: "\n")
        let paddingStart = lastNewline.map { $0 + 1 } ?? 0
        let padding = Array(value[paddingStart..<(value.count - markerLength)])
        guard let lastNewline else { return [] }

        var output: [Unicode.Scalar] = []
        var lineStart = 0
        while lineStart <= lastNewline {
            let lineEnd = value[lineStart...lastNewline].firstIndex(of: "\n") ?? lastNewline
            let lineText = value[lineStart..<lineEnd]
            if lineText.isEmpty || (lineText.count == 1 && lineText.first == "\r") {
                output.append("\n")
            } else if lineText.starts(with: padding) {
                for scalar in lineText.dropFirst(padding.count) where scalar != "\r" {
                    output.append(scalar)
                }
                output.append("\n")
            } else {
                let shown = String(String.UnicodeScalarView(lineText))
                let expected = String(String.UnicodeScalarView(padding))
                throw DiagnosticError(
                    "mismatched leading whitespace in heredoc <<\(marker): line [\(shown)] does not start with [\(expected)], the whitespace before the closing marker",
                    at: location(at: contentStart + lineStart))
            }
            lineStart = lineEnd + 1
        }
        if output.last == "\n" { output.removeLast() }
        return output
    }
}
