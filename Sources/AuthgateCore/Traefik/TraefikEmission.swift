/// What the Traefik emitter wrote, with what the coverage check and report need to
/// read it back: the typed routes, what each Middleware does, how each source upstream
/// is reached.
public struct TraefikEmission: Sendable {
    /// Every object, in output order.
    public var objects: [KubeObject]
    public var routes: [HTTPRoute]
    /// What each written Middleware does, keyed `namespace/name`. A filter naming a
    /// Middleware that is not here is one Traefik cannot resolve (it answers 500).
    public var middlewareEffects: [String: MiddlewareEffect]
    /// The backendRef (namespace filled in) each source upstream became.
    public var backendRefs: [Upstream: BackendRef]
    /// Authentik servers outside the cluster: their own paths
    /// (`/outpost.goauthentik.io/…`) go to the new outpost instead; any other path to
    /// them (Authentik's UI) still goes to `backendRefs`.
    public var outpostRefs: [Upstream: BackendRef] = [:]
    /// For each site of the plan, the indices of the routes written for it.
    public var routesOfSite: [[Int]]
    /// The namespace of routes whose source has none (`--namespace`).
    public var defaultNamespace = "default"
    /// `--case-sensitive-paths` (see `TraefikOptions`).
    public var caseSensitivePaths = false
    /// The coverage check's findings on these objects (filled in by the emitter,
    /// which runs the check to compensate what it can).
    public var findings: [CoverageFinding] = []
}

extension TraefikEmission {
    /// The backendRef a request for `path` to `upstream` reaches.
    public func ref(for upstream: Upstream, path: String) -> BackendRef? {
        if let outpost = outpostRefs[upstream], OutpostPath.contains(path) { return outpost }
        return backendRefs[upstream]
    }
}

/// Authentik's outpost serves everything under `/outpost.goauthentik.io/`.
enum OutpostPath {
    static func contains(_ path: String) -> Bool {
        path.lowercased().hasPrefix(String(AuthentikOutpostPaths.prefix.dropLast()))
    }

    /// Whether the path is under the prefix as spelled (the route authgate adds for
    /// the outpost is case-sensitive).
    static func containsExactly(_ path: String) -> Bool {
        path == String(AuthentikOutpostPaths.prefix.dropLast()) || path.hasPrefix(AuthentikOutpostPaths.prefix)
    }

    /// Whether every path a pattern matches lies under the outpost's prefix.
    static func covers(_ pattern: PathPattern) -> Bool {
        switch pattern {
        case .exact(let value), .prefix(let value), .segmentPrefix(let value): contains(value)
        case .glob: contains(pattern.literalPrefix)
        default: false
        }
    }
}

public enum MiddlewareEffect: Sendable, Hashable {
    /// Forward auth or basic auth: the index of the plan's auth provider.
    case auth(Int)
    case stripPrefix(String)
    /// Traefik's stripPrefixRegex with `(?i)^prefix`.
    case stripPrefixIgnoringCase(String)
    case addPrefix(String)
    case replacePath(String)
    /// A `chain` of other Middlewares, in order.
    case chain([String])
    /// Traefik's ipAllowList: clients outside these ranges are refused with 403.
    case ipAllowList([IPRange])
    /// A Middleware copied from the input that does not change routing.
    case passthrough
}
