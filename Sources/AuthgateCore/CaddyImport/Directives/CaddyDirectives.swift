/// The directive handlers, one file each. A new directive is one new file and one line here.
enum CaddyDirectives {
    typealias Handler = @Sendable (Segment, CaddySiteReader.Scope, inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute]

    static let table: [String: Handler] = [
        "forward_auth": ForwardAuthDirective.read,
        "reverse_proxy": ReverseProxyDirective.read,
        "handle": HandleDirective.readHandle,
        "handle_path": HandleDirective.readHandlePath,
        "route": HandleDirective.readRoute,
        "redir": RedirDirective.read,
        "rewrite": RewriteDirective.readRewrite,
        "uri": RewriteDirective.readURI,
        "header": HeaderDirective.readResponseHeader,
        "request_header": HeaderDirective.readRequestHeader,
        "basic_auth": BasicAuthDirective.read,
        "basicauth": BasicAuthDirective.read,
        "respond": AnsweringDirective.read,
        "abort": AnsweringDirective.read,
        "error": AnsweringDirective.read,
        "file_server": AnsweringDirective.read,
        "php_fastcgi": AnsweringDirective.read,
        "metrics": AnsweringDirective.read,
        "acme_server": AnsweringDirective.read,
        "templates": AnsweringDirective.readNonTerminal,
        "try_files": AnsweringDirective.readUnknown,
        "method": AnsweringDirective.readNonTerminal,
        "invoke": AnsweringDirective.readUnknown,
        "intercept": AnsweringDirective.readNonTerminal,
        "request_body": AnsweringDirective.readNonTerminal,
        "map": AnsweringDirective.readNonTerminal,
        "vars": AnsweringDirective.readNonTerminal,
        "push": AnsweringDirective.readNonTerminal,
    ]

    /// Directives that configure the server, TLS or logging rather than routing; the
    /// Gateway (listeners, certificates) or Traefik's static configuration owns them.
    static let ignoredOutsideRoutes: Set<String> = [
        "tls", "encode", "log", "bind", "root", "fs", "tracing", "log_skip", "skip_log", "log_append", "log_name",
        "copy_response", "copy_response_headers", "handle_errors",
    ]
}
