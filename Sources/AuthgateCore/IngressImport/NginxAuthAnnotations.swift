import Foundation

/// ingress-nginx's external auth annotations (`nginx.ingress.kubernetes.io/…`):
///
/// - `auth-url` → a forward-auth provider (Authentik's `/outpost.goauthentik.io/auth/nginx`
///   becomes `/auth/traefik` in the output; other URLs are kept);
/// - `auth-response-headers` → the headers copied from the auth answer;
/// - `auth-signin` → for Authentik a note (its Traefik endpoint redirects by itself); for
///   other providers Traefik's `authSigninURL`;
/// - `auth-method`, `auth-snippet`, `auth-cache-*`, `auth-proxy-set-headers`,
///   `auth-request-redirect`, `auth-keepalive*`, `auth-always-set-cookie` → a warning
///   each, saying what changes; any other nginx annotation → a warning naming it.
enum NginxAuthAnnotations {
    static let prefix = "nginx.ingress.kubernetes.io/"

    static func provider(for ingress: IngressResource, diagnostics: inout Diagnostics) -> AuthProvider? {
        var provider: AuthProvider?
        if let url = ingress.annotation(prefix + "auth-url") {
            guard let text = url.string, let upstream = IngressAuthAddress.upstream(text) else {
                diagnostics.append(.warning("auth-url '\(url.string ?? "")' is not an http(s) URL; the Ingress's paths are converted without auth", at: url.location))
                return nil
            }
            let endpoint = IngressAuthAddress.path(text)
            var headers: [String] = []
            if let response = ingress.annotation(prefix + "auth-response-headers")?.string {
                headers = response.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            var built = AuthProvider(kind: AuthProvider.kind(forEndpoint: endpoint), upstream: upstream, endpoint: endpoint, copyHeaders: headers, location: url.location)
            if let signin = ingress.annotation(prefix + "auth-signin") {
                if built.kind == .authentik {
                    diagnostics.append(.note("auth-signin is not needed with Traefik: Authentik's /outpost.goauthentik.io/auth/traefik endpoint redirects to the login page by itself", at: signin.location))
                } else {
                    built.signinURL = signin.string
                    diagnostics.append(.note("auth-signin becomes the Middleware's authSigninURL (Traefik 3.7 and later)", at: signin.location))
                }
            }
            provider = built
        }
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
        return provider
    }
}
