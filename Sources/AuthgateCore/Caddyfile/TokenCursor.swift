/// Walks a token list the way Caddy's `Dispenser` does: `next`, `nextArg`,
/// `remainingArgs`, `nextBlock`. The parser uses it to build blocks; directive handlers
/// use it to read a directive's arguments and sub-blocks.
///
/// Tokens behind the cursor are kept in order, tokens ahead in reverse, so the parser
/// can splice an import's tokens in at the cursor in time proportional to the import,
/// not to the file.
public struct TokenCursor: Sendable {
    private var behind: [Token] = []
    private var current: Token?
    private var ahead: [Token]
    /// True until the first `next()`, like a dispenser whose cursor is -1.
    private var beforeStart = true
    /// Block depth as counted by `nextBlock`.
    public private(set) var nesting = 0

    public init(_ tokens: [Token]) {
        ahead = tokens.reversed()
    }

    /// The current token, or nil before the first `next()` or past the end.
    public var token: Token? { current }
    /// The current token's text, or "" where there is none.
    public var value: String { current?.text ?? "" }
    public var isAtOpenBrace: Bool { current?.isOpenBrace ?? false }
    public var isAtCloseBrace: Bool { current?.isCloseBrace ?? false }
    var peek: Token? { ahead.last }
    var previous: Token? { behind.last }
    /// How many tokens lie behind the cursor (the cursor's index).
    var index: Int { beforeStart ? -1 : behind.count }

    /// Moves to the next token; false at the end.
    @discardableResult
    public mutating func next() -> Bool {
        guard let upcoming = ahead.popLast() else { return false }
        if let current, !beforeStart { behind.append(current) }
        beforeStart = false
        current = upcoming
        return true
    }

    /// Moves back one token.
    mutating func back() {
        if let current { ahead.append(current) }
        if let last = behind.popLast() {
            current = last
        } else {
            current = nil
            beforeStart = true
        }
    }

    /// Whether the next token continues the current line.
    func nextIsOnSameLine() -> Bool {
        guard let upcoming = ahead.last else { return false }
        guard let current, !beforeStart else { return true }
        return !current.isFollowedOnNewLine(by: upcoming)
    }

    /// Whether the current token starts a new line (or is the first).
    func isAtNewLine() -> Bool {
        guard let current else { return false }
        guard let previous = behind.last, !beforeStart else { return true }
        return previous.isFollowedOnNewLine(by: current)
    }

    /// Whether the token after the current one is on a later line (or there is none).
    func nextIsOnNewLine() -> Bool {
        guard let current, let upcoming = ahead.last else { return true }
        return current.isFollowedOnNewLine(by: upcoming)
    }

    /// Moves to the next token if it is on the same line.
    @discardableResult
    public mutating func nextArg() -> Bool {
        guard nextIsOnSameLine() else { return false }
        return next()
    }

    /// The rest of the line's tokens, stopping before an unquoted `{` (which stays
    /// unread so `nextBlock` can open it).
    public mutating func remainingArgTokens() -> [Token] {
        var tokens: [Token] = []
        while nextArg() {
            if isAtOpenBrace {
                back()
                break
            }
            if let current { tokens.append(current) }
        }
        return tokens
    }

    public mutating func remainingArgs() -> [String] {
        remainingArgTokens().map(\.text)
    }

    /// Steps through the block that opens at the end of the current line, if any:
    /// true for each token inside it, false once its `}` has been read (or when there is
    /// no block). Use as `let depth = cursor.nesting; while cursor.nextBlock(depth) { … }`.
    public mutating func nextBlock(_ initialNesting: Int) -> Bool {
        if nesting > initialNesting {
            guard next() else { return false }
            if isAtCloseBrace && !nextIsOnSameLine() {
                nesting -= 1
            } else if isAtOpenBrace && !nextIsOnSameLine() {
                nesting += 1
            }
            return nesting > initialNesting
        }
        guard nextIsOnSameLine(), next() else { return false }
        guard isAtOpenBrace else {
            back()
            return false
        }
        next()
        if isAtCloseBrace { return false }
        nesting += 1
        return true
    }

    /// Replaces the tokens from index `start` up to and including the current one with
    /// `tokens`, leaving the cursor on the first of them (or past the end when there
    /// are none and nothing follows).
    mutating func splice(from start: Int, replacingThrough tokens: [Token]) {
        precondition(start >= 0 && start <= behind.count, "splice start lies ahead of the cursor")
        behind.removeLast(behind.count - start)
        ahead.append(contentsOf: tokens.reversed())
        current = ahead.popLast()
        beforeStart = false
    }

    /// "wrong argument count" at the current token, as Caddy words it.
    func argumentError() -> DiagnosticError {
        if isAtOpenBrace { return error("unexpected token '{', expecting argument") }
        return error("wrong argument count or unexpected line ending after '\(value)'")
    }

    /// An error at the current token (or the last one, past the end).
    func error(_ message: String) -> DiagnosticError {
        if let token = current ?? behind.last {
            return token.error(message)
        }
        return DiagnosticError(message, at: nil)
    }
}

extension TokenCursor {
    /// The current token and everything that belongs to it: the rest of its line and
    /// any block opened on it (Caddy's `NextSegment`). Leaves the cursor on the
    /// segment's last token.
    mutating func nextSegment() -> Segment {
        guard let first = token else { return Segment([]) }
        var tokens = [first]
        var nesting = 0
        var previous = first
        while next() {
            guard let current = token else { break }
            if nesting == 0 && previous.isFollowedOnNewLine(by: current) {
                back()
                break
            }
            if current.isOpenBrace {
                nesting += 1
            } else if current.isCloseBrace {
                if nesting == 0 {
                    back()
                    break
                }
                nesting -= 1
            }
            tokens.append(current)
            previous = current
        }
        return Segment(tokens)
    }

    /// The segments of the block opened at the end of the current line.
    mutating func blockSegments() -> [Segment] {
        var segments: [Segment] = []
        let depth = nesting
        while nextBlock(depth) {
            segments.append(nextSegment())
        }
        return segments
    }
}
