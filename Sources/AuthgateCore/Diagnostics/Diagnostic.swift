/// A message about the input, produced by any stage and printed only by the CLI.
///
/// Stages append diagnostics to a `Diagnostics` collection and throw only when nothing
/// sensible can continue (then they throw a `DiagnosticError` carrying the error).
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable, Comparable, CaseIterable {
        case error, warning, note

        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .note: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    public var severity: Severity
    public var message: String
    public var location: SourceLocation?
    /// How the text at `location` got there: each entry is an `import` that brought it
    /// in, innermost first.
    public var importChain: [ImportSite]

    public init(
        _ severity: Severity, _ message: String, at location: SourceLocation?,
        importChain: [ImportSite] = []
    ) {
        self.severity = severity
        self.message = message
        self.location = location
        self.importChain = importChain
    }

    public static func error(_ message: String, at location: SourceLocation?, importChain: [ImportSite] = []) -> Diagnostic {
        Diagnostic(.error, message, at: location, importChain: importChain)
    }

    public static func warning(_ message: String, at location: SourceLocation?, importChain: [ImportSite] = []) -> Diagnostic {
        Diagnostic(.warning, message, at: location, importChain: importChain)
    }

    public static func note(_ message: String, at location: SourceLocation?, importChain: [ImportSite] = []) -> Diagnostic {
        Diagnostic(.note, message, at: location, importChain: importChain)
    }

    /// Compiler form: `file:line:col: error: message`, then one `note:` line per import
    /// that brought the text in.
    public var description: String {
        var text = location.map { "\($0): " } ?? "authgate: "
        text += "\(severity.rawValue): \(message)"
        for site in importChain {
            text += "\n\(site.location): note: imported from here"
            if let snippet = site.snippet { text += " (snippet \(snippet))" }
        }
        return text
    }
}

/// One `import` directive that brought tokens into the place they are used.
public struct ImportSite: Hashable, Sendable {
    public var location: SourceLocation
    /// The snippet that was imported, or nil when a file was.
    public var snippet: String?

    public init(location: SourceLocation, snippet: String?) {
        self.location = location
        self.snippet = snippet
    }
}

/// An error that stops a stage. It carries the diagnostic to print.
public struct DiagnosticError: Error, Sendable, CustomStringConvertible {
    public var diagnostic: Diagnostic

    public init(_ diagnostic: Diagnostic) {
        self.diagnostic = diagnostic
    }

    public init(_ message: String, at location: SourceLocation?, importChain: [ImportSite] = []) {
        self.diagnostic = .error(message, at: location, importChain: importChain)
    }

    public var description: String { diagnostic.description }
}

/// The diagnostics collected over a run, in the order they were found.
public struct Diagnostics: Sendable {
    public private(set) var all: [Diagnostic] = []

    public init() {}

    public mutating func append(_ diagnostic: Diagnostic) {
        all.append(diagnostic)
    }

    public mutating func append(contentsOf other: Diagnostics) {
        all.append(contentsOf: other.all)
    }

    public var hasErrors: Bool { all.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { all.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { all.filter { $0.severity == .warning } }

    /// Stable order for printing: by file, line, column, then severity and message, so
    /// the same input always prints the same lines.
    public var sorted: [Diagnostic] {
        all.enumerated().sorted { a, b in
            let (la, lb) = (a.element.location, b.element.location)
            if la != lb {
                guard let la else { return true }
                guard let lb else { return false }
                return la < lb
            }
            if a.element.severity != b.element.severity { return a.element.severity < b.element.severity }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// `sorted`, with repeats of one message shape (the same warning for each `tls` or
    /// `log` line, or for a snippet imported into ten sites) folded into the first: one
    /// line that says how many there are and where the next three are.
    public var grouped: [Diagnostic] {
        var order: [String] = []
        var groups: [String: [Diagnostic]] = [:]
        for (index, diagnostic) in sorted.enumerated() {
            // Errors are each worth reading; warnings and notes group by shape.
            let key = diagnostic.severity == .error ? "\(index)" : diagnostic.severity.rawValue + "\u{0}" + Self.shape(of: diagnostic.message)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(diagnostic)
        }
        return order.map { key in
            let members = groups[key]!
            guard members.count > 1, var first = members.first else { return members[0] }
            let names = Set(members.map { Self.quoted(in: $0.message) })
            // Where each repeat is: its own line, or the import that brought it in.
            var places: [String] = []
            for member in members.dropFirst() {
                let location = member.location == first.location ? member.importChain.first?.location ?? member.location : member.location
                var place = location.map { $0.file == first.location?.file ? "line \($0.line)" : "\($0.file):\($0.line)" } ?? "?"
                if names.count > 1, let name = Self.quoted(in: member.message).first { place = "'\(name)' at " + place }
                if !places.contains(place) { places.append(place) }
            }
            var shown = places.prefix(3).joined(separator: ", ") + (places.count > 3 ? ", …" : "")
            if places.allSatisfy({ $0.hasPrefix("line ") }) {
                shown = (places.count > 1 ? "lines " : "line ") + places.prefix(3).map { String($0.dropFirst("line ".count)) }.joined(separator: ", ") + (places.count > 3 ? ", …" : "")
            }
            first.message += " (\(members.count) times; also \(places.contains { $0.hasPrefix("'") } ? "" : "at ")" + shown + ")"
            return first
        }
    }

    /// A message with its single-quoted names, and the words holding digits (addresses,
    /// ports, Service names made from them), taken out.
    static func shape(of message: String) -> String {
        quotesRemoved(message).split(separator: " ").map { $0.contains(where: \.isNumber) ? "#" : String($0) }.joined(separator: " ")
    }

    private static func quotesRemoved(_ message: String) -> String {
        var result = ""
        var inQuote = false
        var previous: Character = " "
        for character in message {
            if character == "'" && !inQuote && !(previous.isLetter) {
                inQuote = true
                result.append("'")
            } else if character == "'" && inQuote {
                inQuote = false
                result.append("'")
            } else if !inQuote {
                result.append(character)
            }
            previous = character
        }
        return inQuote ? message : result
    }

    static func quoted(in message: String) -> [String] {
        var names: [String] = []
        var current: String?
        var previous: Character = " "
        for character in message {
            if character == "'" && current == nil && !previous.isLetter {
                current = ""
            } else if character == "'", let name = current {
                names.append(name)
                current = nil
            } else if current != nil {
                current!.append(character)
            }
            previous = character
        }
        return names
    }
}
