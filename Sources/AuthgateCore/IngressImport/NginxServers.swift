/// One nginx `location` that ingress-nginx writes for an Ingress path.
struct NginxLocation: Sendable, Hashable {
    /// The location's path (for a regex server, the expression after `^`).
    var path: String
    /// `location = /path`.
    var exact: Bool
    /// The path's Ingress sets use-regex, or a rewrite-target other than the path.
    var regex: Bool
}

/// How ingress-nginx turns a host's Ingress paths into one nginx `server` and nginx
/// picks its location (controller v1.15: `location.go`, `template.go` buildLocation,
/// `controller.go` sorting):
///
/// - `Exact /p` → `location = /p`; `ImplementationSpecific /p` → `location /p`, a
///   prefix of characters (`/api` takes `/apix`); `Prefix /p` → `location /p/` plus
///   `location = /p` (and `Prefix /p/` → `location /p/` plus `= /p/`: the trailing slash
///   is not ignored, whatever the Ingress spec says).
/// - Without regex, an exact location wins, else the longest prefix.
/// - When any path of the host comes from an Ingress with use-regex (or a rewrite),
///   every location of the host is `location ~* "^path"` — case-insensitive, anchored
///   at the start only, Exact ones too — tried longest path first (equal lengths in
///   descending order of the text), the first that matches winning.
enum NginxServers {
    static func locations(_ path: String, pathType: String, regex: Bool) -> [NginxLocation] {
        let value = path.isEmpty ? "/" : path
        switch pathType {
        case "Exact":
            return [NginxLocation(path: value, exact: true, regex: regex)]
        case "Prefix" where value != "/" && !regex:
            let normalized = value.hasSuffix("/") ? value : value + "/"
            return [NginxLocation(path: normalized, exact: false, regex: false), NginxLocation(path: value, exact: true, regex: false)]
        default:
            return [NginxLocation(path: value, exact: false, regex: regex)]
        }
    }

    /// Sets each nginx router's match and priority from its host's server.
    static func rank(_ routers: inout [IngressRouter]) throws(DiagnosticError) {
        var byHost: [String?: [Int]] = [:]
        for index in routers.indices where routers[index].nginx != nil { byHost[routers[index].host, default: []].append(index) }
        for (_, indices) in byHost {
            for index in indices where routers[index].appRoot { routers[index].priority = Int.max / 2 }
            let indices = indices.filter { !routers[$0].appRoot }
            let regexServer = indices.contains { routers[$0].nginx!.regex }
            guard regexServer else {
                for index in indices {
                    let location = routers[index].nginx!
                    routers[index].priority = location.exact ? 1_000_000 + location.path.utf8.count : location.path.utf8.count
                }
                continue
            }
            let ordered = indices.sorted { a, b in
                let (pa, pb) = (routers[a].nginx!.path, routers[b].nginx!.path)
                if pa.utf8.count != pb.utf8.count { return pa.utf8.count > pb.utf8.count }
                return pa != pb ? pa > pb : a < b
            }
            // One path written twice on a host is one location: ingress-nginx keeps the
            // oldest Ingress's, which the input does not say, so the two tie (and are
            // unknown where they differ, IngressBehaviour).
            var rank = 0
            var previous: String?
            for index in ordered {
                let path = routers[index].nginx!.path
                if path != previous { rank += 1 }
                previous = path
                let expression = "(?i)^" + path
                if let problem = RegexSafety.problem(in: expression) {
                    throw DiagnosticError("path expression '\(path)' cannot be migrated: \(problem)", at: routers[index].location)
                }
                routers[index].match = .regex(expression)
                routers[index].priority = ordered.count - rank
            }
        }
    }

    /// What `rewrite "(?i)PATH" TARGET break;` does to the path, where authgate can say:
    /// a target without captures replaces the whole path; `PREFIX(/|$)(.*)` with
    /// `/$2` strips a literal prefix (ingress-nginx's documented form). Nil otherwise.
    static func rewrite(path: String, target: String) -> PathRewrite? {
        if !target.contains("$") { return .replacePath(target) }
        let literalEnd = path.firstIndex { "\\.+*?()|[]{}^$".contains($0) } ?? path.endIndex
        let prefix = String(path[..<literalEnd])
        let rest = path[literalEnd...]
        guard !prefix.isEmpty, prefix != "/" else { return nil }
        if rest == "(/|$)(.*)" && target == "/$2" { return .stripPrefix(prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix) }
        if rest == "(.*)" && target == "/$1" && prefix.hasSuffix("/") { return .stripPrefix(String(prefix.dropLast())) }
        return nil
    }
}
