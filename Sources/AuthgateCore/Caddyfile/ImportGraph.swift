/// Which file or snippet imports which, to refuse cycles before they expand forever.
///
/// Nodes are canonical file paths, or `path:snippet` for a snippet defined in that file
/// (Caddy namespaces snippets the same way, so two snippets of one file are distinct).
/// Each node also has a label for messages: the path as the user wrote it, or
/// `(snippet)`.
struct ImportGraph {
    struct Node {
        /// Identity: the canonical path, or `path:snippet`.
        var key: String
        /// What a message shows.
        var label: String
    }

    private var edges: [String: [String]] = [:]
    private var edgeSet: Set<[String]> = []
    private var labels: [String: String] = [:]

    /// Adds `from → to` for each target; throws, naming the cycle, when one of them can
    /// already reach `from`.
    mutating func addEdges(from source: Node, to targets: [Node], at token: Token) throws(DiagnosticError) {
        labels[source.key] = labels[source.key] ?? source.label
        let from = source.key
        for node in targets {
            labels[node.key] = labels[node.key] ?? node.label
            let target = node.key
            if let path = path(from: target, to: from) {
                let chain = ([from] + path).map { labels[$0] ?? $0 }.joined(separator: " → ")
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
}
