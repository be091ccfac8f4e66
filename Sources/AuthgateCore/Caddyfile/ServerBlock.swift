/// A block of the Caddyfile as the parser groups it: the keys on its first line (site
/// addresses, or the name of a named route) and its segments.
public struct ServerBlock: Sendable, Hashable {
    /// The addresses before the `{` (commas removed). Empty for the global options block.
    public var keys: [Token]
    /// One segment per directive: the directive token, its arguments, and every token of
    /// the block it opens, braces included.
    public var segments: [Segment]
    /// Whether the block was written with `{ … }` (a single-site file need not be).
    public var hasBraces: Bool
    /// A named route `&(name) { … }`: its only key is the name, its only segment the
    /// name token followed by the braced body.
    public var isNamedRoute: Bool
    /// Where the block's first token is.
    public var location: SourceLocation?
    /// Unset `{$VAR}`s on the block's first line (an address that expanded to nothing).
    public var emptiedVariables: [String] = []

    public init(keys: [Token] = [], segments: [Segment] = [], hasBraces: Bool = false, isNamedRoute: Bool = false, location: SourceLocation? = nil) {
        self.keys = keys
        self.segments = segments
        self.hasBraces = hasBraces
        self.isNamedRoute = isNamedRoute
        self.location = location
    }

    public var keyTexts: [String] { keys.map(\.text) }
}

/// A directive and everything that belongs to it: the rest of its line and the block it
/// opens at the end of that line.
public struct Segment: Sendable, Hashable {
    public var tokens: [Token]

    public init(_ tokens: [Token]) {
        self.tokens = tokens
    }

    /// The directive's name (the first token's text).
    public var directive: String { tokens.first?.text ?? "" }
    public var location: SourceLocation? { tokens.first?.location }

    /// A cursor over this segment, for a directive handler to read.
    public var cursor: TokenCursor { TokenCursor(tokens) }
}
