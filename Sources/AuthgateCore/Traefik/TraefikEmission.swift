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
    /// For each site of the plan, the indices of the routes written for it.
    public var routesOfSite: [[Int]]
    /// The coverage check's findings on these objects (filled in by the emitter,
    /// which runs the check to compensate what it can).
    public var findings: [CoverageFinding] = []
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
}
