/// A router an ingress controller built from one Ingress path.
struct IngressRouter: Sendable {
    /// Lower-case host, `*.example.com`, or nil for a path that applies to every host.
    var host: String?
    var match: PathPattern
    /// Higher wins. Traefik: the `router.priority` annotation, else the rule's length.
    var priority: Int
    var outcome: RequestOutcome
    var namespace: String
    /// The controller's entry points (Traefik `router.entrypoints`), empty for all.
    var entryPoints: [String]
    var location: SourceLocation
}

/// What the controller did with a request: the routers whose host and path match, the
/// highest priority first (ties go to the first read, as Traefik does not define them).
/// Paths match case-sensitively, as Traefik and nginx do.
struct IngressBehaviour: SourceBehaviour {
    var routers: [IngressRouter]
    var boundaryPatterns: [PathPattern]

    func outcome(host: String, path: String) -> RequestOutcome {
        var best: IngressRouter?
        for router in routers where Self.hostMatches(router.host, host) && router.match.matches(path) {
            if best == nil || router.priority > best!.priority { best = router }
        }
        return best?.outcome ?? RequestOutcome(terminal: .unhandled)
    }

    /// Traefik's `Host` is exact (case-insensitive); `*.example.com` becomes
    /// `HostRegexp` for one label.
    static func hostMatches(_ pattern: String?, _ host: String) -> Bool {
        guard let pattern else { return true }
        let host = host.lowercased()
        if pattern.hasPrefix("*.") {
            let suffix = pattern.dropFirst(1)
            guard host.hasSuffix(suffix) else { return false }
            let label = host.dropLast(suffix.count)
            return !label.isEmpty && !label.contains(".")
        }
        return pattern == host
    }
}
