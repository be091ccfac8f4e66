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

    /// The outcome parts of an Ingress's `router.middlewares` value, in the order
    /// written. Returns why Traefik disabled the Ingress's routers, when it did: a name
    /// without `@provider` is looked up as `NAME@kubernetes`, which the Ingress provider
    /// never defines.
    mutating func apply(_ annotation: ManifestNode, ingress: IngressResource, to outcome: inout RequestOutcome) -> String? {
        guard let text = annotation.string else { return nil }
        // Traefik splits on commas and trims each name (newlines of a folded or
        // block value included).
        for reference in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) {
            guard !reference.isEmpty else {
                return "router.middlewares holds an empty name (a stray comma), which Traefik looks up as '@kubernetes' and does not find"
            }
            let parts = reference.split(separator: "@", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                return "Middleware '\(reference)' has no @provider, so Traefik looks it up as \(reference)@kubernetes, which does not exist (write NAMESPACE-NAME@kubernetescrd)"
            }
            if parts[1] == "file", var file = resources.fileMiddlewares[parts[0]] {
                // Copied into the route's namespace as a Middleware of its own (a route
                // cannot refer to another provider's).
                file.namespace = ingress.namespace
                file.name = KubernetesName.label(from: parts[0])
                apply(file, to: &outcome, at: annotation.location, depth: 0)
                continue
            }
            guard parts[1] == "kubernetescrd" else {
                outcome.unknown.append(Self.otherProvider("Middleware '\(reference)'", provider: parts[1], at: annotation.location))
                continue
            }
            apply(qualified: parts[0], namespace: ingress.namespace, at: annotation.location, to: &outcome, depth: 0)
        }
        return nil
    }

    /// `namespace-name`: namespaces and names may both contain dashes, so the
    /// Middlewares in the input decide; without a match, the Ingress's own namespace is
    /// assumed when the reference starts with it.
    private mutating func apply(qualified: String, namespace ownNamespace: String, at location: SourceLocation, to outcome: inout RequestOutcome, depth: Int) {
        let known = resources.middlewares.values.filter { $0.namespace + "-" + $0.name == qualified }.sorted { $0.namespace < $1.namespace }
        if let middleware = known.first {
            apply(middleware, to: &outcome, at: location, depth: depth)
            return
        }
        let namespace: String
        let name: String
        if qualified.hasPrefix(ownNamespace + "-") {
            namespace = ownNamespace
            name = String(qualified.dropFirst(ownNamespace.count + 1))
        } else if let dash = qualified.firstIndex(of: "-") {
            namespace = String(qualified[..<dash])
            name = String(qualified[qualified.index(after: dash)...])
        } else {
            namespace = ownNamespace
            name = qualified
        }
        // Traefik disables the router when the Middleware does not exist, and applies
        // it when it does: either way the input does not say what the requests meet.
        outcome.unknown.append(Self.missing("Middleware '\(qualified)@kubernetescrd'", reading: "authgate would read it as \(namespace)/\(name)", at: location))
        outcome.appendPassthrough(CopiedMiddleware(name: name, namespace: namespace, spec: nil, location: location))
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
            if let address = settings["address"]?.string, let variable = PostBuildSubstitution.unresolved(in: address) {
                // A forwardAuth Traefik could not call: nothing gets through it. The
                // input is not what the cluster ran, though.
                outcome.unknown.append(UnknownConstruct(
                    construct: "forwardAuth address of Middleware \(middleware.namespace)/\(middleware.name)", location: settings["address"]?.location ?? middleware.location,
                    resolution: PostBuildSubstitution.message("the address", address, variable)))
                outcome.appendPassthrough(copied)
                return
            }
            guard let address = settings["address"]?.string, let provider = forwardAuthProvider(address, settings: settings, copied: copied) else {
                diagnostics.append(.warning("forwardAuth Middleware \(middleware.namespace)/\(middleware.name) has no usable address; it is copied as it is", at: middleware.location))
                outcome.appendPassthrough(copied)
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
                // `NAMESPACE-NAME@kubernetescrd` in a chain is the qualified name, as in
                // router.middlewares; another provider's name is not in the input.
                if let at = name.firstIndex(of: "@") {
                    let provider = name[name.index(after: at)...]
                    if provider == "kubernetescrd" {
                        apply(qualified: String(name[..<at]), namespace: middleware.namespace, at: entry.location, to: &outcome, depth: depth + 1)
                    } else {
                        outcome.unknown.append(Self.otherProvider("Middleware '\(name)' in chain \(middleware.namespace)/\(middleware.name)", provider: String(provider), at: entry.location))
                    }
                    continue
                }
                let namespace = entry["namespace"]?.string ?? middleware.namespace
                if let inner = resources.middlewares[namespace + "/" + name] {
                    apply(inner, to: &outcome, at: location, depth: depth + 1)
                } else {
                    outcome.unknown.append(Self.missing("Middleware \(namespace)/\(name) in chain \(middleware.namespace)/\(middleware.name)", reading: nil, at: entry.location))
                    outcome.appendPassthrough(CopiedMiddleware(name: name, namespace: namespace, spec: nil, location: entry.location))
                }
            }
        case "stripPrefix":
            let prefixes = (settings["prefixes"]?.sequence ?? []).compactMap(\.string)
            if prefixes.count == 1 {
                outcome.rewrites.append(.stripPrefix(prefixes[0]))
            } else {
                outcome.appendPassthrough(copied)
            }
        case "addPrefix":
            if let prefix = settings["prefix"]?.string { outcome.rewrites.append(.addPrefix(prefix)) } else { outcome.appendPassthrough(copied) }
        case "replacePath":
            if let path = settings["path"]?.string { outcome.rewrites.append(.replacePath(path)) } else { outcome.appendPassthrough(copied) }
        case "headers":
            let keys = Set((settings.entries ?? []).map(\.key))
            if keys.isSubset(of: ["customRequestHeaders", "customResponseHeaders"]) {
                outcome.requestHeaders.merge(Self.headerChanges(settings["customRequestHeaders"]))
                outcome.responseHeaders.merge(Self.headerChanges(settings["customResponseHeaders"]))
            } else {
                outcome.appendPassthrough(copied)
            }
        case "ipAllowList", "ipWhiteList" where settings["ipStrategy"] == nil && settings["rejectStatusCode"] == nil:
            // An allow list on the connection's address: the output writes its own
            // (and the check probes it from inside and outside the ranges).
            var ranges: [IPRange] = []
            for entry in settings["sourceRange"]?.sequence ?? [] {
                guard let text = entry.string, let range = IPRange(text.trimmingCharacters(in: .whitespaces)) else {
                    outcome.unknown.append(UnknownConstruct(
                        construct: "\(kind) Middleware \(middleware.namespace)/\(middleware.name)", location: entry.location,
                        resolution: "'\(entry.string ?? "")' is not an IP address or CIDR range, so who it admits cannot be told"))
                    return
                }
                ranges.append(range)
            }
            if !outcome.allowedSources.isEmpty && Set(outcome.allowedSources) != Set(ranges) {
                // Two different lists in a row admit their intersection, which authgate
                // does not compute.
                outcome.unknown.append(UnknownConstruct(
                    construct: "\(kind) Middleware \(middleware.namespace)/\(middleware.name) after another allow list", location: middleware.location,
                    resolution: "a client must be in both lists; merge them into one ipAllowList"))
                return
            }
            outcome.allowedSources = ranges
        case "redirectScheme" where settings["scheme"]?.string == "https":
            // Gateway API's migration guide: a separate HTTPRoute on the HTTP listener
            // redirects; the serving routes attach to the HTTPS listener. (A
            // RequestRedirect on a rule with backends is refused by the CRD.)
            outcome.httpsRedirect = settings["permanent"]?.string == "true" ? 301 : 302
        case "redirectScheme":
            diagnostics.append(.warning("redirectScheme Middleware \(middleware.namespace)/\(middleware.name) redirects to '\(settings["scheme"]?.string ?? "")', not https; it is copied and kept on the routes", at: middleware.location))
            outcome.appendPassthrough(copied)
        default:
            outcome.appendPassthrough(copied)
        }
    }

    /// A Middleware the input lacks: Traefik disables the router when it does not
    /// exist and applies it when it does, so the requests are unknown either way.
    static func missing(_ construct: String, reading: String?, at location: SourceLocation) -> UnknownConstruct {
        UnknownConstruct(construct: construct, location: location, resolution: "it is not in the input\(reading.map { " (\($0))" } ?? ""), so whether it checks auth, and whether Traefik found it at all, cannot be told; add it to the input (kubectl get middlewares.traefik.io -A -o yaml)")
    }

    /// A Middleware of another Traefik provider the input does not hold.
    static func otherProvider(_ construct: String, provider: String, at location: SourceLocation) -> UnknownConstruct {
        UnknownConstruct(construct: construct, location: location, resolution: "it comes from Traefik's \(provider) provider, which is not in the input, so what it does to these requests cannot be checked (a Gateway API route cannot refer to it either); give its configuration as an input (the file provider's YAML), or put it in a Middleware of the route's namespace and name that instead")
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
        AuthURL(address)?.path ?? "/"
    }
}

extension RequestOutcome {
    /// A Middleware the model does not interpret, in the order written: before the
    /// first auth when no auth came yet.
    mutating func appendPassthrough(_ middleware: CopiedMiddleware) {
        passthrough.append(middleware)
        if auth.isEmpty { passthroughBeforeAuth = passthrough.count }
    }
}
