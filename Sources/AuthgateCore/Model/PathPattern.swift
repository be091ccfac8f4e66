/// A set of request paths, described the way a source proxy writes it. The model keeps
/// the source's own pattern (not a Gateway API match) so the coverage check can compare
/// what the source matched with what the output matches.
public enum PathPattern: Hashable, Sendable, CustomStringConvertible {
    /// Every path.
    case any
    /// Exactly this path.
    case exact(String)
    /// Paths that start with this string, character-wise (`/api*` matches `/apix`).
    case prefix(String)
    /// Paths that end with this string (`*.php`).
    case suffix(String)
    /// Paths that contain this string (`*admin*`).
    case contains(String)
    /// A Go `path.Match` glob (`*` and `?` do not cross `/`).
    case glob(String)
    /// The path itself and everything below it, segment-wise (`/api` matches `/api`
    /// and `/api/x`, not `/apix`): Kubernetes' `Prefix` path type.
    case segmentPrefix(String)
    /// An unanchored Go regular expression (Traefik's PathRegexp).
    case regex(String)

    /// Parses a Caddy path pattern (already lower-cased by the caller when matching is
    /// case-insensitive), with Caddy's own fast paths: one trailing `*` is a prefix, one
    /// leading `*` a suffix, `*x*` a substring, no wildcard an exact path.
    public static func caddy(_ written: String) -> PathPattern {
        // `**` matches what `*` matches (within a segment, as path.Match does); folding
        // runs of stars keeps the expression a glob becomes linear to evaluate.
        var pattern = ""
        for character in written where !(character == "*" && pattern.last == "*") { pattern.append(character) }
        if pattern == "*" { return .any }
        let stars = pattern.filter { $0 == "*" }.count
        let hasGlobSyntax = pattern.contains("?") || pattern.contains("[")
        if stars == 0 && !hasGlobSyntax { return .exact(pattern) }
        if !hasGlobSyntax {
            if stars == 1 && pattern.hasSuffix("*") {
                let stem = String(pattern.dropLast())
                return stem == "/" || stem.isEmpty ? .any : .prefix(stem)
            }
            if stars == 1 && pattern.hasPrefix("*") { return .suffix(String(pattern.dropFirst())) }
            if stars == 2 && pattern.hasPrefix("*") && pattern.hasSuffix("*") && pattern.count > 2 {
                return .contains(String(pattern.dropFirst().dropLast()))
            }
        }
        return .glob(pattern)
    }

    /// Whether the pattern can match a path by its end or its middle rather than its
    /// start: suffixes, substrings, globs that begin with a wildcard, and regular
    /// expressions not anchored at the start.
    public var matchesAnywhere: Bool {
        switch self {
        case .suffix, .contains: true
        case .glob(let pattern): !pattern.hasPrefix("/")
        case .regex(let pattern): !(pattern.hasPrefix("^") || pattern.hasPrefix("(?i)^"))
        default: false
        }
    }

    /// How many `*` and `?` a glob holds (0 for the other kinds).
    public var wildcardCount: Int {
        if case .glob(let pattern) = self { return pattern.filter { $0 == "*" || $0 == "?" }.count }
        return 0
    }

    public func matches(_ path: String) -> Bool {
        switch self {
        case .any: true
        case .exact(let value): path == value
        case .prefix(let value): path.hasPrefix(value)
        case .suffix(let value): path.hasSuffix(value)
        case .contains(let value): path.contains(value)
        case .glob(let pattern): GoPathGlob.matches(pattern: Array(pattern.unicodeScalars), name: Array(path.unicodeScalars))
        case .segmentPrefix(let value):
            value == "/" || path == value || path.hasPrefix(value.hasSuffix("/") ? value : value + "/")
        case .regex(let pattern): RegexCache([pattern]).firstMatch(pattern, in: path)
        }
    }

    /// The literal text a request must begin with to match (empty when unknown).
    public var literalPrefix: String {
        switch self {
        case .any, .suffix, .contains: ""
        case .exact(let value), .prefix(let value), .segmentPrefix(let value): value
        case .glob(let pattern):
            String(pattern.prefix { $0 != "*" && $0 != "?" && $0 != "[" && $0 != "\\" })
        case .regex(let pattern):
            Self.regexLiteralStart(pattern)
        }
    }

    /// The text every match of an expression anchored with `^` begins with: up to the
    /// first operator, less a last character a quantifier makes optional.
    static func regexLiteralStart(_ pattern: String) -> String {
        guard pattern.hasPrefix("^"), !RegexCache.hasTopLevelAlternation(Array(pattern.utf8)) else { return "" }
        let body = pattern.dropFirst()
        var literal = String(body.prefix { !"\\.+*?()|[]{}^$".contains($0) })
        if let next = body.dropFirst(literal.count).first, "*?{".contains(next), !literal.isEmpty { literal.removeLast() }
        return literal
    }

