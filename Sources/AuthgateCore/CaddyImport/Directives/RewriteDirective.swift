/// `rewrite [<matcher>] <to>` and `uri [<matcher>] strip_prefix <prefix>`.
///
/// A fixed target path becomes `URLRewrite` `ReplaceFullPath`; `/base{uri}` adds a
/// prefix; `uri strip_prefix` (like `handle_path`) becomes `ReplacePrefixMatch`.
/// `rewrite`s of one block are mutually exclusive, as Caddy groups them. Targets with
/// other placeholders, queries, `uri replace` and `uri path_regexp` are warnings.
enum RewriteDirective {
    static func readRewrite(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        var cursor = segment.cursor
        cursor.next()
        guard let head = cursor.token else { return [] }
        // A lone argument is the target, even one that looks like a path matcher
        // (`rewrite /d`), as Caddy reads it.
        var peek = cursor
        let lone = peek.remainingArgTokens().count == 1
        let matcher = lone ? .always : try reader.matcherToken(&cursor, scope: scope)
        let args = cursor.remainingArgTokens()
        guard args.count == 1, let target = args.first else { throw cursor.argumentError() }
        let text = target.text
        let rewrite: PathRewrite
        if let stem = text.stripSuffix("{uri}") ?? text.stripSuffix("{path}") ?? text.stripSuffix("{http.request.uri}"), !stem.contains("{"), !stem.contains("?") {
            rewrite = .addPrefix(stem)
            reader.addedPrefixes.append(stem.lowercased())
        } else if !text.contains("{") && !text.contains("?") && text.hasPrefix("/") {
            rewrite = .replacePath(text)
        } else {
            reader.warn("rewrite target '\(text)' uses placeholders or a query that Gateway API's URLRewrite cannot express; the rewrite is left out, so the backend receives the original path", at: target)
            return [CaddyRoute(matcher: matcher, handlers: [])]
        }
        return [CaddyRoute(matcher: matcher, handlers: [.rewrite(rewrite, location: head.location)])]
    }

    static func readURI(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        var cursor = segment.cursor
        cursor.next()
        guard let head = cursor.token else { return [] }
        let matcher = try reader.matcherToken(&cursor, scope: scope)
        let args = cursor.remainingArgTokens()
        guard let operation = args.first else { throw cursor.argumentError() }
        switch operation.text {
        case "strip_prefix":
            guard args.count == 2 else { throw operation.error("uri strip_prefix needs exactly one prefix") }
            var prefix = args[1].text
            if !prefix.hasPrefix("/") { prefix = "/" + prefix }
            reader.strippedPrefixes.append(prefix.lowercased())
            return [CaddyRoute(matcher: matcher, handlers: [.rewrite(.stripPrefix(prefix), location: head.location)])]
        default:
            reader.warn("uri \(operation.text) cannot be expressed with Gateway API's URLRewrite; it is left out, so the backend receives the original path", at: operation)
            let depth = cursor.nesting
            while cursor.nextBlock(depth) {}
            return []
        }
    }
}

extension String {
    func stripSuffix(_ suffix: String) -> String? {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : nil
    }
}
