/// Gateway API HTTPRoute, typed: emitters build it, the coverage check evaluates it,
/// `object` renders it (`gateway.networking.k8s.io/v1`, defaults written out).
public struct HTTPRoute: Sendable, Hashable {
    public var name: String
    public var namespace: String
    public var parentRefs: [ParentRef]
    public var hostnames: [String]
    public var rules: [HTTPRouteRule]

    public struct ParentRef: Sendable, Hashable {
        public var name: String
        public var namespace: String
        public var sectionName: String?
    }

    public var object: KubeObject {
        let parents: [YAMLValue] = parentRefs.map { ref in
            .object([
                ("group", .string("gateway.networking.k8s.io")), ("kind", .string("Gateway")),
                ("name", .string(ref.name)), ("namespace", .string(ref.namespace)),
                ("sectionName", ref.sectionName.map(YAMLValue.string)),
            ])
        }
        var spec: [(String, YAMLValue?)] = [("parentRefs", .list(parents))]
        if !hostnames.isEmpty { spec.append(("hostnames", .strings(hostnames))) }
        spec.append(("rules", .list(rules.map { $0.yaml(routeNamespace: namespace) })))
        return KubeObject(
            apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", name: name, namespace: namespace,
            labels: KubeLabels.managed, fields: [.init("spec", .object(spec))])
    }
}

public struct HTTPRouteRule: Sendable, Hashable {
    public var matches: [PathMatch]
    public var filters: [HTTPRouteFilter]
    public var backendRefs: [BackendRef]
    /// Why the rule exists (the source line, or the compensation it makes); for the
    /// report, not written into the object.
    public var provenance: String

    public init(matches: [PathMatch], filters: [HTTPRouteFilter] = [], backendRefs: [BackendRef] = [], provenance: String = "") {
        self.matches = matches
        self.filters = filters
        self.backendRefs = backendRefs
        self.provenance = provenance
    }

    func yaml(routeNamespace: String) -> YAMLValue {
        var entries: [(String, YAMLValue?)] = [("matches", .list(matches.map(\.yaml)))]
        if !filters.isEmpty { entries.append(("filters", .list(filters.map(\.yaml)))) }
        if !backendRefs.isEmpty { entries.append(("backendRefs", .list(backendRefs.map { $0.yaml(routeNamespace: routeNamespace) }))) }
        return .object(entries)
    }
}

/// One HTTPRouteMatch: a path, and what else the request must meet (method,
/// headers, query parameters).
public struct PathMatch: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case exact = "Exact", pathPrefix = "PathPrefix", regularExpression = "RegularExpression"
    }

    public var kind: Kind
    public var value: String
    public var conditions: RequestConditions

    public init(_ kind: Kind, _ value: String, conditions: RequestConditions = .none) {
        self.kind = kind
        self.value = value
        self.conditions = conditions
    }

    var yaml: YAMLValue {
        func values(_ matches: [RequestConditions.ValueMatch]) -> YAMLValue? {
            matches.isEmpty ? nil : .list(matches.map { .object([("name", .string($0.name)), ("type", .string($0.kind.rawValue)), ("value", .string($0.value))]) })
        }
        return .object([
            ("path", .object([("type", .string(kind.rawValue)), ("value", .string(value))])),
            ("headers", values(conditions.headers)),
            ("queryParams", values(conditions.queryParams)),
            ("method", conditions.method.map(YAMLValue.string)),
        ])
    }

    public var description: String { "\(kind.rawValue) \(value)" + (conditions.isEmpty ? "" : " (\(conditions))") }
}

public enum HTTPRouteFilter: Sendable, Hashable {
    /// A Traefik Middleware in the route's namespace.
    case extensionRef(middleware: String)
    case requestHeaderModifier(HeaderChanges)
    case responseHeaderModifier(HeaderChanges)
    case replacePrefixMatch(String)
    case replaceFullPath(String)
    case requestRedirect(Redirect)

    var yaml: YAMLValue {
        switch self {
        case .extensionRef(let name):
            return .object([
                ("type", .string("ExtensionRef")),
                ("extensionRef", .object([("group", .string("traefik.io")), ("kind", .string("Middleware")), ("name", .string(name))])),
            ])
        case .requestHeaderModifier(let changes):
            return .object([("type", .string("RequestHeaderModifier")), ("requestHeaderModifier", Self.headers(changes))])
        case .responseHeaderModifier(let changes):
            return .object([("type", .string("ResponseHeaderModifier")), ("responseHeaderModifier", Self.headers(changes))])
        case .replacePrefixMatch(let value):
            return .object([
                ("type", .string("URLRewrite")),
                ("urlRewrite", .object([("path", .object([("type", .string("ReplacePrefixMatch")), ("replacePrefixMatch", .string(value))]))])),
            ])
        case .replaceFullPath(let value):
            return .object([
                ("type", .string("URLRewrite")),
                ("urlRewrite", .object([("path", .object([("type", .string("ReplaceFullPath")), ("replaceFullPath", .string(value))]))])),
            ])
        case .requestRedirect(let redirect):
            let path: YAMLValue? = redirect.path.map { .object([("type", .string("ReplaceFullPath")), ("replaceFullPath", .string($0))]) }
            return .object([
                ("type", .string("RequestRedirect")),
                ("requestRedirect", .object([
                    ("scheme", redirect.scheme.map(YAMLValue.string)),
                    ("hostname", redirect.hostname.map(YAMLValue.string)),
                    ("path", path),
                    ("port", redirect.port.map(YAMLValue.int)),
                    ("statusCode", .int(redirect.status)),
                ])),
            ])
        }
    }

    private static func headers(_ changes: HeaderChanges) -> YAMLValue {
        func list(_ values: [HeaderValue]) -> YAMLValue? {
            values.isEmpty ? nil : .list(values.map { .object([("name", .string($0.name)), ("value", .string($0.value))]) })
        }
        return .object([
            ("set", list(changes.set)), ("add", list(changes.add)),
            ("remove", changes.remove.isEmpty ? nil : .strings(changes.remove)),
        ])
    }
}

public struct BackendRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var name: String
    /// nil when the Service is in the route's namespace.
    public var namespace: String?
    public var port: Int

    public init(name: String, namespace: String?, port: Int) {
        self.name = name
        self.namespace = namespace
        self.port = port
    }

    /// The namespace is written only when it differs from the route's.
    func yaml(routeNamespace: String) -> YAMLValue {
        .object([
            ("group", .string("")), ("kind", .string("Service")), ("name", .string(name)),
            ("namespace", namespace == routeNamespace ? nil : namespace.map(YAMLValue.string)), ("port", .int(port)), ("weight", .int(1)),
        ])
    }

    public var description: String { (namespace.map { "\($0)/" } ?? "") + "\(name):\(port)" }

    public static func < (lhs: BackendRef, rhs: BackendRef) -> Bool { lhs.description < rhs.description }
}

enum KubeLabels {
    static let managed: [YAMLValue.Entry] = [.init("app.kubernetes.io/managed-by", .string("authgate"))]
}
