import Foundation

/// Traefik's `router.middlewares` annotation: a comma list of
/// `<namespace>-<name>@kubernetescrd`, applied in order. Each Middleware becomes part of
/// a request's outcome:
///
/// - `forwardAuth` → an auth provider (copied as it is into the route's namespace);
///   `basicAuth`/`digestAuth` likewise (their Secret stays where it was: a warning says so
///   when the copy lands in another namespace);
/// - `chain` → its Middlewares, expanded in order;
/// - `stripPrefix` (one prefix), `addPrefix`, `replacePath` → path rewrites (URLRewrite
///   where exact);
/// - `headers` with only custom request/response headers → header modifier filters;
/// - `redirectScheme` to https → a redirecting HTTPRoute on the HTTP listener, the
///   serving routes on the HTTPS listener;
/// - any other kind → copied and referred to by ExtensionRef.
struct TraefikMiddlewares {
    let resources: IngressResources
    var providers: [AuthProvider]
    var diagnostics = Diagnostics()

    /// The outcome parts of an Ingress's `router.middlewares` value.
    mutating func apply(_ annotation: ManifestNode, ingress: IngressResource, to outcome: inout RequestOutcome) {
        guard let text = annotation.string else { return }
        for reference in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !reference.isEmpty {
            let parts = reference.split(separator: "@", maxSplits: 1).map(String.init)
            let provider = parts.count == 2 ? parts[1] : "kubernetescrd"
            guard provider == "kubernetescrd" else {
                diagnostics.append(.warning("Middleware \(reference) comes from Traefik's \(provider) provider, which a Gateway API route cannot refer to; it is not migrated — if it was an auth check, the paths it guarded lose it (the coverage check cannot see it)", at: annotation.location))
                continue
            }
            apply(qualified: parts[0], ingress: ingress, at: annotation.location, to: &outcome, depth: 0)
        }
    }

    /// `namespace-name`: namespaces and names may both contain dashes, so the
    /// Middlewares in the input decide; without a match, the Ingress's own namespace is
    /// assumed when the reference starts with it.
    private mutating func apply(qualified: String, ingress: IngressResource, at location: SourceLocation, to outcome: inout RequestOutcome, depth: Int) {
        let known = resources.middlewares.values.filter { $0.namespace + "-" + $0.name == qualified }.sorted { $0.namespace < $1.namespace }
        if let middleware = known.first {
            apply(middleware, to: &outcome, at: location, depth: depth)
            return
        }
        let namespace: String
        let name: String
        if qualified.hasPrefix(ingress.namespace + "-") {
            namespace = ingress.namespace
            name = String(qualified.dropFirst(ingress.namespace.count + 1))
        } else if let dash = qualified.firstIndex(of: "-") {
            namespace = String(qualified[..<dash])
            name = String(qualified[qualified.index(after: dash)...])
        } else {
            namespace = ingress.namespace
            name = qualified
        }
        diagnostics.append(.warning("Middleware \(qualified)@kubernetescrd is not in the input; authgate assumes it is \(namespace)/\(name) and refers to Middleware \(name) by name in the route's namespace without writing it — if it checks auth, add it to the input so the coverage check can see it", at: location))
        outcome.passthrough.append(CopiedMiddleware(name: name, namespace: namespace, spec: nil, location: location))
    }

