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
        if let variable = PostBuildSubstitution.unresolved(in: String(text)), !NginxAuthAnnotations.isNginxVariable(variable) {
            throw DiagnosticError(PostBuildSubstitution.message("auth-url", String(text), variable), at: url.location)
        }
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
                template.signinURL = signin.string?.trimmingCharacters(in: .whitespacesAndNewlines)
                if signin.string?.contains("rd=") == false {
                    // ingress-nginx appends rd=<the request's URL> itself.
                    diagnostics.append(.warning("auth-signin becomes the Middleware's authSigninURL (Traefik 3.7 and later), which Traefik uses as written: the rd= parameter ingress-nginx appended (the page asked for) is not sent, so after logging in, users land where the auth server sends them by default", at: signin.location))
                } else {
                    diagnostics.append(.note("auth-signin becomes the Middleware's authSigninURL (Traefik 3.7 and later)", at: signin.location))
                }
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

    /// What the access annotations other than `auth-url` do to the Ingress's requests.
    struct Access {
        var basicAuth: AuthProvider?
        var allowedSources: [IPRange] = []
        var unknown: [UnknownConstruct] = []
        /// ssl-redirect (on by default for the hosts of an Ingress with TLS) and
        /// force-ssl-redirect: plain-HTTP requests are sent to HTTPS with a 308.
        var sslRedirectHosts: Set<String> = []
        var forceSSLRedirect = false
        /// permanent-redirect / temporal-redirect: every request is redirected.
        var redirect: (url: String, status: Int, location: SourceLocation)?
        /// app-root: a request for `/` is redirected there (302).
        var appRoot: (path: String, location: SourceLocation)?
    }

    /// The nginx directives in a snippet that decide who gets what.
    static let accessDirectives: Set<String> = ["allow", "deny", "auth_request", "return", "if", "satisfy", "auth_basic", "auth_basic_user_file", "rewrite", "access_by_lua", "access_by_lua_block", "rewrite_by_lua_block", "proxy_pass", "location"]

    static func access(for ingress: IngressResource, resources: IngressResources, diagnostics: inout Diagnostics) throws(DiagnosticError) -> Access {
        var access = Access()
        func value(_ name: String) -> ManifestNode? { ingress.annotation(prefix + name) }
        func text(_ name: String) -> String? { value(name)?.string?.trimmingCharacters(in: .whitespacesAndNewlines) }

        if let type = text("auth-type")?.lowercased(), type == "basic" || type == "digest" {
            let location = value("auth-type")!.location
            guard let written = text("auth-secret"), !written.isEmpty else {
                throw DiagnosticError("auth-type \(type) needs auth-secret (the Secret holding the users); ingress-nginx refuses the annotation without it", at: location)
            }
            let key = written.contains("/") ? written : ingress.namespace + "/" + written
            var provider = AuthProvider(kind: .basicAuth, upstream: nil, endpoint: "", location: location)
            provider.digest = type == "digest"
            provider.realm = text("auth-realm")
            if let data = resources.secrets[key] {
                if text("auth-secret-type") == "auth-map" {
                    provider.basicAuthUsers = data.keys.sorted().map { "\($0):\(data[$0]!.trimmingCharacters(in: .whitespacesAndNewlines))" }
                } else {
                    guard let file = data["auth"] else {
                        throw DiagnosticError("Secret \(key) (auth-secret) has no key 'auth', where ingress-nginx reads the htpasswd lines of auth-file", at: value("auth-secret")!.location)
                    }
                    provider.basicAuthUsers = file.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
                }
                for line in provider.basicAuthUsers where !type.isEmpty {
                    let hash = line.split(separator: ":", maxSplits: provider.digest ? 2 : 1).last.map(String.init) ?? ""
                    if !provider.digest && !(hash.hasPrefix("$2a$") || hash.hasPrefix("$2b$") || hash.hasPrefix("$2y$") || hash.hasPrefix("$apr1$") || hash.hasPrefix("{SHA}")) {
                        diagnostics.append(.warning("a user of Secret \(key) has a password hash Traefik's basicAuth does not check (it takes bcrypt, apr1 MD5 and {SHA}); that user cannot log in until the hash is replaced (htpasswd -B)", at: value("auth-secret")!.location))
                        break
                    }
                }
            } else {
                provider.missingUsersSecret = key
            }
            access.basicAuth = provider
        } else if let type = value("auth-type") {
            throw DiagnosticError("auth-type '\(type.string ?? "")' is not one ingress-nginx knows (basic, digest)", at: type.location)
        }

        let allow = value("allowlist-source-range") ?? value("whitelist-source-range")
        if let allow {
            access.allowedSources = try IPRange.list(allow, annotation: value("allowlist-source-range") != nil ? "allowlist-source-range" : "whitelist-source-range")
        }
        if let deny = value("denylist-source-range"), !(deny.string ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            access.unknown.append(UnknownConstruct(
                construct: "denylist-source-range", location: deny.location,
                resolution: "ingress-nginx refused these clients with 403; Traefik has no deny list, and Gateway API cannot match on the client address. Express it as an allow list (allowlist-source-range), or drop the annotation if the deny list no longer matters"))
        }
        if let secret = value("auth-tls-secret"), text("auth-tls-verify-client")?.lowercased() != "off" {
            access.unknown.append(UnknownConstruct(
                construct: "auth-tls-secret (client certificates)", location: secret.location,
                resolution: "ingress-nginx asked clients for a certificate signed by \(secret.string ?? "the Secret's CA"); a Gateway checks client certificates on its HTTPS listener (Traefik: a TLSOption with clientAuth), which a route cannot set. Configure that on the listener, then drop the annotation"))
        }
        for name in ["configuration-snippet", "server-snippet", "auth-snippet"] {
            guard let snippet = value(name), let body = snippet.string else { continue }
            let used = Self.directives(in: body).filter { accessDirectives.contains($0) }
            if let first = used.first {
                access.unknown.append(UnknownConstruct(
                    construct: "\(name) (\(Array(Set(used)).sorted().joined(separator: ", ")))", location: snippet.location,
                    resolution: "the snippet's '\(first)' decides what these requests get, and nginx configuration has no Gateway API or Traefik equivalent; express it with Middlewares of the route's namespace, then drop the snippet"))
            }
        }
        let hasTLS = !ingress.tls.isEmpty
        if text("force-ssl-redirect")?.lowercased() == "true" { access.forceSSLRedirect = true }
        if hasTLS && text("ssl-redirect")?.lowercased() != "false" {
            for entry in ingress.tls {
                // A TLS entry without hosts covers the Ingress's hosts (the default
                // certificate).
                let hosts = entry.hosts.isEmpty ? ingress.rules.compactMap(\.host) : entry.hosts
                access.sslRedirectHosts.formUnion(hosts.map { $0.lowercased() })
            }
        }
        if let url = text("temporal-redirect") ?? text("permanent-redirect"), !url.isEmpty {
            let temporal = text("temporal-redirect") != nil
            let codeText = text(temporal ? "temporal-redirect-code" : "permanent-redirect-code")
            let status = codeText.flatMap(Int.init) ?? (temporal ? 302 : 301)
            access.redirect = (url, status, value(temporal ? "temporal-redirect" : "permanent-redirect")!.location)
        }
        if let root = text("app-root"), root.hasPrefix("/") {
            access.appRoot = (root, value("app-root")!.location)
        }
        return access
    }

    /// The directive names of an nginx snippet: the first word of each statement.
    static func directives(in snippet: String) -> [String] {
        var names: [String] = []
        var atStart = true
        var word = ""
        var quote: Character?
        for character in snippet {
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            if character == "\"" || character == "'" { quote = character; atStart = false; continue }
            if character == ";" || character == "{" || character == "}" || character == "\n" {
                if !word.isEmpty && atStart { names.append(word) }
                word = ""
                atStart = true
                continue
            }
            if character == "#" { word = ""; atStart = false; continue }
            if character.isWhitespace {
                if !word.isEmpty { if atStart { names.append(word) }; atStart = false; word = "" }
                continue
            }
            if atStart { word.append(character) }
        }
        if !word.isEmpty && atStart { names.append(word) }
        return names
    }

    /// `${host}`-style spellings of the variables nginx fills in (lower case, as nginx
    /// names them), which are not Flux's.
    static func isNginxVariable(_ variable: String) -> Bool {
        let name = variable.dropFirst(2).dropLast()
        return !name.isEmpty && name.allSatisfy { $0.isLowercase || $0 == "_" } && (hostVariables.contains("$" + name) || ["scheme", "request_uri", "escaped_request_uri", "uri", "args", "query_string", "remote_addr", "server_name"].contains(String(name)) || name.hasPrefix("http_") || name.hasPrefix("arg_") || name.hasPrefix("cookie_"))
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
            case "auth-url", "auth-response-headers", "auth-signin", "use-regex", "auth-type", "auth-secret", "auth-secret-type", "auth-realm",
                 "whitelist-source-range", "allowlist-source-range", "denylist-source-range", "ssl-redirect", "force-ssl-redirect",
                 "permanent-redirect", "permanent-redirect-code", "temporal-redirect", "temporal-redirect-code", "app-root", "rewrite-target":
                continue
            case "auth-tls-secret", "auth-tls-verify-client", "enable-global-auth":
                continue
            case "configuration-snippet", "server-snippet" where !directives(in: value.string ?? "").contains(where: accessDirectives.contains):
                diagnostics.append(.warning("\(name) is nginx configuration and cannot be migrated; check what it did (authgate found no access directive in it)", at: value.location))
            case "auth-method":
                diagnostics.append(.warning("auth-method is not migrated: Traefik's forwardAuth sends the request's own method (preserveRequestMethod) or GET", at: value.location))
            case "configuration-snippet", "server-snippet":
                continue
            case "auth-snippet" where directives(in: value.string ?? "").contains(where: accessDirectives.contains):
                continue
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
