/// What a migration must preserve, independent of any proxy's configuration format and
/// of Kubernetes: for each site, which requests reach which upstream, behind which
/// forward auth, rewritten how. Importers build it; target emitters turn it into
/// objects; the coverage check compares both sides through it.
public struct MigrationPlan: Sendable {
    public var sites: [SitePlan]
    /// Forward-auth configurations, referred to by index from `RequestOutcome.auth`.
    public var authProviders: [AuthProvider]
    /// Source objects the migration replaces (the Ingresses it converted).
    public var replacedObjects: [ObjectRef] = []
    /// Site addresses the source served that the output leaves out, and why.
    public var droppedSites: [DroppedSite] = []

    public init(sites: [SitePlan] = [], authProviders: [AuthProvider] = []) {
        self.sites = sites
        self.authProviders = authProviders
    }

    /// Every upstream any decision proxies to, in first-use order.
    public var upstreams: [Upstream] {
        var seen = Set<Upstream>()
        var result: [Upstream] = []
        for site in sites {
            for decision in site.decisions {
                if case .proxy(let targets) = decision.outcome.terminal {
                    for target in targets where seen.insert(target).inserted { result.append(target) }
                }
            }
        }
        return result
    }
}

/// A site address left out of the output. When the site guarded access, leaving it out
/// is a failure like a lost protection: the user must see it (`convert` exits 1).
public struct DroppedSite: Sendable, Hashable {
    public var address: String
    public var reason: String
    public var location: SourceLocation?
    public var wasProtected: Bool
}

/// One set of host names served the same way, with the routing decisions that apply
/// to them and the source's own behaviour to check the output against.
public struct SitePlan: Sendable {
    /// Lower-case host names; `*.example.com` is a wildcard. Empty means every host.
    public var hosts: [String]
    /// The namespace the site's routes belong in (an Ingress's); nil for sources that
    /// have none (a Caddyfile), where the target's default applies.
    public var namespace: String?
    /// The source's entry points or listeners these hosts were served on (Traefik's
    /// `router.entrypoints`); empty for every one.
    public var listeners: [String] = []
    /// On a plain-HTTP entry point the source redirected these hosts to HTTPS with this
    /// status (Traefik's redirectScheme); the routes serve on the HTTPS one.
    public var httpsRedirect: Int?
    /// The routes as the source decided them: each match with what a request it
    /// matches gets. More specific matches come first; a request takes the first
    /// decision whose match it meets.
    public var decisions: [RoutingDecision]
    /// What the source proxy did for any request to these hosts.
    public var behaviour: any SourceBehaviour
    /// Where the site was defined.
    public var location: SourceLocation?
    /// Patterns authgate found no path for (see `DecisionBuilder.unsampled`).
    public var unsampledPatterns: [PathPattern] = []
    /// Whether authgate added the Authentik outpost's own path, which the source did
    /// not route (Traefik needs it on every host Authentik protects).
    public var addedOutpostRoute = false

    public init(hosts: [String], decisions: [RoutingDecision], behaviour: any SourceBehaviour, location: SourceLocation?) {
        self.hosts = hosts
        self.decisions = decisions
        self.behaviour = behaviour
        self.location = location
    }
}

/// The source proxy's behaviour, evaluated for one request.
public protocol SourceBehaviour: Sendable {
    /// What a plain request for `path` on `host` got (the path as the client sent it).
    func outcome(host: String, path: String) -> RequestOutcome
    /// What a request for `path` on `host` with these method, headers, query and
    /// client address got.
    func outcome(host: String, path: String, request: RequestVariant) -> RequestOutcome
    /// Paths at which the source's behaviour may change: every matcher's boundary.
    var boundaryPatterns: [PathPattern] { get }
    /// The requests worth sending besides the path: the first is the plain one (it
    /// meets none of the source's conditions); each other meets some, with the
    /// HTTPRoute conditions that select it (empty where none can, as for a client
    /// address).
    var variants: [ProbeVariant] { get }
    /// Conditions the source tested that authgate cannot evaluate.
    var opaqueConditions: [OpaqueCondition] { get }
}

extension SourceBehaviour {
    public func outcome(host: String, path: String, request: RequestVariant) -> RequestOutcome { outcome(host: host, path: path) }
    public var variants: [ProbeVariant] { [ProbeVariant(request: .baseline, conditions: .none)] }
    public var opaqueConditions: [OpaqueCondition] { [] }

