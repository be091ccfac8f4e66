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
}
