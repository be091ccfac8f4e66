/// A site block key such as `https://app.example.com:8443/api`, split as Caddy's
/// `ParseAddress` splits it.
public struct SiteAddress: Hashable, Sendable, CustomStringConvertible {
    /// The key as written.
    public var original: String
    /// Lowercased scheme, or "" when none was written.
    public var scheme: String
    public var host: String
    /// The port as written, or "" when none was.
    public var port: String
    /// The path, starting with `/`, or "" when none was written.
    public var path: String
    public var location: SourceLocation
    /// `{$VAR}` placeholders in the key whose variable was not set.
    public var emptiedVariables: [String] = []

    public var description: String { original }

    /// Parses a key and applies Caddy's checks: a numeric port within 0…65535, and a
    /// scheme a site can listen with, matching the port's convention.
    public static func parse(_ key: Token, httpPort: Int = 80, httpsPort: Int = 443) throws(DiagnosticError) -> SiteAddress {
        var remaining = Substring(key.text.trimmingWhitespace())
        var scheme = ""
        if let separator = remaining.range(of: "://") {
            scheme = remaining[..<separator.lowerBound].lowercased()
            remaining = remaining[separator.upperBound...]
        }
        var hostPart = remaining
        var path = ""
        if let slash = remaining.firstIndex(of: "/") {
            hostPart = remaining[..<slash]
            path = String(remaining[slash...])
        }
        var host = String(hostPart)
        var port = ""
        if let split = splitHostPort(hostPart) ?? splitHostPort(hostPart + ":") {
            (host, port) = split
        }
        if !port.isEmpty {
            guard let number = goAtoi(port) else {
                throw key.error("invalid port '\(port)' in site address '\(key.text)'")
            }
            guard (0...65535).contains(number) else {
                throw key.error("port \(number) is out of range in site address '\(key.text)'")
            }
        }
        switch scheme {
        case "", "http", "https": break
        case "wss": throw key.error("the scheme wss:// is only supported in browsers; use https:// instead")
        case "ws": throw key.error("the scheme ws:// is only supported in browsers; use http:// instead")
        default: throw key.error("unsupported URL scheme \(scheme):// in site address '\(key.text)'; a site is http:// or https://")
        }
        if let number = goAtoi(port), (scheme == "http" && number == httpsPort) || (scheme == "https" && number == httpPort) {
            throw key.error("site address '\(key.text)': scheme and port violate convention (\(scheme):// on port \(number))")
        }
        var address = SiteAddress(original: key.text, scheme: scheme, host: host, port: port, path: path, location: key.location)
        address.emptiedVariables = key.emptiedVariables
        return address
    }

    /// Go's `net.SplitHostPort`: nil where Go returns an error.
    static func splitHostPort(_ text: Substring) -> (String, String)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host: Substring
        var searchFrom = text.startIndex
        var closeFrom = text.startIndex
        if text.first == "[" {
            guard let end = text.firstIndex(of: "]") else { return nil }
            let afterEnd = text.index(after: end)
            if afterEnd == text.endIndex { return nil }
            if afterEnd != colon { return nil }
            host = text[text.index(after: text.startIndex)..<end]
            searchFrom = text.index(after: text.startIndex)
            closeFrom = afterEnd
        } else {
            host = text[..<colon]
            if host.contains(":") { return nil }
        }
        if text[searchFrom...].contains("[") { return nil }
        if text[closeFrom...].contains("]") { return nil }
        return (String(host), String(text[text.index(after: colon)...]))
    }

    /// Go's `strconv.Atoi`: an optional sign and decimal digits.
    static func goAtoi(_ text: String) -> Int? {
        guard !text.isEmpty else { return nil }
        var digits = Substring(text)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return text
    }
}
