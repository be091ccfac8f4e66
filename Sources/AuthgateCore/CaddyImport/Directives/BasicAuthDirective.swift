/// `basic_auth [<matcher>] [<hash_algorithm> [<realm>]] { <username> <hashed_password> … }`
///
/// HTTP basic auth the proxy checks itself. It becomes an auth provider like
/// forward auth, and in Traefik a `basicAuth` Middleware whose Secret holds the same
/// bcrypt hashes (`user:hash`, the htpasswd form Traefik reads).
enum BasicAuthDirective {
    static func read(_ segment: Segment, _ scope: CaddySiteReader.Scope, _ reader: inout CaddySiteReader) throws(DiagnosticError) -> [CaddyRoute] {
        var cursor = segment.cursor
        cursor.next()
        guard let head = cursor.token else { return [] }
        let matcher = try reader.matcherToken(&cursor, scope: scope)
        let args = cursor.remainingArgTokens()
        // What the output cannot check the same way makes the requests unknown (Caddy
        // accepts it; only the migration cannot keep it).
        var unknown: UnknownConstruct?
        if let algorithm = args.first, algorithm.text != "bcrypt" {
            unknown = UnknownConstruct(
                construct: "basic_auth \(algorithm.text)", location: algorithm.location,
                resolution: "Traefik's basicAuth checks bcrypt, MD5-crypt and SHA1 htpasswd hashes only: hash the passwords again with caddy hash-password (bcrypt)")
        }
        let realm = args.count > 1 ? args[1].text : nil
        var users: [String] = []
        let depth = cursor.nesting
        while cursor.nextBlock(depth) {
            guard let user = cursor.token else { break }
            let rest = cursor.remainingArgTokens()
            guard rest.count == 1 else { throw user.error("basic_auth needs a user name and a password hash on each line") }
            if user.text.contains(":") { throw user.error("basic_auth user name '\(user.text)' contains ':', which htpasswd cannot store") }
            if rest[0].text.contains("{") || user.text.contains("{") {
                unknown = unknown ?? UnknownConstruct(
                    construct: "basic_auth user \(user.text)", location: rest[0].location,
                    resolution: "its password hash '\(rest[0].text)' is a placeholder Caddy fills in when it runs; write the bcrypt hash out")
            }
            users.append("\(user.text):\(rest[0].text)")
        }
        if let unknown { return [CaddyRoute(matcher: matcher, handlers: [.unknown(unknown)])] }
        guard !users.isEmpty else {
            // No user can pass: Caddy answers every request here with 401.
            reader.warn("basic_auth lists no users, so Caddy refuses every request it guards (401); the output keeps a rule without a backend for them", at: head)
            return [CaddyRoute(matcher: matcher, handlers: [.answer(directive: "basic_auth", location: head.location)])]
        }
        let provider = AuthProvider(kind: .basicAuth, upstream: nil, endpoint: "", location: head.location)
        var withUsers = provider
        withUsers.basicAuthUsers = users
        withUsers.realm = realm
        let index = reader.register(withUsers)
        return [CaddyRoute(matcher: matcher, handlers: [.forwardAuth(provider: index, location: head.location)])]
    }
}
