/// Maps each source upstream to the Service a Gateway API backendRef can name, and
/// writes the Services and EndpointSlices for upstreams outside the cluster.
///
/// - `name` (a compose service) → Service `name` in the route namespace, assumed to exist.
/// - `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local` → Service `name` in `ns`.
/// - an IP → a selector-less Service plus an EndpointSlice (IPv4/IPv6).
/// - another host name → a selector-less Service plus an FQDN EndpointSlice (Traefik
///   3.7's Gateway provider refuses ExternalName Services with a 500).
/// Traefik pairs the Service port and the EndpointSlice port by name and skips
/// endpoints that are not ready, so both ports get the same name and endpoints are
/// marked ready. HTTPS upstreams get a port named `https-…` and `appProtocol: https`.
struct BackendResolver {
    let options: TraefikOptions
    private(set) var refs: [Upstream: BackendRef] = [:]
    /// Selector-less Services to write, by namespace/name.
    private var external: [String: ExternalService] = [:]

    struct ExternalService {
        var name: String
        var namespace: String
        var addressType: String
        var address: String
        var ports: [Upstream] = []
    }

    init(options: TraefikOptions) {
        self.options = options
    }

    /// The backendRef for an upstream, with `namespace` always filled in.
    mutating func ref(for upstream: Upstream, location: SourceLocation?, diagnostics: inout Diagnostics) -> BackendRef {
        if let known = refs[upstream] { return known }
        let ref: BackendRef
        switch upstream.placement {
        case .service(let name, let namespace):
            let serviceName = checkedName(name, upstream: upstream, location: location, diagnostics: &diagnostics)
            let serviceNamespace = namespace.map { checkedNamespace($0, upstream: upstream, location: location, diagnostics: &diagnostics) } ?? options.namespace
            ref = BackendRef(name: serviceName, namespace: serviceNamespace, port: upstream.port)
            let labels = upstream.host.split(separator: ".")
            if upstream.serviceNamespace == nil && labels.count == 2 {
                diagnostics.append(.note("upstream \(upstream) is read as Service \(labels[0]) in namespace \(labels[1]) (\(labels[1]) is no top-level domain); if it is a host outside the cluster, pass --upstream \(upstream.host):\(upstream.port)=HOST:PORT with its full name", at: location))
            }
            if upstream.scheme != .http {
                diagnostics.append(.warning("upstream \(upstream) uses \(upstream.scheme.rawValue); Traefik picks the scheme from the Service port, so Service \(serviceNamespace)/\(serviceName) port \(upstream.port) needs appProtocol \(upstream.scheme == .https ? "https (or a name starting with https)" : "kubernetes.io/h2c")", at: location))
            }
        case .ip(let address, let v6):
            ref = externalRef(name: KubernetesName.label(from: "ip-" + address), addressType: v6 ? "IPv6" : "IPv4", address: address, upstream: upstream)
            diagnostics.append(.note("upstream \(upstream) is outside the cluster: authgate writes Service \(ref.name) without a selector and an EndpointSlice pointing at \(address)", at: location))
        case .externalHost(let host):
            ref = externalRef(name: KubernetesName.label(from: host, prefix: "host"), addressType: "FQDN", address: host, upstream: upstream)
            let labels = host.split(separator: ".")
            let what = labels.count == 2 && TopLevelDomains.all.contains(String(labels[1])) ? "a top-level domain" : "a home-network name"
            let reading = labels.count == 2 ? " (.\(labels[1]) is \(what), so it is no Service.namespace; --upstream names the Service if it runs in the cluster)" : ""
            diagnostics.append(.note("upstream \(upstream) is outside the cluster\(reading): authgate writes Service \(ref.name) without a selector and an FQDN EndpointSlice for \(host) (Traefik refuses ExternalName Services)", at: location))
        case .loopback:
            let socket = upstream.host.hasPrefix("unix/")
            let name = socket ? KubernetesName.label(from: "unix-" + upstream.host.dropFirst("unix/".count)) : KubernetesName.label(from: "localhost-\(upstream.port)")
            ref = BackendRef(name: name, namespace: options.namespace, port: upstream.port)
            let flag = socket ? upstream.host : "localhost:\(upstream.port)"
            diagnostics.append(.warning("upstream \(upstream) is the Caddy host itself, which nothing in the cluster can reach; the route refers to Service \(options.namespace)/\(name), which authgate does not write: deploy the application in the cluster and name its Service so, or pass --upstream \(flag)=SERVICE.NAMESPACE:PORT (until then Traefik answers 500)", at: location))
        }
        refs[upstream] = ref
        return ref
    }

