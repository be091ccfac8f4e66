import Yams

/// A YAML node with the position it was written at. Converted from Yams once, with a
/// budget: Yams hands out every alias expanded to whoever walks the tree, so a
/// "billion laughs" document would otherwise expand without end.
public struct ManifestNode: Sendable {
    public indirect enum Value: Sendable {
        case scalar(String)
        case mapping([(key: String, value: ManifestNode)])
        case sequence([ManifestNode])
        case null
    }

    public var value: Value
    public var location: SourceLocation
    /// A scalar written without quotes (so `true` and `80` are a boolean and a number).
    public var isPlain = true

    public subscript(key: String) -> ManifestNode? {
        guard case .mapping(let entries) = value else { return nil }
        return entries.first { $0.key == key }?.value
    }

    public var string: String? {
        if case .scalar(let text) = value { return text }
        return nil
    }

    public var int: Int? { string.flatMap { Int($0) } }

    public var sequence: [ManifestNode]? {
        if case .sequence(let items) = value { return items }
        return nil
    }

    public var entries: [(key: String, value: ManifestNode)]? {
        if case .mapping(let entries) = value { return entries }
        return nil
    }

    /// The node as a YAML value to write out again: plain scalars that read as a
    /// number or a boolean stay one.
    public var yamlValue: YAMLValue {
        switch value {
        case .scalar(let text):
            if isPlain, let number = Int(text) { return .int(number) }
            if isPlain, text == "true" || text == "false" { return .bool(text == "true") }
            return .string(text)
        case .mapping(let entries):
            return .map(entries.map { YAMLValue.Entry($0.key, $0.value.yamlValue) })
        case .sequence(let items):
            return .list(items.map(\.yamlValue))
        case .null:
            return .string("")
        }
    }

    public var isNull: Bool {
        if case .null = value { return true }
        return false
    }

    /// Converts a Yams node, counting every node visited (aliases count each time
    /// they are expanded) against `budget`.
    static func convert(_ node: Node, file: String, budget: inout Int, diagnostics: inout Diagnostics) throws(DiagnosticError) -> ManifestNode {
        budget -= 1
        let location = SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        guard budget >= 0 else {
            throw DiagnosticError("YAML expands to more nodes than the budget allows (aliases that repeat each other, a \"billion laughs\" document?); refusing to read it", at: location)
        }
        switch node {
        case .scalar(let scalar):
            if scalar.tag.description == Tag.Name.null.rawValue || (scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)) {
                return ManifestNode(value: .null, location: location)
            }
            return ManifestNode(value: .scalar(scalar.string), location: location, isPlain: scalar.style == .plain)
        case .mapping(let mapping):
            var entries: [(key: String, value: ManifestNode)] = []
            var seen = Set<String>()
            for (key, value) in mapping {
                budget -= 1
                guard let name = key.scalar?.string else {
                    let keyLocation = SourceLocation(file: file, line: key.mark?.line ?? location.line, column: key.mark?.column ?? location.column)
                    diagnostics.append(.warning("a mapping key that is not a plain value is ignored", at: keyLocation))
                    continue
                }
                if !seen.insert(name).inserted {
                    let keyLocation = SourceLocation(file: file, line: key.mark?.line ?? location.line, column: key.mark?.column ?? location.column)
                    throw DiagnosticError("duplicate key '\(name)' in a mapping", at: keyLocation)
                }
                entries.append((name, try convert(value, file: file, budget: &budget, diagnostics: &diagnostics)))
            }
            return ManifestNode(value: .mapping(entries), location: location)
        case .sequence(let sequence):
            var items: [ManifestNode] = []
            for item in sequence {
                items.append(try convert(item, file: file, budget: &budget, diagnostics: &diagnostics))
            }
            return ManifestNode(value: .sequence(items), location: location)
        case .alias:
            return ManifestNode(value: .null, location: location)
        }
    }
}

/// One Kubernetes object read from the input.
public struct ManifestObject: Sendable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var namespace: String?
    public var node: ManifestNode

    public var location: SourceLocation { node.location }
    public var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    public var annotations: [(key: String, value: ManifestNode)] { node["metadata"]?["annotations"]?.entries ?? [] }

    public func annotation(_ key: String) -> ManifestNode? {
        annotations.first { $0.key == key }?.value
    }
}
