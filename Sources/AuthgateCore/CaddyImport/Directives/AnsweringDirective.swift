/// Directives Gateway API cannot reproduce.
///
/// Those that answer the request themselves (`respond`, `abort`, `error`,
/// `file_server`, `php_fastcgi`, `metrics`, `acme_server`) end routing: the output
/// keeps a rule for their paths with no backend (Traefik answers it with an error)
/// so the paths never fall through to another backend. The others (`templates`,
/// `try_files`, `method`, `invoke`, …) are left out. Both are warnings with the line.
enum AnsweringDirective {
    static func read(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        var cursor = segment.cursor
        cursor.next()
        guard let head = cursor.token else { return [] }
        let matcher = try reader.matcherToken(&cursor, scope: scope)
        let what: String
        switch head.text {
        case "respond", "error": what = "answers requests itself"
        case "abort": what = "drops the connection"
        case "file_server": what = "serves files from the Caddy host; serve them from a Service in the cluster"
        case "php_fastcgi": what = "runs PHP over FastCGI; Gateway API backends speak HTTP, so put a web server in front of PHP-FPM"
        default: what = "has no Gateway API equivalent"
        }
        reader.warn("'\(head.text)' \(what); authgate keeps a route without a backend for these requests (Traefik answers it with an error), so they never reach another backend", at: head)
        return [CaddyRoute(matcher: matcher, handlers: [.answer(directive: head.text, location: head.location)])]
    }

    /// `invoke` runs a named route authgate does not migrate; `try_files` rewrites the
    /// path depending on files on the Caddy host. Either can change what a request
    /// meets next, so the requests they touch are unknown.
    static func readUnknown(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        var cursor = segment.cursor
        cursor.next()
        guard let head = cursor.token else { return [] }
        let matcher = try reader.matcherToken(&cursor, scope: scope)
        let why = head.text == "invoke" ? "it runs a named route, which authgate does not migrate" : "it rewrites the path depending on files on the Caddy host"
        let construct = UnknownConstruct(
            construct: "directive '\(head.text)'", location: head.location,
            resolution: "\(why); if it has no effect on access, pass --ignore-directive \(head.text)")
        return [CaddyRoute(matcher: matcher, handlers: [.unknown(construct)])]
    }

    static func readNonTerminal(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        guard let head = segment.tokens.first else { return [] }
        reader.warn("'\(head.text)' has no Gateway API equivalent and is left out; check the requests it changed", at: head)
        return []
    }
}
