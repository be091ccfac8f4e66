import Foundation

/// ingress-nginx's external auth annotations (`nginx.ingress.kubernetes.io/…`):
///
/// - `auth-url` → a forward-auth provider, its query string kept (Authentik's
///   `/outpost.goauthentik.io/auth/nginx` becomes `/auth/traefik` in the output; other
///   URLs are kept); `$host` as the URL's host is the Service the request's own host
///   routes the path to; any other nginx variable makes the paths unknown;
/// - `auth-response-headers` → the headers copied from the auth answer;
/// - `auth-signin` → for Authentik a note (its Traefik endpoint redirects by itself); for
///   other providers Traefik's `authSigninURL`;
/// - `auth-method`, `auth-snippet`, `auth-cache-*`, `auth-proxy-set-headers`,
///   `auth-request-redirect`, `auth-keepalive*`, `auth-always-set-cookie` → a warning
///   each, saying what changes; any other nginx annotation → a warning naming it.
enum NginxAuthAnnotations {
    static let prefix = "nginx.ingress.kubernetes.io/"

    /// What `auth-url` makes of the Ingress's requests.
    enum ExternalAuth {
        case none
        case provider(AuthProvider)
        /// `https://$host/oauth2/auth`: the auth server is whatever the request's own
        /// host routes that path to (oauth2-proxy's documented setup); resolved per host
        /// once every Ingress is read.
        case hostRelative(template: AuthProvider, path: String, location: SourceLocation)
        case unknown(UnknownConstruct)
    }

    /// The nginx variables that stand for the request's host in a URL's host part.
    static let hostVariables: Set<String> = ["$host", "$http_host", "$best_http_host"]

    static func externalAuth(for ingress: IngressResource, diagnostics: inout Diagnostics) throws(DiagnosticError) -> ExternalAuth {
        guard let url = ingress.annotation(prefix + "auth-url") else { return .none }
        let text = (url.string ?? "").trimmingWhitespace()
        guard let parsed = AuthURL(String(text)) else {
            throw DiagnosticError("auth-url '\(url.string ?? "")' is not an http:// or https:// URL with a host (ingress-nginx refuses the annotation and denies the Ingress's paths)", at: url.location)
        }
        var headers: [String] = []
        if let response = ingress.annotation(prefix + "auth-response-headers")?.string {
            headers = response.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        // The query is part of the address (Authelia's `?auth=basic`, oauth2-proxy's
        // `?allowed_groups=`), and of what makes two providers the same.
        let endpoint = parsed.pathAndQuery
        var template = AuthProvider(kind: AuthProvider.kind(forEndpoint: endpoint), upstream: nil, endpoint: endpoint, copyHeaders: headers, location: url.location)
        if let signin = ingress.annotation(prefix + "auth-signin") {
            if template.kind == .authentik {
                diagnostics.append(.note("auth-signin is not needed with Traefik: Authentik's /outpost.goauthentik.io/auth/traefik endpoint redirects to the login page by itself", at: signin.location))
            } else {
                template.signinURL = signin.string
                diagnostics.append(.note("auth-signin becomes the Middleware's authSigninURL (Traefik 3.7 and later)", at: signin.location))
            }
        }
        let variables = Self.variables(in: String(text))
        if Self.hostVariables.contains(parsed.authority.lowercased()), variables.count == 1 {
            return .hostRelative(template: template, path: parsed.path, location: url.location)
        }
        if let variable = variables.first {
            return .unknown(UnknownConstruct(
                construct: "auth-url '\(text)'", location: url.location,
                resolution: "nginx fills in \(variable) for each request, which a Traefik Middleware cannot; write the auth server's Service address (http://SERVICE.NAMESPACE.svc.cluster.local:PORT/path) in auth-url"))
        }
        guard let upstream = IngressAuthAddress.upstream(parsed.scheme + "://" + parsed.authority) else {
            throw DiagnosticError("auth-url '\(text)' has no usable host", at: url.location)
        }
        template.upstream = upstream
        return .provider(template)
    }

    /// `$name` and `${name}` in an nginx value, in order.
    static func variables(in text: String) -> [String] {
        var found: [String] = []
        var index = text.startIndex
        while let dollar = text[index...].firstIndex(of: "$") {
            var end = text.index(after: dollar)
            if end < text.endIndex, text[end] == "{", let close = text[end...].firstIndex(of: "}") {
                found.append("$" + text[text.index(after: end)..<close])
                index = text.index(after: close)
                continue
            }
            while end < text.endIndex, text[end].isASCII, text[end].isLetter || text[end].isNumber || text[end] == "_" { end = text.index(after: end) }
            if end > text.index(after: dollar) { found.append(String(text[dollar..<end])) }
            index = end
        }
        return found
    }

    /// The warnings for the Ingress's other ingress-nginx annotations.
    static func warnAboutOthers(_ ingress: IngressResource, diagnostics: inout Diagnostics) {
        for (key, value) in ingress.annotations where key.hasPrefix(prefix) {
            let name = String(key.dropFirst(prefix.count))
            switch name {
            case "auth-url", "auth-response-headers", "auth-signin", "use-regex":
                continue
            case "auth-method":
                diagnostics.append(.warning("auth-method is not migrated: Traefik's forwardAuth sends the request's own method (preserveRequestMethod) or GET", at: value.location))
            case "auth-snippet":
                diagnostics.append(.warning("auth-snippet is nginx configuration and cannot be migrated; check what it did to the auth request", at: value.location))
            case _ where name.hasPrefix("auth-cache"):
                diagnostics.append(.warning("\(name) is not migrated: Traefik's forwardAuth asks the auth server on every request (no cache)", at: value.location))
            case _ where name.hasPrefix("auth-"):
                diagnostics.append(.warning("\(name) is not migrated: Traefik's forwardAuth has no equivalent", at: value.location))
            default:
                diagnostics.append(.warning("ingress-nginx annotation \(name) is not migrated", at: value.location))
            }
        }
    }
}

/// An `http(s)://authority/path?query` URL as nginx takes it: no spaces, a host.
struct AuthURL {
    var scheme: String
    var authority: String
    var path: String
    var query: String?

    var pathAndQuery: String { path + (query.map { "?" + $0 } ?? "") }

    init?(_ text: String) {
        let lower = text.lowercased()
        guard let scheme = ["https", "http"].first(where: { lower.hasPrefix($0 + "://") }) else { return nil }
        self.scheme = scheme
        let rest = text.dropFirst(scheme.count + 3)
        guard !rest.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) else { return nil }
        authority = String(rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" })
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var tail = rest.dropFirst(authority.count).prefix { $0 != "#" }
        if let mark = tail.firstIndex(of: "?") {
            query = String(tail[tail.index(after: mark)...])
            tail = tail[..<mark]
        }
        path = tail.isEmpty ? "/" : String(tail)
    }
}