    private mutating func apply(_ middleware: MiddlewareResource, to outcome: inout RequestOutcome, at location: SourceLocation, depth: Int) {
        guard depth < 16 else {
            diagnostics.append(.warning("Middleware chain through \(middleware.namespace)/\(middleware.name) is nested more than 16 deep (a cycle?); stopped there", at: middleware.location))
            return
        }
        guard let (kind, settings) = middleware.kind else {
            diagnostics.append(.warning("Middleware \(middleware.namespace)/\(middleware.name) has no spec; skipped", at: middleware.location))
            return
        }
        let copied = CopiedMiddleware(name: middleware.name, namespace: middleware.namespace, spec: middleware.node?.yamlValue, location: middleware.location)
        switch kind {
        case "forwardAuth":
            guard let address = settings["address"]?.string, let provider = forwardAuthProvider(address, settings: settings, copied: copied) else {
                diagnostics.append(.warning("forwardAuth Middleware \(middleware.namespace)/\(middleware.name) has no usable address; it is copied as it is", at: middleware.location))
                outcome.passthrough.append(copied)
                return
            }
            outcome.addAuth(register(provider), at: location)
        case "basicAuth", "digestAuth":
            var provider = AuthProvider(kind: .basicAuth, upstream: nil, endpoint: "", location: middleware.location)
            provider.copied = copied
            outcome.addAuth(register(provider), at: location)
        case "chain":
            for entry in settings["middlewares"]?.sequence ?? [] {
                guard let name = entry["name"]?.string else { continue }
                let namespace = entry["namespace"]?.string ?? middleware.namespace
                if let inner = resources.middlewares[namespace + "/" + name] {
                    apply(inner, to: &outcome, at: location, depth: depth + 1)
                } else {
                    diagnostics.append(.warning("chain \(middleware.namespace)/\(middleware.name) names Middleware \(namespace)/\(name), which is not in the input; it is referred to by name", at: entry.location))
                    outcome.passthrough.append(CopiedMiddleware(name: name, namespace: namespace, spec: nil, location: entry.location))
                }
            }
        case "stripPrefix":
            let prefixes = (settings["prefixes"]?.sequence ?? []).compactMap(\.string)
            if prefixes.count == 1 {
                outcome.rewrites.append(.stripPrefix(prefixes[0]))
            } else {
                outcome.passthrough.append(copied)
            }
        case "addPrefix":
            if let prefix = settings["prefix"]?.string { outcome.rewrites.append(.addPrefix(prefix)) } else { outcome.passthrough.append(copied) }
        case "replacePath":
            if let path = settings["path"]?.string { outcome.rewrites.append(.replacePath(path)) } else { outcome.passthrough.append(copied) }
        case "headers":
            let keys = Set((settings.entries ?? []).map(\.key))
            if keys.isSubset(of: ["customRequestHeaders", "customResponseHeaders"]) {
                outcome.requestHeaders.merge(Self.headerChanges(settings["customRequestHeaders"]))
                outcome.responseHeaders.merge(Self.headerChanges(settings["customResponseHeaders"]))
            } else {
                outcome.passthrough.append(copied)
            }
        case "redirectScheme" where settings["scheme"]?.string == "https":
            // Gateway API's migration guide: a separate HTTPRoute on the HTTP listener
            // redirects; the serving routes attach to the HTTPS listener. (A
            // RequestRedirect on a rule with backends is refused by the CRD.)
            outcome.httpsRedirect = settings["permanent"]?.string == "true" ? 301 : 302
        case "redirectScheme":
            diagnostics.append(.warning("redirectScheme Middleware \(middleware.namespace)/\(middleware.name) redirects to '\(settings["scheme"]?.string ?? "")', not https; it is copied and kept on the routes", at: middleware.location))
            outcome.passthrough.append(copied)
        default:
            outcome.passthrough.append(copied)
        }
    }

    /// Traefik writes an empty value to remove a header.
    static func headerChanges(_ node: ManifestNode?) -> HeaderChanges {
        var changes = HeaderChanges()
        for (name, value) in node?.entries ?? [] {
            let text = value.string ?? ""
            if text.isEmpty { changes.remove.append(name) } else { changes.set.append(HeaderValue(name: name, value: text)) }
        }
        return changes
    }

    private func forwardAuthProvider(_ address: String, settings: ManifestNode, copied: CopiedMiddleware) -> AuthProvider? {
        guard let upstream = IngressAuthAddress.upstream(address) else { return nil }
        let endpoint = IngressAuthAddress.path(address)
        let headers = (settings["authResponseHeaders"]?.sequence ?? []).compactMap(\.string)
        var provider = AuthProvider(kind: AuthProvider.kind(forEndpoint: endpoint), upstream: upstream, endpoint: endpoint, copyHeaders: headers, location: copied.location)
        provider.copied = copied
        return provider
    }

    private mutating func register(_ provider: AuthProvider) -> Int {
        if let index = providers.firstIndex(of: provider) { return index }
        providers.append(provider)
        return providers.count - 1
    }
}

/// Forward-auth addresses (`http://name.ns.svc.cluster.local:9000/path`).
enum IngressAuthAddress {
    static func upstream(_ address: String) -> Upstream? {
        var rest = Substring(address)
        var scheme = Upstream.Scheme.http
        if rest.lowercased().hasPrefix("https://") { scheme = .https; rest = rest.dropFirst(8) } else if rest.lowercased().hasPrefix("http://") { rest = rest.dropFirst(7) } else { return nil }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard !authority.isEmpty else { return nil }
        var host = String(authority)
        var port = scheme == .https ? 443 : 80
        if let (name, written) = SiteAddress.splitHostPort(authority), let number = Int(written) {
            host = name
            port = number
        }
        let upstream = Upstream(scheme: scheme, host: host.lowercased(), port: port)
        if case .service(let name, let namespace?) = upstream.placement {
            return Upstream(scheme: scheme, host: name, port: port, serviceNamespace: namespace)
        }
        return upstream
    }

    static func path(_ address: String) -> String {
        guard let schemeEnd = address.range(of: "://") else { return "/" }
        let rest = address[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(rest[slash...].prefix { $0 != "?" })
    }
}
