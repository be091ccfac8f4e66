/// Which Kubernetes object: API group, kind, namespace, name.
public struct ObjectRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var group: String
    public var kind: String
    public var namespace: String?
    public var name: String

    public init(group: String, kind: String, namespace: String?, name: String) {
        self.group = group
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String {
        "\(kind) \((namespace.map { "\($0)/" } ?? ""))\(name)" + (group.isEmpty ? "" : " (\(group))")
    }

    public static func < (lhs: ObjectRef, rhs: ObjectRef) -> Bool {
        (lhs.namespace ?? "", lhs.kind, lhs.name, lhs.group) < (rhs.namespace ?? "", rhs.kind, rhs.name, rhs.group)
    }
}
