/// Flux's post-build substitution (and envsubst): `${NAME}`, `${NAME:=default}` and
/// `${NAME:-default}` in manifest text stand for values the cluster's tooling fills in
/// before the API server sees them. authgate fills them from its environment (and
/// `--env-file`); one it cannot fill stays in the text, and where it stands in a
/// host, a name or a URL it is an error naming the variable (`unresolved`).
enum PostBuildSubstitution {
    /// The text with every variable the environment (or a default) gives replaced, and
    /// the names replaced.
    static func apply(_ text: String, environment: [String: String]) -> (text: String, substituted: [String]) {
        guard text.contains("${") else { return (text, []) }
        var result = ""
        var substituted: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            // `$${NAME}` is Flux's escape for a literal `${NAME}`.
            if result.hasSuffix("$") {
                result.removeLast()
                result += "${"
                rest = rest[start.upperBound...]
                continue
            }
            let body = rest[start.upperBound...]
            guard let close = body.firstIndex(of: "}") else { result += rest[start.lowerBound...]; rest = ""; break }
            let inner = body[..<close]
            let name = inner.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            let operation = inner.dropFirst(name.count)
            var value: String?
            if !name.isEmpty, name.first?.isNumber == false {
                if operation.isEmpty {
                    value = environment[String(name)]
                } else if operation.hasPrefix(":=") || operation.hasPrefix(":-") {
                    value = environment[String(name)].flatMap { $0.isEmpty ? nil : $0 } ?? String(operation.dropFirst(2))
                }
            }
            if let value {
                result += value
                if !substituted.contains(String(name)) { substituted.append(String(name)) }
            } else {
                result += rest[start.lowerBound...close]
            }
            rest = body[body.index(after: close)...]
        }
        return (result + rest, substituted)
    }

    /// The first `${…}` left in a value, as written, or nil.
    static func unresolved(in value: String) -> String? {
        guard let start = value.range(of: "${"), let close = value[start.upperBound...].firstIndex(of: "}") else { return nil }
        return String(value[start.lowerBound...close])
    }

    /// The message for a value that still holds a variable.
    static func message(_ what: String, _ value: String, _ variable: String) -> String {
        let inner = variable.dropFirst(2).dropLast()
        let name = inner.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        let operation = inner.dropFirst(name.count)
        let plain = !name.isEmpty && (operation.isEmpty || operation.hasPrefix(":=") || operation.hasPrefix(":-"))
        let hint = plain
            ? "set \(name) in the environment or an --env-file, as Flux's postBuild substitution (or envsubst) would"
            : "authgate fills in only ${NAME}, ${NAME:=default} and ${NAME:-default}; render the manifests first (flux build kustomization, or envsubst)"
        return "\(what) '\(value)' holds \(variable), which nothing filled in: \(hint)"
    }
}
