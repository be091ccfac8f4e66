/// Caddy's upstream address forms for `reverse_proxy` and `forward_auth`:
/// `host:port`, `host` (port 80, or 443 for https), `:port` (localhost),
/// `http://host[:port]`, `https://host[:port]`, `h2c://host[:port]`, `[v6]:port`.
/// Unix sockets, SRV and A lookups and placeholders cannot be migrated.
enum UpstreamAddress {
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
            throw token.error("upstream '\(text)' is a Unix socket; a Kubernetes backend must be a Service")
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
