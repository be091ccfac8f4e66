/// What of a request, besides its host and path, a source's matchers look at: the
/// method, headers, query parameters and client address, and which of the conditions
/// authgate cannot evaluate (an `expression`, a `vars` matcher…) hold for it.
///
/// The coverage check sends each probe path in several of these variants: the
/// baseline (a plain GET from outside every private range), and one for each
/// condition the source tests, made to meet it, so a site where `Authorization:
/// Bearer …` skips `forward_auth` is checked with and without that header.
public struct RequestVariant: Sendable, Hashable, CustomStringConvertible {
    public var method: String
    /// Header fields in the order sent; names keep their spelling, compared
    /// case-insensitively.
    public var headers: [Field]
    public var query: [Field]
    /// The address the request comes from.
    public var clientIP: String
    /// The source's range `clientIP` was picked from, when it was.
    public var clientRange: IPRange?
    /// Conditions of the source that authgate cannot evaluate, by id, that are taken to
    /// hold for this request (see `OpaqueCondition`); the output never sees them.
    public var holding: Set<Int>

    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// TEST-NET-2: outside every private range and every range a homelab writes.
    public static let outsideAddress = "198.51.100.7"

    public static let baseline = RequestVariant()

    /// An address in none of `ranges` (the plain request's client).
    public static func address(outside ranges: [IPRange]) -> String {
        [outsideAddress, "203.0.113.9", "192.0.2.33", "2001:db8::7"].first { candidate in
            !ranges.contains { $0.contains(candidate) }
        } ?? outsideAddress
    }

    public init(method: String = "GET", headers: [Field] = [], query: [Field] = [], clientIP: String = Self.outsideAddress, clientRange: IPRange? = nil, holding: Set<Int> = []) {
        self.method = method
        self.headers = headers
        self.query = query
        self.clientIP = clientIP
        self.clientRange = clientRange
        self.holding = holding
    }

    /// The values sent for a header (names compare case-insensitively).
    public func values(ofHeader name: String) -> [String] {
        let lower = name.lowercased()
        return headers.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    public func values(ofQuery name: String) -> [String] {
        query.filter { $0.name == name }.map(\.value)
    }

    /// How a message shows the variant: empty for the baseline.
    public var description: String {
        var parts: [String] = []
        if method != "GET" { parts.append("method \(method)") }
        parts += headers.map { "header \($0.name): \($0.value)" }
        parts += query.map { "query \($0.name)=\($0.value)" }
        if clientIP != Self.outsideAddress { parts.append("client address \(clientIP)") }
        return parts.joined(separator: ", ")
    }
}

/// A construct whose effect on access authgate cannot tell: a plugin directive before
/// the handler (`authorize`, `tailscale_auth`…), or a matcher Gateway API cannot
/// express deciding between outcomes. The coverage check counts a request it touches
/// as protected by something the output does not reproduce.
public struct UnknownConstruct: Sendable, Hashable, CustomStringConvertible {
    /// How a message names it: `directive 'authorize'`, `matcher 'expression' (@api)`.
    public var construct: String
    public var location: SourceLocation?
    /// What the user can do about it: the flag that resolves it, or how to rewrite it.
    public var resolution: String
    /// It decides where the request ends (an upstream only Caddy can resolve), so the
    /// output cannot be right whatever it does.
    public var decidesOutcome = false

    public init(construct: String, location: SourceLocation?, resolution: String, decidesOutcome: Bool = false) {
        self.construct = construct
        self.location = location
        self.resolution = resolution
        self.decidesOutcome = decidesOutcome
    }

    public var description: String {
        construct + (location.map { " at \($0.file):\($0.line):\($0.column)" } ?? "")
    }
}

/// A condition of the source that authgate cannot evaluate and Gateway API cannot
/// express (Caddy's `expression`, `vars`, `file`, `protocol` matchers…): the check
/// evaluates the source with it holding and not holding.
public struct OpaqueCondition: Sendable, Hashable {
    public var id: Int
    public var unknown: UnknownConstruct
}

/// Conditions on a request besides its path that an HTTPRoute match can state:
/// method, headers and query parameters (all must hold).
public struct RequestConditions: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var method: String?
    public var headers: [ValueMatch] = []
    public var queryParams: [ValueMatch] = []

    public static let none = RequestConditions()

    public init(method: String? = nil, headers: [ValueMatch] = [], queryParams: [ValueMatch] = []) {
        self.method = method
        self.headers = headers
        self.queryParams = queryParams
    }

    public var isEmpty: Bool { method == nil && headers.isEmpty && queryParams.isEmpty }

    /// An HTTPRoute header or query parameter match: Exact, or a RegularExpression
    /// (which Traefik runs unanchored, on each value).
    public struct ValueMatch: Sendable, Hashable, Comparable {
        public enum Kind: String, Sendable, Hashable {
            case exact = "Exact", regularExpression = "RegularExpression"
        }
        public var kind: Kind
        public var name: String
        public var value: String

        public init(_ kind: Kind, _ name: String, _ value: String) {
            self.kind = kind
            self.name = name
            self.value = value
        }

        public static func < (lhs: ValueMatch, rhs: ValueMatch) -> Bool {
            (lhs.name.lowercased(), lhs.kind.rawValue, lhs.value) < (rhs.name.lowercased(), rhs.kind.rawValue, rhs.value)
        }
    }

    public func holds(for request: RequestVariant) -> Bool {
        if let method, request.method != method { return false }
        for header in headers where !Self.anyValue(request.values(ofHeader: header.name), header) { return false }
        for param in queryParams where !Self.anyValue(request.values(ofQuery: param.name), param) { return false }
        return true
    }

    private static func anyValue(_ values: [String], _ match: ValueMatch) -> Bool {
        switch match.kind {
        case .exact: return values.contains(match.value)
        case .regularExpression:
            let cache = RegexCache([match.value])
            return values.contains { cache.firstMatch(match.value, in: $0) }
        }
    }

    /// Both sets of conditions at once, or nil when no request can meet both (two
    /// methods).
    func and(_ other: RequestConditions) -> RequestConditions? {
        if let method, let otherMethod = other.method, method != otherMethod { return nil }
        var result = self
        result.method = method ?? other.method
        for header in other.headers where !result.headers.contains(header) { result.headers.append(header) }
        for param in other.queryParams where !result.queryParams.contains(param) { result.queryParams.append(param) }
        result.headers.sort()
        result.queryParams.sort()
        return result
    }

    public var description: String {
        var parts: [String] = []
        if let method { parts.append("method \(method)") }
        parts += headers.map { "header \($0.name) \($0.kind == .exact ? "=" : "~") \($0.value)" }
        parts += queryParams.map { "query \($0.name) \($0.kind == .exact ? "=" : "~") \($0.value)" }
        return parts.joined(separator: ", ")
    }

    public static func < (lhs: RequestConditions, rhs: RequestConditions) -> Bool {
        lhs.description < rhs.description
    }
}