    /// The assignments of the opaque conditions the check evaluates: none holding,
    /// each alone, and all (a condition under `not` shows its effect either way).
    public var opaqueAssignments: [Set<Int>] {
        let ids = opaqueConditions.map(\.id)
        guard !ids.isEmpty else { return [[]] }
        var result: [Set<Int>] = [[]]
        for id in ids.prefix(16) { result.append([id]) }
        if ids.count > 1 { result.append(Set(ids)) }
        return result
    }
}

/// A request to probe besides its path, and the HTTPRoute conditions that select it.
public struct ProbeVariant: Sendable, Hashable {
    public var request: RequestVariant
    public var conditions: RequestConditions

    public init(request: RequestVariant, conditions: RequestConditions) {
        self.request = request
        self.conditions = conditions
    }
}

/// One routing decision: requests matching `match` (and no earlier decision) get
/// `outcome`.
public struct RoutingDecision: Sendable, Hashable {
    public var match: PathPattern
    /// What else the request must meet (method, headers, query); a decision with
    /// conditions outranks the plain one for its path.
    public var conditions: RequestConditions = .none
    public var outcome: RequestOutcome
    /// The directive or object that decided the outcome (the terminal handler).
    public var source: SourceLocation?

    public init(match: PathPattern, conditions: RequestConditions = .none, outcome: RequestOutcome, source: SourceLocation?) {
        self.match = match
        self.conditions = conditions
        self.outcome = outcome
        self.source = source
    }
}

/// What happens to a request: whether it passes forward auth first, how its path and
/// headers are changed, and where it ends.
public struct RequestOutcome: Sendable, Hashable {
    public enum Terminal: Sendable, Hashable {
        /// Proxied to these upstreams (load-balanced).
        case proxy([Upstream])
        /// Answered with a redirect.
        case redirect(Redirect)
        /// Answered by the proxy itself without reaching a backend (`respond`,
        /// `abort`, `file_server`, …); the directive names it.
        case answeredByProxy(directive: String)
        /// Nothing handled the request (Caddy answers an empty 200).
        case unhandled
    }

    public var terminal: Terminal
    /// Indices into `MigrationPlan.authProviders`, in the order the request passes them.
    public var auth: [Int]
    /// Path changes before the request reaches the terminal, in order.
    public var rewrites: [PathRewrite]
    /// How many of `rewrites` ran before the first auth: the auth server sees the path
    /// they made (Caddy's `handle_path` strips before a `forward_auth` inside it; a
    /// site-level `forward_auth` runs before the strip).
    public var rewritesBeforeAuth = 0
    /// Request header changes (`request_header`, `header_up`).
    public var requestHeaders: HeaderChanges
    /// Set when, on a plain-HTTP entry point, the source redirected this request to
    /// HTTPS with this status (Traefik's redirectScheme) instead of serving it.
    public var httpsRedirect: Int?
    /// Middlewares of the source the model does not interpret (rate limits, IP allow
    /// lists…), applied as they are.
    public var passthrough: [CopiedMiddleware] = []
    /// How many of `passthrough` ran before the first auth (Traefik's
    /// `router.middlewares` order: a rate limit written before the auth stays before it).
    public var passthroughBeforeAuth = 0
    /// Response header changes (`header`).
    public var responseHeaders: HeaderChanges
    /// Constructs authgate cannot evaluate that this request met (a plugin directive,
    /// `try_files`…): whatever they did to it, the output does not reproduce.
    public var unknown: [UnknownConstruct] = []
    /// Only clients from these ranges get this outcome; the others are refused (403),
    /// as the source's `remote_ip`/`client_ip` restriction did. Empty: every client.
    public var allowedSources: [IPRange] = []
    /// Where each handler that shaped this outcome was written (not part of equality).
    public var provenance: Provenance

    public init(terminal: Terminal, auth: [Int] = [], rewrites: [PathRewrite] = [], requestHeaders: HeaderChanges = .init(), responseHeaders: HeaderChanges = .init(), provenance: Provenance = .init()) {
        self.terminal = terminal
        self.auth = auth
        self.rewrites = rewrites
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
        self.provenance = provenance
    }

    public var isProtected: Bool { !auth.isEmpty || !allowedSources.isEmpty }

