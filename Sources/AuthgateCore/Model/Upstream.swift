/// A server a request can be proxied to, as the source named it.
public struct Upstream: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable, Comparable {
        case http, https, h2c
        public static func < (lhs: Scheme, rhs: Scheme) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Where the upstream lives, seen from a Kubernetes cluster.
    public enum Placement: Sendable, Hashable {
        /// A Service: `name` alone (a compose service name, taken to be in the route's
        /// namespace) or `name.namespace[.svc[.cluster.local]]`.
        case service(name: String, namespace: String?)
        /// A literal IPv4 or IPv6 address outside the cluster.
        case ip(String, v6: Bool)
        /// A host name outside the cluster.
        case externalHost(String)
        /// The proxy's own machine (`localhost`, `127.0.0.1`, `::1`): nothing in the
        /// cluster can reach it.
        case loopback
    }

    public var scheme: Scheme
    /// Lower-case host as written (IPv6 without brackets), or the Service's name.
    public var host: String
    public var port: Int
    /// Set when the source names a Service directly (an Ingress backend): `host` is
    /// the Service's name and this its namespace.
    public var serviceNamespace: String?

    public init(scheme: Scheme, host: String, port: Int, serviceNamespace: String? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.serviceNamespace = serviceNamespace
    }

    public var description: String {
        if let serviceNamespace { return "\(serviceNamespace)/\(host):\(port)" }
        if host.hasPrefix("unix/") { return host }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return (scheme == .http ? "" : "\(scheme.rawValue)://") + "\(shownHost):\(port)"
    }

    public static func < (lhs: Upstream, rhs: Upstream) -> Bool {
        (lhs.host, lhs.port, lhs.scheme) < (rhs.host, rhs.port, rhs.scheme)
    }

    public var placement: Placement {
        if let serviceNamespace { return .service(name: host, namespace: serviceNamespace) }
        if host == "localhost" || host.hasSuffix(".localhost") || host == "::1" || host.hasPrefix("127.") && IPAddress.isIPv4(host) || host.hasPrefix("unix/") {
            return .loopback
        }
        if IPAddress.isIPv4(host) { return .ip(host, v6: false) }
        if host.contains(":") { return .ip(host, v6: true) }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if labels.count == 1 { return .service(name: host, namespace: nil) }
        if labels.count == 2 && !TopLevelDomains.isOutsideSuffix(labels[1]) {
            return .service(name: labels[0], namespace: labels[1])
        }
        if labels.count == 3 && labels[2] == "svc" { return .service(name: labels[0], namespace: labels[1]) }
        if labels.count == 5 && labels[2...] == ["svc", "cluster", "local"] {
            return .service(name: labels[0], namespace: labels[1])
        }
        return .externalHost(host)
    }

    /// Whether the upstream is already a Service of the cluster it will run in: written
    /// as `name.namespace…` (a bare name is a compose service, not proof of that).
    public var isInClusterService: Bool {
        if case .service(_, let namespace?) = placement { return namespace != "" }
        return false
    }
}

enum IPAddress {
    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && (Int(part) ?? 256) <= 255
        }
    }
}

