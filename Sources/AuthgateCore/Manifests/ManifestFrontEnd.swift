import Foundation
import Yams

/// Reads Kubernetes YAML: every document of a stream, with positions; `kind: List`
/// documents (as `kubectl get -o yaml` prints them) are opened into their items.
public struct ManifestFrontEnd: Sendable {
    /// How many YAML nodes a file may expand to (aliases count each time they are used).
    public var nodeBudget: Int

    public init(nodeBudget: Int = 1_000_000) {
        self.nodeBudget = nodeBudget
    }

    public struct Document: Sendable {
        public var kind: String?
        public var apiVersion: String?
        public var location: SourceLocation
    }

    /// The objects of a YAML stream; documents that are not objects are warnings.
    public func objects(text: String, file: String, environment: [String: String] = [:], diagnostics: inout Diagnostics) throws(DiagnosticError) -> [ManifestObject] {
        var objects: [ManifestObject] = []
        var budget = nodeBudget
        // Editors on Windows start a file with a byte order mark; it is not part of the
        // YAML (libyaml would read it as content of the first key when handed a String).
        var text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        try Self.refuseAliasKeys(text, file: file)
        let (substituted, names) = PostBuildSubstitution.apply(text, environment: environment)
        if !names.isEmpty {
            text = substituted
            diagnostics.append(.note("filled in \(names.map { "${\($0)}" }.joined(separator: ", ")) from the environment, as Flux's postBuild substitution would", at: SourceLocation(file: file, line: 1, column: 1)))
        }
        try Self.reading(file) { () throws -> Void in
            let parser = try Yams.Parser(yaml: text)
            while let root = try parser.nextRoot() {
                let node = try ManifestNode.convert(root, file: file, budget: &budget, diagnostics: &diagnostics)
                if node.isNull { continue }
                collect(node, into: &objects, insideList: false, diagnostics: &diagnostics)
            }
        }
        return objects
    }

    private func collect(_ node: ManifestNode, into objects: inout [ManifestObject], insideList: Bool, diagnostics: inout Diagnostics) {
        guard node.entries != nil else {
            diagnostics.append(.warning("this YAML document is not a mapping, so it is not a Kubernetes object; skipped", at: node.location))
            return
        }
        guard let kind = node["kind"]?.string, let apiVersion = node["apiVersion"]?.string else {
            // Traefik's file-provider dynamic configuration: its Middlewares are what
            // `NAME@file` in router.middlewares names.
            if let middlewares = node["http"]?["middlewares"]?.entries, node["kind"] == nil {
                for (name, spec) in middlewares {
                    objects.append(ManifestObject(apiVersion: "traefik.io/file-provider", kind: "FileMiddleware", name: name, namespace: nil, node: spec))
                }
                diagnostics.append(.note("Traefik file-provider configuration: \(middlewares.count) Middleware\(middlewares.count == 1 ? "" : "s") read (what NAME@file refers to)", at: node.location))
                return
            }
            diagnostics.append(.warning("this YAML document has no kind or apiVersion, so it is not a Kubernetes object; skipped", at: node.location))
            return
        }
        if kind == "List" || kind.hasSuffix("List") && node["items"] != nil {
            guard !insideList else {
                diagnostics.append(.warning("a \(kind) inside a List is not something kubectl prints; skipped", at: node.location))
                return
            }
            guard let items = node["items"]?.sequence else {
                if node["items"]?.isNull == false {
                    diagnostics.append(.warning("the items of this \(kind) are not a list; skipped", at: node["items"]?.location ?? node.location))
                }
                return
            }
            for item in items {
                collect(item, into: &objects, insideList: true, diagnostics: &diagnostics)
            }
            return
        }
        if apiVersion.hasPrefix("kustomize.config.k8s.io/") {
            // Kustomize's own configuration, not an object of the cluster.
            return
        }
        let metadata = node["metadata"]
        guard let name = metadata?["name"]?.string, !name.isEmpty else {
            // The API server refuses an object without a name: for the kinds authgate
            // converts from, the input is not what the cluster ran.
            if ["Ingress", "Middleware", "Service", "Secret", "IngressClass"].contains(kind) {
                diagnostics.append(Diagnostic(.error, "\(kind) without metadata.name: the API server refuses it, so this is not what the cluster ran (a template or test fixture?)", at: metadata?.location ?? node.location))
            } else {
                diagnostics.append(.warning("\(kind) without metadata.name; skipped", at: metadata?.location ?? node.location))
            }
            return
        }
        objects.append(ManifestObject(apiVersion: apiVersion, kind: kind, name: name, namespace: metadata?["namespace"]?.string, node: node))
    }

