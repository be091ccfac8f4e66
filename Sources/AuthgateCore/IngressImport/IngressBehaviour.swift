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
    /// The controller that built it (for an Ingress authgate cannot place, the one
    /// whose reading this router is).
    var controller: IngressController
    /// For an Ingress authgate cannot place with one controller: the unknown that the
    /// difference between the two readings makes.
    var ambiguity: UnknownConstruct? = nil
    /// An ingress-nginx `auth-url` on the request's own host (`https://$host/oauth2/auth`),
    /// until the importer has found the Service that host routes the path to.
    var pendingAuth: (template: AuthProvider, path: String, location: SourceLocation)? = nil
    /// ingress-nginx: the nginx location this router is.
    var nginx: NginxLocation? = nil
    /// ingress-nginx app-root: the redirect of `/`, which runs before every location.
    var appRoot = false
}

/// What the controller did with a request: the routers whose host and path match, the
/// highest priority first (ties go to the first read, as Traefik does not define them).
/// Paths match case-sensitively, as Traefik and nginx do.
struct IngressBehaviour: SourceBehaviour {
    var routers: [IngressRouter]
    var boundaryPatterns: [PathPattern]

    /// The plain request from an address in no allow list, and one from inside each
    /// range an allow list names (ingress-nginx's whitelist-source-range).
    var variants: [ProbeVariant] {
        var ranges: [IPRange] = []
        for router in routers { for range in router.outcome.allowedSources where !ranges.contains(range) { ranges.append(range) } }
        guard !ranges.isEmpty else { return [ProbeVariant(request: .baseline, conditions: .none)] }
        return [ProbeVariant(request: RequestVariant(clientIP: RequestVariant.address(outside: ranges)), conditions: .none)]
            + ranges.map { ProbeVariant(request: RequestVariant(clientIP: $0.sampleAddress, clientRange: $0), conditions: .none) }
    }

    /// A client outside the router's allow list is answered 403 by the controller.
    func outcome(host: String, path: String, request: RequestVariant) -> RequestOutcome {
        var result = outcome(host: host, path: path)
        guard !result.allowedSources.isEmpty else { return result }
        guard result.allowedSources.contains(where: { $0.contains(request.clientIP) }) else {
            var refused = RequestOutcome(terminal: .answeredByProxy(directive: "whitelist-source-range"))
            refused.provenance = result.provenance
            return refused
        }
        result.allowedSources = []
        return result
    }

    func outcome(host: String, path: String) -> RequestOutcome {
        guard routers.contains(where: { $0.ambiguity != nil }) else { return outcome(host: host, path: path, controller: nil).outcome }
        // Read both ways, each controller with the Ingresses it served: where the
        // readings part, which controller served the Ingress decides, and authgate
        // cannot tell.
        let traefik = outcome(host: host, path: path, controller: .traefik)
        let nginx = outcome(host: host, path: path, controller: .nginx)
        guard nginx.outcome != traefik.outcome, var unknown = traefik.unknown ?? nginx.unknown else { return traefik.outcome }
        var result = DecisionBuilder.mostProtected([traefik.outcome, nginx.outcome])
        // Where the request ends differs too: no output can be right for both.
        unknown.decidesOutcome = nginx.outcome.terminal != traefik.outcome.terminal
        if !result.unknown.contains(unknown) { result.unknown.append(unknown) }
        return result
    }

    /// The winning router's outcome among those one controller built (all when nil);
    /// with the unknown of the router that won, when it is one reading of two.
    private func outcome(host: String, path: String, controller: IngressController?) -> (outcome: RequestOutcome, unknown: UnknownConstruct?) {
        var best: IngressRouter?
        var tied: IngressRouter?
        for router in routers where (controller == nil || router.controller == controller) && Self.hostMatches(router.host, host) && router.match.matches(path) {
            if best == nil || router.priority > best!.priority {
                best = router
                tied = nil
            } else if router.priority == best!.priority && tied == nil && router.outcome != best!.outcome {
                tied = router
            }
        }
        var outcome = best?.outcome ?? RequestOutcome(terminal: .unhandled)
        if let best, let tied {
            // Traefik sorts routers of equal priority in no defined order (its muxer's
            // sort is not stable, and routers come from a map): either may serve.
            outcome = DecisionBuilder.mostProtected([best.outcome, tied.outcome])
            let construct = UnknownConstruct(
                construct: "two Ingress paths of equal priority", location: tied.location,
                resolution: "the routers for \(best.location.file):\(best.location.line) and \(tied.location.file):\(tied.location.line) match the same requests with the same priority (rule length), and Traefik picks either in no defined order; remove one, or give one a router.priority",
                decidesOutcome: best.outcome.terminal != tied.outcome.terminal)
            if !outcome.unknown.contains(construct) { outcome.unknown.append(construct) }
        }
        return (outcome, best?.ambiguity ?? routers.first { $0.ambiguity != nil && (controller == nil || $0.controller == controller) }?.ambiguity)
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