/// A forward-auth configuration: where requests are sent to be checked, and what the
/// answer passes on. Two `forward_auth` directives configured alike are one provider.
public struct AuthProvider: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case authentik, authelia, oauth2Proxy = "oauth2-proxy", generic
        /// HTTP basic auth checked by the proxy itself (`basic_auth`): no auth server.
        case basicAuth = "basic-auth"
    }

    public var kind: Kind
    /// The auth server (nil for basic auth, which the proxy checks itself).
    public var upstream: Upstream?
    /// The endpoint path the source calls (`uri`), e.g. `/outpost.goauthentik.io/auth/caddy`.
    public var endpoint: String
    /// Response headers copied onto the request, with their source spelling. A renamed
    /// header is listed under its source name (the name the auth server sends).
    public var copyHeaders: [String]
    /// `A>B` renames the target cannot express: the auth server's name and the name the
    /// source gave the backend.
    public var renamedHeaders: [HeaderRename]
    /// Proxies whose `X-Forwarded-*` headers the source trusted (`trusted_proxies`).
    public var trustedProxies: [String]
    /// Headers the source set on the auth request (`header_up`).
    public var authRequestHeaders: HeaderChanges
    /// Where the `forward_auth` was written (the first, when several are alike).
    public var location: SourceLocation?
    /// Basic auth only: `user:hash` lines (bcrypt hashes, as htpasswd writes them).
    public var basicAuthUsers: [String] = []
    /// Basic auth only: the realm, when the source set one.
    public var realm: String?
    /// Basic auth only: HTTP digest auth (`htdigest` lines), Traefik's digestAuth.
    public var digest = false
    /// Basic auth only: the Secret the users come from, when the input did not hold it
    /// (the user must fill the new Secret).
    public var missingUsersSecret: String?
    /// Where an unauthenticated browser is sent, when the auth server does not redirect
    /// by itself (ingress-nginx `auth-signin`).
    public var signinURL: String?
    /// How the auth server is reached over HTTPS (`transport http { tls … }`), when it is.
    public var tls: TLS?

    public struct TLS: Sendable, Hashable {
        public var enabled = false
        public var insecureSkipVerify = false
        /// PEM files of the CAs the source trusted for the auth server.
        public var caFiles: [String] = []
        public init() {}
    }

    /// A configuration the source already wrote for the target, to copy as it is
    /// (a Traefik Middleware read from manifests): its name, namespace and spec.
    public var copied: CopiedMiddleware?

    public init(kind: Kind, upstream: Upstream?, endpoint: String, copyHeaders: [String] = [], renamedHeaders: [HeaderRename] = [], trustedProxies: [String] = [], authRequestHeaders: HeaderChanges = .init(), location: SourceLocation? = nil) {
        self.kind = kind
        self.upstream = upstream
        self.endpoint = endpoint
        self.copyHeaders = copyHeaders
        self.renamedHeaders = renamedHeaders
        self.trustedProxies = trustedProxies
        self.authRequestHeaders = authRequestHeaders
        self.location = location
    }

    /// Guesses the provider from the endpoint path each one documents.
    public static func kind(forEndpoint path: String) -> Kind {
        let lower = path.lowercased()
        if lower.hasPrefix("/outpost.goauthentik.io/") { return .authentik }
        if lower.hasPrefix("/api/authz/") || lower.hasPrefix("/api/verify") { return .authelia }
        if lower.hasPrefix("/oauth2/auth") { return .oauth2Proxy }
        return .generic
    }

    /// Equality ignores where it was written.
    public static func == (lhs: AuthProvider, rhs: AuthProvider) -> Bool {
        lhs.kind == rhs.kind && lhs.upstream == rhs.upstream && lhs.endpoint == rhs.endpoint
            && lhs.copyHeaders == rhs.copyHeaders && lhs.renamedHeaders == rhs.renamedHeaders
            && lhs.trustedProxies == rhs.trustedProxies && lhs.authRequestHeaders == rhs.authRequestHeaders
            && lhs.basicAuthUsers == rhs.basicAuthUsers && lhs.realm == rhs.realm && lhs.digest == rhs.digest && lhs.missingUsersSecret == rhs.missingUsersSecret && lhs.copied == rhs.copied && lhs.signinURL == rhs.signinURL && lhs.tls == rhs.tls
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(upstream)
        hasher.combine(endpoint)
        hasher.combine(copyHeaders)
    }
}

public struct HeaderRename: Sendable, Hashable {
    public var from: String
    public var to: String
    public var location: SourceLocation?

    public init(from: String, to: String, location: SourceLocation?) {
        self.from = from
        self.to = to
        self.location = location
    }

    public static func == (lhs: HeaderRename, rhs: HeaderRename) -> Bool { lhs.from == rhs.from && lhs.to == rhs.to }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(from)
        hasher.combine(to)
    }
}

/// A Traefik Middleware read from the input that the output copies as it is (into each
/// namespace whose routes use it), upgraded to `traefik.io/v1alpha1`.
public struct CopiedMiddleware: Sendable, Hashable {
    public var name: String
    public var namespace: String
    /// nil when the source refers to a Middleware the input does not hold: the output
    /// refers to it by name and writes nothing.
    public var spec: YAMLValue?
    public var location: SourceLocation?

    public init(name: String, namespace: String, spec: YAMLValue?, location: SourceLocation?) {
        self.name = name
        self.namespace = namespace
        self.spec = spec
        self.location = location
    }

    public static func == (lhs: CopiedMiddleware, rhs: CopiedMiddleware) -> Bool {
        lhs.name == rhs.name && lhs.namespace == rhs.namespace && lhs.spec == rhs.spec
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(namespace)
    }
}
