/// Authentik's proxy outpost serves its own endpoints (`/outpost.goauthentik.io/start`,
/// `/callback`, `/sign_out`) on the protected application's host: after login the
/// browser comes back to `https://app.example.com/outpost.goauthentik.io/callback`.
/// Caddy users often route that prefix to the outpost themselves; Traefik users must.
/// Every host protected by Authentik gets the route in its own HTTPRoute (never shared
/// across routes: Traefik and the Gateway API spec rank wildcard and exact hostnames
/// differently across routes).
enum AuthentikOutpostPaths {
    static let prefix = "/outpost.goauthentik.io/"

    /// What the source did with a request, for the message.
    static func describe(_ outcome: RequestOutcome, plan: MigrationPlan) -> String {
        if !outcome.unknown.isEmpty { return "unknown (\(outcome.unknown[0].construct))" }
        guard let upstream = outcome.upstreams.first else { return "answered without a backend" }
        let auth = Array(Set(outcome.auth.map { plan.authProviders[$0].kind.rawValue })).sorted()
        return auth.isEmpty ? "public, sent to \(upstream)" : "protected (\(auth.joined(separator: ", "))), then sent to \(upstream)"
    }

    static func add(to plan: inout MigrationPlan, diagnostics: inout Diagnostics) {
        for index in plan.sites.indices {
            let site = plan.sites[index]
            let authentik = Set(site.decisions.flatMap(\.outcome.auth)).sorted().filter {
                plan.authProviders[$0].kind == .authentik && plan.authProviders[$0].upstream != nil
            }
            guard let providerIndex = authentik.first, let server = plan.authProviders[providerIndex].upstream else { continue }
            let pattern = PathPattern.prefix(prefix)
            let routesPrefix = site.decisions.contains { $0.match == pattern && $0.outcome.upstreams == [server] }
            guard !routesPrefix else { continue }
            // What the source did with the login callback: a route of the user's own
            // (to their outpost Service, without auth) is kept as it is.
            let probeHost = site.hosts.first.map { $0.hasPrefix("*.") ? "authgate-probe" + $0.dropFirst() : $0 } ?? "authgate-probe.invalid"
            let before = site.behaviour.outcome(host: probeHost, path: prefix + "callback")
            if !before.upstreams.isEmpty && before.auth.isEmpty && before.unknown.isEmpty && before.allowedSources.isEmpty { continue }
            let decision = RoutingDecision(
                match: pattern, outcome: RequestOutcome(terminal: .proxy([server]), provenance: Provenance(terminal: plan.authProviders[providerIndex].location)),
                source: plan.authProviders[providerIndex].location)
            plan.sites[index].decisions.removeAll { $0.match == pattern || $0.match == .exact(String(prefix.dropLast())) }
            plan.sites[index].decisions.insert(decision, at: 0)
            plan.sites[index].addedOutpostRoute = true
            let hosts = site.hosts.isEmpty ? "every host" : site.hosts.joined(separator: ", ")
            diagnostics.append(.warning("authgate adds a route for \(prefix) on \(hosts) to the Authentik outpost, without auth; in the input those paths were \(describe(before, plan: plan)). Authentik's login callback comes back to the protected host there, and with Traefik nothing else routes it", at: site.location))
        }
    }
}
