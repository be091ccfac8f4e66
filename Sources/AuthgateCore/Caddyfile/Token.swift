/// One Caddyfile token: a word, a quoted string or a heredoc, with where it came from.
public struct Token: Hashable, Sendable, CustomStringConvertible {
    /// How the token was written; quoted tokens are never structure (`"{"` is text).
    public enum Quote: Hashable, Sendable {
        case none
        case double
        case backtick
        case heredoc(marker: String)
    }

    public var text: String
    public var quote: Quote
    /// Caddy's logical line. A backslash-newline keeps the line number, so the words
    /// after it still count as arguments of the same directive; it is what decides
    /// "same line" and is not always the physical line (see `location`).
    public var line: Int
    /// The physical position of the token's first character in its file.
    public var location: SourceLocation
    /// Each `import` that brought this token in, in the order they were applied (the
    /// last one placed the token where it is now).
    public var imports: [ImportSite]
    /// The snippet whose definition this token belongs to, if any; it namespaces the
    /// import graph the way Caddy does.
    var snippetName: String?
    /// `{$VAR}` placeholders in this token whose variable was not set (they expanded to
    /// nothing), by name.
    public var emptiedVariables: [String] = []

    public init(
        text: String, quote: Quote = .none, line: Int, location: SourceLocation,
        imports: [ImportSite] = []
    ) {
        self.text = text
        self.quote = quote
        self.line = line
        self.location = location
        self.imports = imports
        self.snippetName = nil
    }

    public var isQuoted: Bool { quote != .none }

    /// An unquoted `{`: opens a block.
    public var isOpenBrace: Bool { text == "{" && quote == .none }
    /// An unquoted `}`: closes a block.
    public var isCloseBrace: Bool { text == "}" && quote == .none }

    /// The import chain for diagnostics, innermost first.
    public var importChain: [ImportSite] { imports.reversed() }

    /// Line breaks the token spans, counted as Caddy does: the newlines in its text,
    /// plus two for a heredoc (its opening line and the closing marker's line).
    var lineBreaks: Int {
        var count = 0
        for scalar in text.unicodeScalars where scalar == "\n" { count += 1 }
        if case .heredoc = quote { count += 2 }
        return count
    }

    /// Whether `next` starts on a later line than this token ends on. Tokens from
    /// another file or another import are always on a new line.
    func isFollowedOnNewLine(by next: Token) -> Bool {
        if location.file != next.location.file { return true }
        if imports != next.imports { return true }
        return line + lineBreaks < next.line
    }

    public var description: String {
        switch quote {
        case .none: text
        case .double: "\"\(text)\""
        case .backtick: "`\(text)`"
        case .heredoc(let marker): "<<\(marker)…\(marker)"
        }
    }

    func error(_ message: String) -> DiagnosticError {
        DiagnosticError(message, at: location, importChain: importChain)
    }
}
