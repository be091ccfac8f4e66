/// Source path patterns as Gateway API path matches, for Traefik.
///
/// `Exact` and `PathPrefix` only where the value is one the CRD accepts (its character
/// set, no `//`, `/./`, `%2f`…); everything else, and every pattern Gateway API has no
/// type for, is an anchored `RegularExpression` (Traefik runs it unanchored, so the
/// anchors are written out).
enum GatewayPathMatch {
    static func match(for pattern: PathPattern) -> PathMatch {
        switch pattern {
        case .any:
            return PathMatch(.pathPrefix, "/")
        case .exact(let value):
            return isPlainPath(value) ? PathMatch(.exact, value) : PathMatch(.regularExpression, "^" + quote(value) + "$")
        case .prefix(let value):
            if value.hasSuffix("/") && isPlainPath(value) { return PathMatch(.pathPrefix, value) }
            return PathMatch(.regularExpression, "^" + quote(value))
        case .suffix(let value):
            return PathMatch(.regularExpression, quote(value) + "$")
        case .contains(let value):
            return PathMatch(.regularExpression, quote(value))
        case .glob(let value):
            return PathMatch(.regularExpression, "^" + globRegex(value) + "$")
        case .segmentPrefix(let value):
            if isPlainPath(value) { return PathMatch(.pathPrefix, value) }
            let stem = String(value.trimmingSuffix("/"))
            return PathMatch(.regularExpression, "^" + quote(stem) + "(/|$)")
        case .regex(let value):
            // Traefik's PathRegexp and a Gateway RegularExpression are both unanchored
            // Go regexps: the same string means the same paths.
            return PathMatch(.regularExpression, value)
        }
    }

    /// What the CRD allows for Exact and PathPrefix values.
    static func isPlainPath(_ value: String) -> Bool {
        guard value.hasPrefix("/") else { return false }
        for bad in ["//", "/./", "/../", "%2f", "%2F", "#"] where value.contains(bad) { return false }
        if value.hasSuffix("/..") || value.hasSuffix("/.") { return false }
        let allowed = Set("-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._~!$&'()*+,;=:@".unicodeScalars)
        let scalars = Array(value.unicodeScalars)
        var index = 0
        while index < scalars.count {
            if scalars[index] == "%" {
                guard index + 2 < scalars.count, scalars[index + 1].properties.isASCIIHexDigit, scalars[index + 2].properties.isASCIIHexDigit else { return false }
                index += 3
                continue
            }
            guard allowed.contains(scalars[index]) else { return false }
            index += 1
        }
        return true
    }

    /// Go's `regexp.QuoteMeta`, and a backtick written as `\x60`: Traefik puts the
    /// value between backticks in its rule (PathRegexp(`…`)), and a bare backtick would
    /// break the rule so Traefik drops the router.
    static func quote(_ text: String) -> String {
        var result = ""
        for character in text {
            if character == "`" {
                result += "\\x60"
                continue
            }
            if "\\.+*?()|[]{}^$".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }

    /// A Go `path.Match` glob as a regular expression: `*` is `[^/]*`, `?` is `[^/]`.
    static func globRegex(_ glob: String) -> String {
        var result = ""
        var characters = Array(glob)[...]
        while let character = characters.popFirst() {
            switch character {
            case "*":
                if !result.hasSuffix("[^/]*") { result += "[^/]*" }
            case "?": result += "[^/]"
            case "\\":
                if let next = characters.popFirst() { result += quote(String(next)) }
            case "[":
                var body = ""
                var closed = false
                if characters.first == "^" { body += "^"; characters.removeFirst() }
                while let next = characters.popFirst() {
                    if next == "]" && !(body.isEmpty || body == "^") { closed = true; break }
                    if next == "\\" || next == "[" { body += "\\" }
                    body.append(next)
                }
                result += closed ? "[" + body + "]" : quote("[" + body)
            default:
                result += quote(String(character))
            }
        }
        return result
    }
}