    /// Passes the request through an auth provider, after the rewrites so far.
    public mutating func addAuth(_ provider: Int, at location: SourceLocation?) {
        if auth.isEmpty { rewritesBeforeAuth = rewrites.count }
        auth.append(provider)
        if let location { provenance.auth.append(location) }
    }

    /// The upstreams the request reaches, if it reaches any.
    public var upstreams: [Upstream] {
        if case .proxy(let targets) = terminal { return targets }
        return []
    }

    /// The path the upstream receives for a request to `path`.
    public func upstreamPath(for path: String) -> String {
        rewrites.reduce(path) { $1.apply(to: $0) }
    }

    public static func == (lhs: RequestOutcome, rhs: RequestOutcome) -> Bool {
        lhs.terminal == rhs.terminal && lhs.auth == rhs.auth && lhs.rewrites == rhs.rewrites
            && lhs.requestHeaders == rhs.requestHeaders && lhs.responseHeaders == rhs.responseHeaders
            && lhs.passthrough == rhs.passthrough && lhs.passthroughBeforeAuth == rhs.passthroughBeforeAuth && lhs.httpsRedirect == rhs.httpsRedirect
            && lhs.unknown == rhs.unknown && lhs.allowedSources == rhs.allowedSources
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(terminal)
        hasher.combine(auth)
        hasher.combine(rewrites)
    }
}

/// Source locations of the handlers behind an outcome; kept out of equality so two
/// routes written in different places but behaving alike compare equal.
public struct Provenance: Sendable, Hashable {
    public var terminal: SourceLocation?
    public var auth: [SourceLocation] = []

    public init(terminal: SourceLocation? = nil, auth: [SourceLocation] = []) {
        self.terminal = terminal
        self.auth = auth
    }

    public static func == (lhs: Provenance, rhs: Provenance) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}
}

/// A change to the request path.
public enum PathRewrite: Sendable, Hashable, CustomStringConvertible {
    /// Remove this leading text when present (`handle_path`, `uri strip_prefix`).
    case stripPrefix(String)
    /// Replace the whole path (`rewrite * /index.html`).
    case replacePath(String)
    /// Put this text in front of the path (`rewrite * /base{uri}`).
    case addPrefix(String)

    public func apply(to path: String) -> String {
        switch self {
        case .stripPrefix(let prefix):
            guard !prefix.isEmpty, path.lowercased().hasPrefix(prefix.lowercased()) else { return path }
            let rest = String(path.dropFirst(prefix.count))
            return rest.hasPrefix("/") ? rest : "/" + rest
        case .replacePath(let value): return value
        case .addPrefix(let prefix): return prefix + path
        }
    }

    public var description: String {
        switch self {
        case .stripPrefix(let prefix): "strip prefix \(prefix)"
        case .replacePath(let value): "replace path with \(value)"
        case .addPrefix(let prefix): "add prefix \(prefix)"
        }
    }
}

/// Header changes; names keep the source's spelling.
public struct HeaderChanges: Sendable, Hashable {
    public var set: [HeaderValue] = []
    public var add: [HeaderValue] = []
    public var remove: [String] = []

    public init(set: [HeaderValue] = [], add: [HeaderValue] = [], remove: [String] = []) {
        self.set = set
        self.add = add
        self.remove = remove
    }

    public var isEmpty: Bool { self.set.isEmpty && add.isEmpty && remove.isEmpty }

    public mutating func merge(_ other: HeaderChanges) {
        self.set += other.set
        add += other.add
        // Gateway API's `remove` is a set: a name removed twice (a rename target the
        // file also deletes) is written once. Field names compare without case.
        for name in other.remove where !remove.contains(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) {
            remove.append(name)
        }
    }
}

public struct HeaderValue: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A redirect answer.
public struct Redirect: Sendable, Hashable {
    public var status: Int
    /// Scheme to redirect to, or nil to keep the request's.
    public var scheme: String?
    /// Host to redirect to, or nil to keep the request's.
    public var hostname: String?
    public var port: Int?
    /// The new path, or nil to keep the request's path (and query).
    public var path: String?

    public init(status: Int, scheme: String? = nil, hostname: String? = nil, port: Int? = nil, path: String? = nil) {
        self.status = status
        self.scheme = scheme
        self.hostname = hostname
        self.port = port
        self.path = path
    }
}
