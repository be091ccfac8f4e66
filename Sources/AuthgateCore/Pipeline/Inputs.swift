/// What kind of input a file holds.
public enum InputKind: String, Sendable, CaseIterable {
    case caddyfile
    case manifests

    /// Guesses from the name and the first meaningful line: YAML files (by extension,
    /// a `---` line, or a top-level `apiVersion:`/`kind:` key) are manifests; anything
    /// else is read as a Caddyfile.
    public static func detect(path: String, bytes: [UInt8]) -> InputKind {
        let lower = path.lowercased()
        if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") || lower.hasSuffix(".json") { return .manifests }
        let text = String(decoding: bytes.prefix(64 << 10), as: UTF8.self)
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = rawLine.trimmingCharacters(in: [" ", "\t", "\r", "\u{FEFF}"])
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line == "---" || line.hasPrefix("--- ") || line.hasPrefix("apiVersion:") || line.hasPrefix("kind:") || line.hasPrefix("items:") {
                return .manifests
            }
            return .caddyfile
        }
        return .caddyfile
    }
}

extension Substring {
    func trimmingCharacters(in set: Set<Character>) -> Substring {
        var text = self
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return text
    }
}

/// One input of a conversion: a path, or `-` with the bytes already read from stdin.
public struct ConversionInput: Sendable {
    /// A path, or `-` for standard input.
    public var path: String
    /// The bytes, already read by the caller for standard input; nil to read `path`.
    public var bytes: [UInt8]?

    public init(path: String, bytes: [UInt8]? = nil) {
        self.path = path
        self.bytes = bytes
    }

    /// The name diagnostics use: the path, or `<stdin>`.
    public var name: String { path == "-" ? "<stdin>" : path }

    /// The input's bytes: those given, or the file's.
    public func read(from fileSystem: any InputFileSystem) throws(DiagnosticError) -> [UInt8] {
        if let bytes { return bytes }
        do {
            return try fileSystem.read(path)
        } catch {
            throw DiagnosticError("cannot read \(path): \(error)", at: nil)
        }
    }
}
