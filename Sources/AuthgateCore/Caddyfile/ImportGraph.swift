/// Which file or snippet imports which, to refuse cycles before they expand forever.
///
/// Nodes are canonical file paths, or `path:snippet` for a snippet defined in that file
/// (Caddy namespaces snippets the same way, so two snippets of one file are distinct).
struct ImportGraph {
    private var edges: [String: [String]] = [:]
    private var edgeSet: Set<[String]> = []

    /// Adds `from → to` for each target; throws, naming the cycle, when one of them can
    /// already reach `from`.
    mutating func addEdges(from: String, to targets: [String], at token: Token) throws(DiagnosticError) {
        for target in targets {
            if let path = path(from: target, to: from) {
                let chain = ([from] + path).map(Self.display).joined(separator: " → ")
                throw token.error("import cycle: \(chain)")
            }
            if edgeSet.insert([from, target]).inserted {
                edges[from, default: []].append(target)
            }
        }
    }

    /// The nodes of a path of one or more edges from `start` to `goal`, both included;
    /// nil when there is none.
    private func path(from start: String, to goal: String) -> [String]? {
        var parent: [String: String] = [:]
        var queue = [start]
        var seen: Set<String> = [start]
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            for next in edges[node] ?? [] {
                if next == goal {
                    var reversed = [goal, node]
                    var step = node
                    while step != start, let up = parent[step] {
                        reversed.append(up)
                        step = up
                    }
                    return reversed.reversed()
                }
                if seen.insert(next).inserted {
                    parent[next] = node
                    queue.append(next)
                }
            }
        }
        return nil
    }

    /// Snippet nodes show as the snippet's name; file nodes as the file's last component.
    private static func display(_ node: String) -> String {
        if let colon = node.lastIndex(of: ":"), !node[node.index(after: colon)...].contains("/") {
            return "(\(node[node.index(after: colon)...]))"
        }
        return node.split(separator: "/").last.map(String.init) ?? node
    }
}