    /// The first document of a stream as a node (a kustomization, which is no object
    /// of the cluster).
    public func firstNode(text: String, file: String, diagnostics: inout Diagnostics) throws(DiagnosticError) -> ManifestNode? {
        var budget = nodeBudget
        return try Self.reading(file) { () throws -> ManifestNode? in
            let parser = try Yams.Parser(yaml: text)
            guard let root = try parser.nextRoot() else { return nil }
            return try ManifestNode.convert(root, file: file, budget: &budget, diagnostics: &diagnostics)
        }
    }

    /// Yams checks a mapping's keys for duplicates by hashing them whole, before
    /// authgate's node budget sees the document: a key built from aliases (an alias
    /// bomb as a complex key) takes exponential time there. Kubernetes objects never
    /// have such keys, so a document holding aliases and a complex or alias key is
    /// refused first, at the alias.
    static func refuseAliasKeys(_ text: String, file: String) throws(DiagnosticError) {
        guard text.contains("*") else { return }
        let bytes = Array(text.utf8)
        var line = 1, column = 1
        var firstAlias: (Int, Int)?
        var complexKey = false
        var previous: UInt8 = UInt8(ascii: "\n")
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let separator = previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\n") || previous == UInt8(ascii: "[") || previous == UInt8(ascii: "{") || previous == UInt8(ascii: ",") || previous == UInt8(ascii: "\t")
            if byte == UInt8(ascii: "*"), separator, index + 1 < bytes.count, bytes[index + 1].isAliasCharacter {
                if firstAlias == nil { firstAlias = (line, column) }
                // An alias used as a key: `*a: …`.
                var end = index + 1
                while end < bytes.count, bytes[end].isAliasCharacter { end += 1 }
                var after = end
                while after < bytes.count, bytes[after] == UInt8(ascii: " ") { after += 1 }
                if after < bytes.count, bytes[after] == UInt8(ascii: ":") { complexKey = true }
            }
            if byte == UInt8(ascii: "?"), separator, index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: " ") || bytes[index + 1] == UInt8(ascii: "\n") {
                complexKey = true
            }
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
            previous = byte
            index += 1
        }
        if let (aliasLine, aliasColumn) = firstAlias, complexKey {
            throw DiagnosticError("a mapping key built from YAML aliases (or an explicit '?' key next to aliases) is not something a Kubernetes object holds, and checking it can take exponential time (an alias bomb?); write the keys out", at: SourceLocation(file: file, line: aliasLine, column: aliasColumn))
        }
    }

    /// Runs a YAML read, its errors turned into positioned diagnostics.
    private static func reading<T>(_ file: String, _ body: () throws -> T) throws(DiagnosticError) -> T {
        do {
            return try body()
        } catch let error as YamlError {
            throw diagnostic(for: error, file: file)
        } catch let error as DiagnosticError {
            throw error
        } catch {
            throw DiagnosticError("cannot read YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    /// The documents of a stream, with their kinds (the input check's summary).
    public func parse(text: String, file: String, diagnostics: inout Diagnostics) throws(DiagnosticError) -> [Document] {
        try objects(text: text, file: file, diagnostics: &diagnostics).map {
            Document(kind: $0.kind, apiVersion: $0.apiVersion, location: $0.location)
        }
    }

    static func diagnostic(for error: YamlError, file: String) -> DiagnosticError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text))" }
            return DiagnosticError(message, at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return DiagnosticError("duplicate key \(keys) in a mapping", at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column))
        case .reader(let problem, let offset, let value, let yaml):
            // libyaml gives the byte offset of the bad character; say where it is.
            var line = 1, column = 1
            if let offset {
                let bytes = Array(yaml.utf8.prefix(offset))
                let lineStart = (bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
                line += bytes.count { $0 == UInt8(ascii: "\n") }
                column += String(decoding: bytes[lineStart...], as: UTF8.self).unicodeScalars.count
            }
            let shown = value >= 0 ? String(format: " (U+%04X)", value) : ""
            return DiagnosticError("invalid YAML input: \(problem)\(shown)", at: SourceLocation(file: file, line: line, column: column))
        default:
            return DiagnosticError("invalid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }
}

private extension UInt8 {
    /// A character of an anchor or alias name (what YAML allows, less flow indicators).
    var isAliasCharacter: Bool {
        !(self == UInt8(ascii: " ") || self == UInt8(ascii: "\n") || self == UInt8(ascii: "\t") || self == UInt8(ascii: "\r")
          || self == UInt8(ascii: ",") || self == UInt8(ascii: "[") || self == UInt8(ascii: "]") || self == UInt8(ascii: "{") || self == UInt8(ascii: "}")
          || self == UInt8(ascii: ":"))
    }
}
