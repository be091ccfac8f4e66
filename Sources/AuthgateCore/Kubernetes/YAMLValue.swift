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

    /// Tags shared by every node written: `Self.stringTag` alone builds a new `Constructor`
    /// with all its tables each time, which was a twentieth of a large conversion.
    /// Nothing mutates them after this point.
    private nonisolated(unsafe) static let constructor = Constructor.default
    private nonisolated(unsafe) static let stringTag = Tag(.str, .default, constructor)
    private nonisolated(unsafe) static let intTag = Tag(.int, .default, constructor)
    private nonisolated(unsafe) static let boolTag = Tag(.bool, .default, constructor)
    private nonisolated(unsafe) static let sequenceTag = Tag(.seq, .default, constructor)
    private nonisolated(unsafe) static let mappingTag = Tag(.map, .default, constructor)

    var node: Node {
        switch self {
        case .string(let text):
            // Multi-line text (an htpasswd list) reads best as a literal block.
            if text.utf8.contains(UInt8(ascii: "\n")) && !text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F }) && !text.hasPrefix(" ") {
                return Node(text, Self.stringTag, .literal)
            }
            return Node(text, Self.stringTag, Self.needsQuotes(text) ? .doubleQuoted : .plain)
        case .int(let number):
            return Node(String(number), Self.intTag)
        case .bool(let flag):
            return Node(flag ? "true" : "false", Self.boolTag)
        case .list(let items):
            return Node(items.map(\.node), Self.sequenceTag)
        case .map(let entries):
            return Node(entries.map { (Node($0.key, Self.stringTag, Self.needsQuotes($0.key) ? .doubleQuoted : .plain), $0.value.node) }, Self.mappingTag)
        }
    }

    /// Plain scalars that YAML 1.1 or 1.2 readers would take for something other than
    /// a string (numbers, booleans, null, dates) or that start with syntax are quoted.
    private static let specialWords: Set<String> = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "nan", ".nan", ".inf", "-.inf"]

    static func needsQuotes(_ text: String) -> Bool {
        let bytes = text.utf8
        guard let first = bytes.first, let last = bytes.last else { return true }
        if bytes.count <= 5 && specialWords.contains(text.lowercased()) { return true }
        let startsNumeric = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) || first == UInt8(ascii: "+") || first == UInt8(ascii: "-") || first == UInt8(ascii: ".")
        if startsNumeric {
            if Double(text) != nil || Int(text) != nil { return true }
            if bytes.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || numberPunctuation.contains($0) }) { return true }
        }
        if indicators.contains(first) { return true }
        if last == UInt8(ascii: ":") || last == UInt8(ascii: " ") || first == UInt8(ascii: " ") { return true }
        var previous: UInt8 = 0
        for byte in bytes {
            if byte < 0x20 || byte == 0x7F { return true }
            if previous == UInt8(ascii: ":") && byte == UInt8(ascii: " ") { return true }
            if previous == UInt8(ascii: " ") && byte == UInt8(ascii: "#") { return true }
            previous = byte
        }
        return false
    }

    /// Characters that may follow a leading digit in what a YAML reader takes for a
    /// number, date or time.
    private static let numberPunctuation = Set("-:.+eE_xXoObB".utf8)
    /// Characters that start YAML syntax when they begin a plain scalar.
    private static let indicators = Set("!&*?|>'\"%@`{}[],#:-".utf8)
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
