/// Where the emitted objects go and how the Authentik outpost is deployed.
public struct TraefikOptions: Sendable {
    /// Namespace of routes converted from a Caddyfile (Caddy has none).
    public var namespace = "default"
    public var gatewayNamespace = "traefik"
    public var gatewayName = "traefik-gateway"
    public var sectionName: String?
    /// Traefik entry point → Gateway listener name, for routes converted from Ingresses
    /// with `router.entrypoints` (an entry point not listed keeps its own name).
    public var entryPointListeners: [String: String] = [:]

    /// The listener for an entry point name.
    public func listener(forEntryPoint name: String) -> String {
        entryPointListeners[name] ?? name
    }
    public var outpostNamespace = "authentik-outpost"
    public var outpostName = "authentik-outpost"
    public var outpostPort = 9000
    /// URL of the Authentik server the outpost connects to; nil writes a placeholder.
    public var authentikHost: String?
    /// `--authentik-outpost-url`: an Authentik outpost that runs already outside the
    /// cluster (by IP or outside name); no outpost is deployed.
    public var authentikOutpostURL: Upstream?
    /// `--case-sensitive-paths`: no `(?i)` rules for Caddy's case-insensitive paths; an
    /// upper-case spelling sent to a route at least as protected is a warning.
    public var caseSensitivePaths = false
    /// The outpost token; nil writes a placeholder. Appears only in the Secret.
    public var authentikToken: String?
    /// The outpost image tag; the outpost must run the Authentik server's version.
    public var authentikVersion = TraefikOptions.defaultAuthentikVersion
    public var authentikVersionGiven = false

    public static let defaultAuthentikVersion = "2025.12.4"
    public static let hostPlaceholder = "https://REPLACE-ME-authentik-host.invalid"
    public static let tokenPlaceholder = "REPLACE-ME-outpost-token-from-authentik"

    public init() {}
}