    private mutating func externalRef(name: String, addressType: String, address: String, upstream: Upstream) -> BackendRef {
        let key = options.namespace + "/" + name
        var service = external[key] ?? ExternalService(name: name, namespace: options.namespace, addressType: addressType, address: address)
        if !service.ports.contains(upstream) { service.ports.append(upstream) }
        external[key] = service
        return BackendRef(name: name, namespace: options.namespace, port: upstream.port)
    }

    private func checkedName(_ name: String, upstream: Upstream, location: SourceLocation?, diagnostics: inout Diagnostics) -> String {
        if KubernetesName.isServiceName(name) { return name }
        let fixed = KubernetesName.label(from: name, prefix: "svc")
        diagnostics.append(.warning("upstream host '\(name)' is not a valid Kubernetes Service name; the route refers to Service '\(fixed)' instead", at: location))
        return fixed
    }

    private func checkedNamespace(_ namespace: String, upstream: Upstream, location: SourceLocation?, diagnostics: inout Diagnostics) -> String {
        if KubernetesName.isLabel(namespace) { return namespace }
        let fixed = KubernetesName.label(from: namespace, prefix: "ns")
        diagnostics.append(.warning("upstream \(upstream) names namespace '\(namespace)', which is not a valid Kubernetes name; authgate uses '\(fixed)'", at: location))
        return fixed
    }

    static func portName(_ upstream: Upstream) -> String {
        "\(upstream.scheme.rawValue)-\(upstream.port)"
    }

    static func appProtocol(_ upstream: Upstream) -> String? {
        switch upstream.scheme {
        case .http: nil
        case .https: "https"
        case .h2c: "kubernetes.io/h2c"
        }
    }

    /// The Services and EndpointSlices for upstreams outside the cluster.
    var objects: [KubeObject] {
        var objects: [KubeObject] = []
        for key in external.keys.sorted() {
            guard let service = external[key] else { continue }
            let ports = service.ports.sorted()
            let servicePorts: [YAMLValue] = ports.map { upstream in
                .object([
                    ("name", .string(Self.portName(upstream))), ("protocol", .string("TCP")),
                    ("appProtocol", Self.appProtocol(upstream).map(YAMLValue.string)),
                    ("port", .int(upstream.port)), ("targetPort", .int(upstream.port)),
                ])
            }
            objects.append(KubeObject(
                apiVersion: "v1", kind: "Service", name: service.name, namespace: service.namespace, labels: KubeLabels.managed,
                fields: [.init("spec", .object([("type", .string("ClusterIP")), ("ports", .list(servicePorts))]))]))
            let slicePorts: [YAMLValue] = ports.map { upstream in
                .object([
                    ("name", .string(Self.portName(upstream))), ("protocol", .string("TCP")),
                    ("appProtocol", Self.appProtocol(upstream).map(YAMLValue.string)), ("port", .int(upstream.port)),
                ])
            }
            objects.append(KubeObject(
                apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", name: service.name, namespace: service.namespace,
                labels: [
                    .init("kubernetes.io/service-name", .string(service.name)),
                    .init("endpointslice.kubernetes.io/managed-by", .string("authgate")),
                ] + KubeLabels.managed,
                fields: [
                    .init("addressType", .string(service.addressType)),
                    .init("endpoints", .list([.object([("addresses", .strings([service.address])), ("conditions", .object([("ready", .bool(true))]))])])),
                    .init("ports", .list(slicePorts)),
                ]))
        }
        return objects
    }
}
