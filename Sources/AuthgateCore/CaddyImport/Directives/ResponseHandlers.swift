/// `@name status 2xx 401…` and `handle_response [@name] { … }` inside `reverse_proxy`
/// and `forward_auth`: what Caddy does with the upstream's answer.
///
/// Caddy sends a request on to the next handler when a `handle_response` block's routes
/// write no response, so a block authgate cannot read exactly may let a request the
/// auth server refused reach the backend; callers make such blocks unknown.
struct ResponseHandlers {
    struct Handler {
        /// The status codes or classes (`2xx`) its matcher names; empty: every answer;
        /// nil: a matcher authgate does not read (on headers, or on more than status).
        var statuses: [String]?
        var body: [Segment]
        var head: Token
    }

    private(set) var matchers: [String: [String]?] = [:]
    private(set) var handlers: [Handler] = []

    /// Reads one sub-directive if it is a response matcher or `handle_response`; false
    /// when it is neither (the cursor is left where it was).
    mutating func read(_ sub: Token, _ cursor: inout TokenCursor) throws(DiagnosticError) -> Bool {
        if sub.text.hasPrefix("@") {
            let args = cursor.remainingArgTokens()
            let depth = cursor.nesting
            var lines = 0
            while cursor.nextBlock(depth) {
                lines += 1
                _ = cursor.remainingArgTokens()
            }
            if lines == 0, args.first?.text == "status", args.count > 1 {
                matchers[sub.text] = args.dropFirst().map(\.text)
            } else {
                matchers[sub.text] = .some(nil)
            }
            return true
        }
        guard sub.text == "handle_response" else { return false }
        var statuses: [String]? = []
        if cursor.nextArg(), let token = cursor.token, !token.isOpenBrace {
            guard let codes = matchers[token.text] else { throw token.error("unrecognized response matcher: \(token.text)") }
            statuses = codes
        } else if cursor.token?.isOpenBrace == true {
            cursor.back()
        }
        handlers.append(Handler(statuses: statuses, body: cursor.blockSegments(), head: sub))
        return true
    }

    var isEmpty: Bool { handlers.isEmpty }

    /// Whether the codes mean exactly the 2xx answers (Caddy's `2xx`, or 200 alone,
    /// which is what auth servers answer).
    static func isSuccess(_ statuses: [String]?) -> Bool {
        guard let statuses else { return false }
        return !statuses.isEmpty && statuses.allSatisfy { $0 == "2xx" || $0 == "200" }
    }

    /// Whether a block's routes always answer the client themselves, so the request
    /// never goes on to the backend.
    static func alwaysAnswers(_ body: [Segment]) -> Bool {
        let terminals: Set<String> = ["respond", "error", "redir", "copy_response", "abort", "reverse_proxy", "file_server"]
        return body.contains { terminals.contains($0.directive) && !($0.tokens.dropFirst().first.map { $0.text.hasPrefix("@") || $0.text.hasPrefix("/") } ?? false) }
    }
}
