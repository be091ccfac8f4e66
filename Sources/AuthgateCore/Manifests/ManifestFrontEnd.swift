import Yams

/// Reads Kubernetes YAML: every document of every file, with positions.
///
/// For now it checks syntax and notes which kinds it saw; the Ingress importer (which
/// will read Ingress, Middleware and Service objects) builds on it.
public struct ManifestFrontEnd: Sendable {
    public struct Document: Sendable {
        public var kind: String?
        public var apiVersion: String?
        public var location: SourceLocation
    }

    public init() {}

    public func parse(text: String, file: String, diagnostics: inout Diagnostics) throws(DiagnosticError) -> [Document] {
        var documents: [Document] = []
        do {
            let parser = try Yams.Parser(yaml: text)
            while let node = try parser.nextRoot() {
                let line = node.mark?.line ?? 1
                let column = node.mark?.column ?? 1
                let location = SourceLocation(file: file, line: line, column: column)
                guard let mapping = node.mapping else {
                    diagnostics.append(.warning("this YAML document is not a mapping, so it is not a Kubernetes object; skipped", at: location))
                    continue
                }
                documents.append(Document(kind: mapping["kind"]?.string, apiVersion: mapping["apiVersion"]?.string, location: location))
            }
        } catch let error as YamlError {
            throw Self.diagnostic(for: error, file: file)
        } catch {
            throw DiagnosticError("cannot read YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
        return documents
    }

    static func diagnostic(for error: YamlError, file: String) -> DiagnosticError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text))" }
            return DiagnosticError(message, at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case .reader(let problem, _, _, _):
            return DiagnosticError("invalid YAML input: \(problem)", at: SourceLocation(file: file, line: 1, column: 1))
        default:
            return DiagnosticError("invalid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }
}
