/// Caddy's upstream address forms for `reverse_proxy` and `forward_auth`:
/// `host:port`, `host` (port 80, or 443 for https), `:port` (localhost),
/// `http://host[:port]`, `https://host[:port]`, `h2c://host[:port]`, `[v6]:port`,
/// port ranges (`host:8001-8002`, one upstream per port) and Unix sockets
/// (`unix//run/app.sock`, on the Caddy host like `localhost`).
///
/// `--upstream FROM=TO` says where an upstream outside the cluster lives in it; it is
/// looked up by the address as written and by its `host:port`.
enum UpstreamAddress {
    /// A port range longer than this is surely a typo.
    static let maximumRange = 64

    /// What an upstream token stands for: the upstreams, or a placeholder only Caddy
    /// can fill in (`{http.request.host}`, an out-of-range `{args[0]}`).
    enum Parsed {
        case upstreams([Upstream])
        case placeholder(String)
    }

    static func parse(_ token: Token, transportTLS: Bool = false, mappings: [String: String] = [:], environment: [String: String] = [:], reader: inout CaddySiteReader) throws(DiagnosticError) -> Parsed {
        var token = token
        if let mapped = mapping(for: token.text, transportTLS: transportTLS, in: mappings) {
            var target = token
            target.text = mapped
            return .upstreams([try parse(target, transportTLS: transportTLS)])
        }
        if token.text.contains("{env.") {
            // Caddy fills {env.VAR} in when it runs, from its own environment; authgate
            // reads the environment it is given instead.
            var text = token.text
            while let start = text.range(of: "{env."), let end = text[start.upperBound...].firstIndex(of: "}") {
                let name = String(text[start.upperBound..<end])
                guard let value = environment[name] else { return .placeholder("{env.\(name)}") }
                text.replaceSubrange(start.lowerBound...end, with: value)
            }
            reader.diagnostics.append(.note("upstream '\(token.text)' is read as '\(text)' from the environment authgate was given; Caddy reads {env.*} when it runs, from its own", at: token.location, importChain: token.importChain))
            token.text = text
            if let mapped = mapping(for: text, transportTLS: transportTLS, in: mappings) { token.text = mapped }
        }
        if let open = token.text.firstIndex(of: "{"), let close = token.text[open...].firstIndex(of: "}") {
            return .placeholder(String(token.text[open...close]))
        }
        for (prefix, scheme) in [("unix/", transportTLS ? Upstream.Scheme.https : .http), ("unix+h2c/", .h2c)] where token.text.hasPrefix(prefix) {
            let path = String(token.text.dropFirst(prefix.count))
            return .upstreams([Upstream(scheme: scheme, host: "unix/" + path, port: 80)])
        }
        if let range = portRange(token.text) {
            guard range.count <= maximumRange else {
                throw token.error("upstream '\(token.text)' names \(range.count) ports; authgate converts ranges of at most \(maximumRange)")
            }
            let base = String(token.text[..<token.text.lastIndex(of: ":")!])
            var upstreams: [Upstream] = []
            for port in range {
                var single = token
                single.text = "\(base):\(port)"
                if let mapped = mapping(for: single.text, transportTLS: transportTLS, in: mappings) { single.text = mapped }
                upstreams.append(try parse(single, transportTLS: transportTLS))
            }
            return .upstreams(upstreams)
        }
        return .upstreams([try parse(token, transportTLS: transportTLS)])
    }

    /// `8001-8002` at the end of an address.
    private static func portRange(_ text: String) -> ClosedRange<Int>? {
        guard let colon = text.lastIndex(of: ":"), !text.hasSuffix("]") else { return nil }
        let parts = text[text.index(after: colon)...].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), (1...65535).contains(low), (low...65535).contains(high) else { return nil }
        return low...high
    }

    /// The `--upstream` target for an address, looked up as written, then by
    /// `host:port` with Caddy's default port.
    static func mapping(for text: String, transportTLS: Bool, in mappings: [String: String]) -> String? {
        if mappings.isEmpty { return nil }
        if let exact = mappings[text] { return exact }
        let token = Token(text: text, line: 0, location: SourceLocation(file: "", line: 0, column: 0))
        guard let upstream = try? parse(token, transportTLS: transportTLS) else { return nil }
        let shownHost = upstream.host.contains(":") ? "[\(upstream.host)]" : upstream.host
        for key in ["\(shownHost):\(upstream.port)", upstream.description] {
            if let found = mappings[key] { return found }
        }
        if upstream.placement == .loopback, let found = mappings[":\(upstream.port)"] ?? mappings["localhost:\(upstream.port)"] { return found }
        return nil
    }

    /// One literal address.
    static func parse(_ token: Token, transportTLS: Bool = false) throws(DiagnosticError) -> Upstream {
        let text = token.text
        if text.contains("{") {
            throw token.error("upstream '\(text)' holds a placeholder, which is resolved only when Caddy runs; write the address out to migrate it")
        }
        var rest = Substring(text)
        var scheme = transportTLS ? Upstream.Scheme.https : .http
        if let separator = rest.range(of: "://") {
            let written = rest[..<separator.lowerBound].lowercased()
            switch written {
            case "http": scheme = .http
            case "https": scheme = .https
            case "h2c": scheme = .h2c
            default:
                throw token.error("upstream scheme '\(written)://' cannot be migrated; Gateway API backends are HTTP, HTTPS or h2c Services")
            }
            rest = rest[separator.upperBound...]
        } else if rest.hasPrefix("unix/") {
            return Upstream(scheme: scheme, host: String(rest), port: 80)
        }
        if let slash = rest.firstIndex(of: "/") {
            throw token.error("upstream '\(text)' has a path ('\(rest[slash...])'); Caddy refuses paths in upstream addresses, use rewrite or handle_path instead")
        }
        var host = String(rest)
        var portText = ""
        if let split = SiteAddress.splitHostPort(rest) {
            (host, portText) = split
        } else if rest.hasPrefix("[") && rest.hasSuffix("]") {
            host = String(rest.dropFirst().dropLast())
        }
        if host.isEmpty { host = "localhost" }
        // Caddy dials such a host literally and fails when a request comes; written
        // first on a directive, it is usually a path pattern that is no matcher token.
        if let bad = host.first(where: { "*?[]@!$&'()+,;=%\\\"<>^`|~ ".contains($0) }) {
            let hint = text.hasPrefix("*") ? "; an inline matcher must start with '/' or be '*' or '@name', so use a named matcher (@m path \(text)) for this pattern" : ""
            throw token.error("upstream '\(text)' is not a host name ('\(bad)' cannot appear in one)\(hint)")
        }
        let port: Int
        if portText.isEmpty {
            port = scheme == .https ? 443 : 80
        } else if portText.contains("-") {
            throw token.error("upstream '\(text)' names a port range; give each upstream its own port")
        } else if let number = Int(portText), (1...65535).contains(number) {
            port = number
        } else {
            throw token.error("invalid port '\(portText)' in upstream '\(text)'")
        }
        return Upstream(scheme: scheme, host: host.lowercased(), port: port)
    }
}

extension Upstream {
    /// `http://host[:port]` or `https://host[:port]` as an upstream (for flags); nil when
    /// it is not one.
    public static func url(_ text: String) -> Upstream? {
        guard text.hasPrefix("http://") || text.hasPrefix("https://"), !text.contains("{") else { return nil }
        let trimmed = text.hasSuffix("/") ? String(text.dropLast()) : text
        let token = Token(text: trimmed, line: 1, location: SourceLocation(file: "", line: 1, column: 1))
        return try? UpstreamAddress.parse(token)
    }
}
