import Yams

/// An ordered YAML tree: mappings keep the order they are built in, so output never
/// depends on dictionary iteration.
public indirect enum YAMLValue: Hashable, Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([YAMLValue])
    case map([Entry])

    public struct Entry: Hashable, Sendable {
        public var key: String
        public var value: YAMLValue

        public init(_ key: String, _ value: YAMLValue) {
            self.key = key
            self.value = value
        }
    }

    /// A mapping from pairs, leaving out nil values.
    public static func object(_ pairs: [(String, YAMLValue?)]) -> YAMLValue {
        .map(pairs.compactMap { key, value in value.map { Entry(key, $0) } })
    }

    public static func strings(_ values: [String]) -> YAMLValue { .list(values.map(YAMLValue.string)) }

    public subscript(key: String) -> YAMLValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var node: Node {
        switch self {
        case .string(let text):
            // Multi-line text (an htpasswd list) reads best as a literal block.
            if text.contains("\n") && !text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F }) && !text.hasPrefix(" ") {
                return Node(text, Tag(.str), .literal)
            }
            return Node(text, Tag(.str), Self.needsQuotes(text) ? .doubleQuoted : .plain)
        case .int(let number):
            return Node(String(number), Tag(.int))
        case .bool(let flag):
            return Node(flag ? "true" : "false", Tag(.bool))
        case .list(let items):
            return Node(items.map(\.node), Tag(.seq))
        case .map(let entries):
            return Node(entries.map { (Node($0.key, Tag(.str), Self.needsQuotes($0.key) ? .doubleQuoted : .plain), $0.value.node) }, Tag(.map))
        }
    }

    /// Plain scalars that YAML 1.1 or 1.2 readers would take for something other than
    /// a string (numbers, booleans, null, dates) or that start with syntax are quoted.
    static func needsQuotes(_ text: String) -> Bool {
        if text.isEmpty { return true }
        let lower = text.lowercased()
        let special: Set<String> = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "nan", ".nan", ".inf", "-.inf"]
        if special.contains(lower) { return true }
        if Double(text) != nil || Int(text) != nil { return true }
        if text.first.map({ "0123456789+-.".contains($0) }) == true && text.allSatisfy({ $0.isNumber || "-:.+eE_xXoObB".contains($0) }) { return true }
        if let first = text.first, "!&*?|>'\"%@`{}[],#:-".contains(first) { return true }
        if text.contains(": ") || text.contains(" #") || text.hasSuffix(":") || text.hasSuffix(" ") || text.hasPrefix(" ") { return true }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return true }
        return false
    }
}

/// Writes objects as one multi-document YAML stream, each document started with `---`.
public enum YAMLWriter {
    /// One document. Yams' emitter runs with fixed options (block style, two-space
    /// indent, no line wrapping) so the same objects always print the same bytes.
    public static func document(_ value: YAMLValue) -> String {
        (try? serialize(value)) ?? ""
    }

    static func serialize(_ value: YAMLValue) throws(DiagnosticError) -> String {
        do {
            return try Yams.serialize(node: value.node, indent: 2, width: -1, allowUnicode: true, lineBreak: .ln, sortKeys: false)
        } catch {
            throw DiagnosticError("internal error: the YAML emitter refused an object: \(error)", at: nil)
        }
    }

    public static func stream(_ objects: [KubeObject]) throws(DiagnosticError) -> String {
        var text = ""
        for object in objects {
            text += "---\n" + (try serialize(object.yaml))
        }
        return text
    }
}
