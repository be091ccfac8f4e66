/// One Kubernetes object, ready to write: identity plus its fields in output order.
public struct KubeObject: Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    /// nil for cluster-scoped objects (Namespace).
    public var namespace: String?
    public var labels: [YAMLValue.Entry]
    public var annotations: [YAMLValue.Entry]
    /// Everything after `metadata` (`spec`, `data`, `type`, …), in order.
    public var fields: [YAMLValue.Entry]

    public init(apiVersion: String, kind: String, name: String, namespace: String?, labels: [YAMLValue.Entry] = [], annotations: [YAMLValue.Entry] = [], fields: [YAMLValue.Entry]) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.fields = fields
    }

    /// The API group (`""` for core).
    public var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    public var yaml: YAMLValue {
        var metadata: [YAMLValue.Entry] = [.init("name", .string(name))]
        if let namespace { metadata.append(.init("namespace", .string(namespace))) }
        if !labels.isEmpty { metadata.append(.init("labels", .map(labels))) }
        if !annotations.isEmpty { metadata.append(.init("annotations", .map(annotations))) }
        return .map([.init("apiVersion", .string(apiVersion)), .init("kind", .string(kind)), .init("metadata", .map(metadata))] + fields)
    }

    /// Output order: namespaces first, then what must exist before it is referred to
    /// (Secrets, Services, EndpointSlices, Deployments, ReferenceGrants, Middlewares),
    /// routes last; within a kind by namespace and name.
    public static func outputOrder(_ a: KubeObject, _ b: KubeObject) -> Bool {
        let (ra, rb) = (rank(a.kind), rank(b.kind))
        if ra != rb { return ra < rb }
        if (a.namespace ?? "") != (b.namespace ?? "") { return (a.namespace ?? "") < (b.namespace ?? "") }
        return a.name < b.name
    }

    private static func rank(_ kind: String) -> Int {
        ["Namespace", "Secret", "Service", "EndpointSlice", "Deployment", "ReferenceGrant", "Middleware", "HTTPRoute"].firstIndex(of: kind) ?? 99
    }
}

/// Kubernetes name rules, used before any input text becomes a name.
public enum KubernetesName {
    /// RFC 1123 label (namespaces, most names): lower-case alphanumerics and `-`,
    /// starting and ending alphanumeric, at most 63 characters.
    public static func isLabel(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 63 else { return false }
        let scalars = Array(text.unicodeScalars)
        guard isAlphanumeric(scalars.first!), isAlphanumeric(scalars.last!) else { return false }
        return scalars.allSatisfy { isAlphanumeric($0) || $0 == "-" }
    }

    /// RFC 1035 label (Service names): a label that starts with a letter.
    public static func isServiceName(_ text: String) -> Bool {
        isLabel(text) && (text.unicodeScalars.first.map { ("a"..."z").contains($0) } ?? false)
    }

    /// Makes a label from free text: lower-cased, other characters as `-`, trimmed to
    /// 63 characters, with `prefix` in front when it would not start with a letter.
    public static func label(from text: String, prefix: String = "x") -> String {
        var result = ""
        for scalar in text.lowercased().unicodeScalars {
            if isAlphanumeric(scalar) { result.unicodeScalars.append(scalar) } else if !result.hasSuffix("-") { result += "-" }
        }
        while result.hasPrefix("-") { result.removeFirst() }
        if result.first.map({ !$0.isLetter }) ?? true { result = prefix + "-" + result }
        if result.utf8.count > 63 { result = String(result.prefix(63)) }
        while result.hasSuffix("-") { result.removeLast() }
        return result
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
