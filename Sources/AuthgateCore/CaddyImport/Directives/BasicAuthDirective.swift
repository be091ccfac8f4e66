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
        if let algorithm = args.first, algorithm.text != "bcrypt" {
            throw algorithm.error("basic_auth hash algorithm '\(algorithm.text)' cannot be migrated: Traefik's basicAuth checks bcrypt, MD5-crypt and SHA1 htpasswd hashes only")
        }
        let realm = args.count > 1 ? args[1].text : nil
        var users: [String] = []
        let depth = cursor.nesting
        while cursor.nextBlock(depth) {
            guard let user = cursor.token else { break }
            let rest = cursor.remainingArgTokens()
            guard rest.count == 1 else { throw user.error("basic_auth needs a user name and a password hash on each line") }
            if user.text.contains(":") { throw user.error("basic_auth user name '\(user.text)' contains ':', which htpasswd cannot store") }
            users.append("\(user.text):\(rest[0].text)")
        }
        guard !users.isEmpty else { throw head.error("basic_auth needs at least one user") }
        let provider = AuthProvider(kind: .basicAuth, upstream: nil, endpoint: "", location: head.location)
        var withUsers = provider
        withUsers.basicAuthUsers = users
        withUsers.realm = realm
        let index = reader.register(withUsers)
        return [CaddyRoute(matcher: matcher, handlers: [.forwardAuth(provider: index, location: head.location)])]
    }
}
