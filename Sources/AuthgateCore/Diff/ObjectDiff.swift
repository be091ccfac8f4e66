/// `authgate diff`: the objects a conversion would write against objects already
/// somewhere (a file, an `--output-dir` folder, a `kubectl get -o yaml` dump), matched
/// by API group, kind, namespace and name, with server-set fields and key order ignored.
public enum ObjectDiff {
    public typealias Identity = ObjectRef

    public struct Change: Sendable, Equatable {
        public enum Kind: String, Sendable { case added, changed, removed, replaced }
        public var kind: Kind
        public var identity: Identity
        /// A unified diff of the canonical YAML, for changed objects.
        public var diff: String
    }

    /// Changes from `against` to `objects`. Objects in `against` that authgate manages
    /// (its managed-by label) and that are no longer written are removed; `replaced`
    /// (the Ingresses the new routes stand in for) are listed as replaced.
    public static func compare(objects: [KubeObject], against: [ManifestObject], replaced: [Identity]) -> [Change] {
        var theirs: [Identity: YAMLValue] = [:]
        for object in against {
            theirs[Identity(group: object.group, kind: object.kind, namespace: object.namespace, name: object.name)] = object.node.yamlValue
        }
        var changes: [Change] = []
        var ours = Set<Identity>()
        for object in objects {
            let identity = Identity(group: object.group, kind: object.kind, namespace: object.namespace, name: object.name)
            ours.insert(identity)
            guard let existing = theirs[identity] else {
                changes.append(Change(kind: .added, identity: identity, diff: ""))
                continue
            }
            var old = canonical(stripServerFields(existing))
            var new = canonical(object.yaml)
            if object.kind == "Secret" { (old, new) = maskSecrets(old, new) }
            let oldText = YAMLWriter.document(old)
            let newText = YAMLWriter.document(new)
            if oldText != newText {
                changes.append(Change(kind: .changed, identity: identity, diff: UnifiedDiff.render(old: oldText, new: newText, oldName: "against: \(identity)", newName: "authgate: \(identity)")))
            }
        }
        for (identity, value) in theirs where !ours.contains(identity) && isManagedByAuthgate(value) {
            changes.append(Change(kind: .removed, identity: identity, diff: ""))
        }
        for identity in replaced where !ours.contains(identity) {
            changes.append(Change(kind: .replaced, identity: identity, diff: ""))
        }
        return changes.sorted { $0.identity == $1.identity ? $0.kind.rawValue < $1.kind.rawValue : $0.identity < $1.identity }
    }

    /// Added, changed, removed and replaced objects, then each change's diff; coloured
    /// with ANSI escapes when `color`.
    public static func render(_ changes: [Change], color: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var text = ""
        for change in changes {
            switch change.kind {
            case .added: text += paint("+ added    \(change.identity)", "32") + "\n"
            case .changed: text += paint("~ changed  \(change.identity)", "33") + "\n"
            case .removed: text += paint("- removed  \(change.identity)", "31") + "\n"
            case .replaced: text += paint("- replaced \(change.identity) (the new routes stand in for it)", "31") + "\n"
            }
        }
        for change in changes where change.kind == .changed {
            text += "\n"
            for line in change.diff.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("+++") || line.hasPrefix("---") {
                    text += paint(String(line), "1") + "\n"
                } else if line.hasPrefix("+") {
                    text += paint(String(line), "32") + "\n"
                } else if line.hasPrefix("-") {
                    text += paint(String(line), "31") + "\n"
                } else if line.hasPrefix("@@") {
                    text += paint(String(line), "36") + "\n"
                } else if !line.isEmpty {
                    text += line + "\n"
                }
            }
        }
        return text
    }

    /// What the API server adds to an object, which a comparison must not count.
    static func stripServerFields(_ value: YAMLValue) -> YAMLValue {
        guard case .map(let entries) = value else { return value }
        let serverMetadata: Set<String> = ["uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"]
        var result: [YAMLValue.Entry] = []
        for entry in entries where entry.key != "status" {
            guard entry.key == "metadata", case .map(let metadata) = entry.value else {
                result.append(entry)
                continue
            }
            var kept: [YAMLValue.Entry] = []
            for field in metadata where !serverMetadata.contains(field.key) {
                if field.key == "annotations", case .map(let annotations) = field.value {
                    let rest = annotations.filter { $0.key != "kubectl.kubernetes.io/last-applied-configuration" }
                    if !rest.isEmpty { kept.append(.init("annotations", .map(rest))) }
                    continue
                }
                kept.append(field)
            }
            result.append(.init("metadata", .map(kept)))
        }
        return .map(result)
    }

    /// Mappings sorted by key, all the way down.
    static func canonical(_ value: YAMLValue) -> YAMLValue {
        switch value {
        case .map(let entries): return .map(entries.map { .init($0.key, canonical($0.value)) }.sorted { $0.key < $1.key })
        case .list(let items): return .list(items.map(canonical))
        default: return value
        }
    }

    /// A Secret's values never appear: both sides' `data` (decoded) and `stringData`
    /// are compared, then each value is shown as `<masked>` or, where they differ,
    /// `<masked: old value>` and `<masked: new value>`.
    static func maskSecrets(_ old: YAMLValue, _ new: YAMLValue) -> (YAMLValue, YAMLValue) {
        let oldValues = secretValues(old)
        let newValues = secretValues(new)
        func masked(_ object: YAMLValue, _ values: [String: String], other: [String: String], side: String) -> YAMLValue {
            guard case .map(let entries) = object else { return object }
            var result = entries.filter { $0.key != "data" && $0.key != "stringData" }
            if !values.isEmpty {
                result.append(.init("stringData", .map(values.keys.sorted().map { key in
                    .init(key, .string(other[key] == values[key] ? "<masked>" : "<masked: \(side) value>"))
                })))
            }
            return .map(result.sorted { $0.key < $1.key })
        }
        return (masked(old, oldValues, other: newValues, side: "old"), masked(new, newValues, other: oldValues, side: "new"))
    }

    private static func secretValues(_ object: YAMLValue) -> [String: String] {
        var values: [String: String] = [:]
        if case .map(let data)? = object["data"] {
            for entry in data {
                if let text = entry.value.stringValue, let decoded = Base64.decode(text) { values[entry.key] = decoded }
            }
        }
        if case .map(let strings)? = object["stringData"] {
            for entry in strings { values[entry.key] = entry.value.stringValue ?? "" }
        }
        return values
    }

    static func isManagedByAuthgate(_ object: YAMLValue) -> Bool {
        object["metadata"]?["labels"]?["app.kubernetes.io/managed-by"]?.stringValue == "authgate"
    }
}

enum Base64 {
    static func decode(_ text: String) -> String? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".unicodeScalars)
        var table: [Unicode.Scalar: UInt8] = [:]
        for (index, scalar) in alphabet.enumerated() { table[scalar] = UInt8(index) }
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for scalar in text.unicodeScalars where scalar != "=" && scalar != "\n" && scalar != " " {
            guard let value = table[scalar] else { return nil }
            buffer = (buffer << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return String(bytes: bytes, encoding: .utf8)
    }
}