    /// Paths inside the pattern that tell its edges apart: the pattern's own boundary,
    /// one segment below it, and a character beyond it. The coverage check evaluates
    /// source and output on these.
    public var samplePaths: [String] {
        switch self {
        case .any: return ["/", "/authgate-probe", "/authgate-probe/x"]
        case .exact(let value): return [value]
        case .prefix(let value):
            var samples = [value, value + "x", value + "x/y"]
            if value.hasSuffix("/") { samples.append(value + "x/") } else { samples.append(value + "/x") }
            return samples
        case .segmentPrefix(let value):
            let stem = value.hasSuffix("/") && value.count > 1 ? String(value.dropLast()) : value
            return stem == "/" ? ["/", "/x"] : [stem, stem + "/", stem + "/x", stem + "x"]
        case .regex(let pattern):
            // A case-insensitive expression's literal start is sampled in its own
            // spelling (its other spellings match too).
            let literal = pattern.hasPrefix("(?i)^") ? Self.regexLiteralStart(String(pattern.dropFirst(4))) : literalPrefix
            var samples = literal.isEmpty ? ["/"] : [literal, literal + "x", literal + "/x"]
            if let generated = RegexSample.generate(pattern) { samples.insert(generated, at: 0) }
            return samples
        case .suffix(let value): return ["/x" + value, "/x/y" + value]
        case .contains(let value): return ["/x" + value, "/x" + value + "/y", value.hasPrefix("/") ? value : "/" + value]
        case .glob(let pattern):
            var text = ""
            var escaped = false
            var inClass = false
            var classFirst: Character?
            for character in pattern {
                if escaped { text.append(character); escaped = false; continue }
                if inClass {
                    if character == "]" { inClass = false; text.append(classFirst ?? "a"); classFirst = nil }
                    else if classFirst == nil && character != "^" { classFirst = character }
                    continue
                }
                switch character {
                case "\\": escaped = true
                case "*": text += "x"
                case "?": text += "x"
                case "[": inClass = true
                default: text.append(character)
                }
            }
            return [text]
        }
    }

    public var description: String {
        switch self {
        case .any: "*"
        case .exact(let value): value
        case .prefix(let value): value + "*"
        case .suffix(let value): "*" + value
        case .contains(let value): "*" + value + "*"
        case .glob(let pattern): pattern
        case .segmentPrefix(let value): value + " (segments)"
        case .regex(let pattern): "~" + pattern
        }
    }
}

/// Go's `path.Match`: `*` matches any run of non-`/` characters, `?` one non-`/`
/// character, `[...]` a class (with `^` negation and ranges), `\` escapes.
enum GoPathGlob {
    static func matches(pattern: [Unicode.Scalar], name: [Unicode.Scalar]) -> Bool {
        var memo: [Int: Bool] = [:]
        func match(_ p: Int, _ n: Int) -> Bool {
            let key = p * (name.count + 1) + n
            if let known = memo[key] { return known }
            let result: Bool
            if p == pattern.count {
                result = n == name.count
            } else {
                switch pattern[p] {
                case "*":
                    var end = n
                    var found = match(p + 1, end)
                    while !found && end < name.count && name[end] != "/" {
                        end += 1
                        found = match(p + 1, end)
                    }
                    result = found
                case "?":
                    result = n < name.count && name[n] != "/" && match(p + 1, n + 1)
                case "[":
                    if n < name.count, name[n] != "/", let (matched, next) = matchClass(pattern, p, name[n]) {
                        result = matched && match(next, n + 1)
                    } else {
                        result = false
                    }
                case "\\":
                    result = p + 1 < pattern.count && n < name.count && pattern[p + 1] == name[n] && match(p + 2, n + 1)
                default:
                    result = n < name.count && pattern[p] == name[n] && match(p + 1, n + 1)
                }
            }
            memo[key] = result
            return result
        }
        return match(0, 0)
    }

    /// Matches one character against the class starting at `start` (`[`); returns
    /// whether it matched and the index after the class, or nil for a malformed class.
    private static func matchClass(_ pattern: [Unicode.Scalar], _ start: Int, _ character: Unicode.Scalar) -> (Bool, Int)? {
        var index = start + 1
        var negated = false
        if index < pattern.count && pattern[index] == "^" { negated = true; index += 1 }
        var matched = false
        var first = true
        while index < pattern.count {
            if pattern[index] == "]" && !first { return (matched != negated, index + 1) }
            first = false
            var low = pattern[index]
            if low == "\\" { index += 1; guard index < pattern.count else { return nil }; low = pattern[index] }
            index += 1
            var high = low
            if index + 1 < pattern.count && pattern[index] == "-" && pattern[index + 1] != "]" {
                high = pattern[index + 1]
                if high == "\\" { guard index + 2 < pattern.count else { return nil }; high = pattern[index + 2]; index += 1 }
                index += 2
            }
            if low.value <= character.value && character.value <= high.value { matched = true }
        }
        return nil
    }
}
