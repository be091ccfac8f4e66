/// Caddy 2.11's directive order (`httpcaddyfile/directives.go`, `defaultDirectiveOrder`):
/// inside a site or a `handle` block, directives run in this order whatever order they
/// were written in, so `forward_auth` always runs before `reverse_proxy`.
struct DirectiveOrder: Sendable {
    private(set) var names: [String] = [
        "tracing", "map", "vars", "fs", "root", "log_append", "skip_log", "log_skip", "log_name",
        "header", "copy_response_headers", "request_body", "redir",
        "method", "rewrite", "uri", "try_files",
        "basicauth", "basic_auth", "forward_auth", "request_header", "encode", "push", "intercept", "templates",
        "invoke", "handle", "handle_path", "route",
        "abort", "error", "copy_response", "respond", "metrics", "reverse_proxy", "php_fastcgi", "file_server", "acme_server",
    ]

    /// Applies the `order` global option: `order DIR first|last|before OTHER|after OTHER`.
    mutating func apply(_ arguments: [Token]) throws(DiagnosticError) {
        guard arguments.count >= 2 else {
            throw (arguments.first ?? arguments.last)?.error("order needs a directive and a position (first, last, before DIR, after DIR)")
                ?? DiagnosticError("order needs a directive and a position", at: nil)
        }
        let directive = arguments[0].text
        names.removeAll { $0 == directive }
        switch arguments[1].text {
        case "first": names.insert(directive, at: 0)
        case "last": names.append(directive)
        case "before", "after":
            guard arguments.count == 3 else { throw arguments[1].error("order \(directive) \(arguments[1].text) needs the directive to place it next to") }
            guard let anchor = names.firstIndex(of: arguments[2].text) else {
                throw arguments[2].error("order: '\(arguments[2].text)' is not an ordered directive")
            }
            names.insert(directive, at: arguments[1].text == "before" ? anchor : anchor + 1)
        default:
            throw arguments[1].error("order: unknown position '\(arguments[1].text)'; use first, last, before or after")
        }
    }

    /// The sort key of a plugin directive that no `order` option places: first.
    static let unorderedPlugin = "\u{0}unordered plugin"

    func position(of directive: String) -> Int {
        if directive == Self.unorderedPlugin { return -1 }
        return names.firstIndex(of: directive) ?? names.count
    }

    func contains(_ directive: String) -> Bool { names.contains(directive) }

    /// Caddy's `sortRoutes` (2.10 and later): stable by directive position; the same
    /// directive with one path each: a path before the same path with a trailing `*`,
    /// otherwise the longer path without its trailing `*` first, and equal lengths in
    /// byte order; when either has no single path, routes with a matcher go before
    /// those without. That comparison is not a consistent order when the kinds mix, so
    /// the result depends on the sorting algorithm: this is Go's `sort.SliceStable`
    /// (insertion sort in blocks of 20, then in-place merging), step for step.
    func sort(_ routes: [(directive: String, route: CaddyRoute)]) -> [(directive: String, route: CaddyRoute)] {
        var items = routes
        GoStableSort.sort(&items) { less($0, $1) }
        return items
    }

    private func less(_ a: (directive: String, route: CaddyRoute), _ b: (directive: String, route: CaddyRoute)) -> Bool {
        if a.directive != b.directive { return position(of: a.directive) < position(of: b.directive) }
        if let pathA = a.route.matcher.singlePath, let pathB = b.route.matcher.singlePath {
            let trimmedA = pathA.trimmingSuffix("*"), trimmedB = pathB.trimmingSuffix("*")
            if trimmedA == trimmedB { return pathA.utf8.count < pathB.utf8.count }
            if trimmedA.utf8.count == trimmedB.utf8.count { return trimmedA.utf8.lexicographicallyPrecedes(trimmedB.utf8) }
            return trimmedA.utf8.count > trimmedB.utf8.count
        }
        return a.route.matcher.hasConditions && !b.route.matcher.hasConditions
    }
}

/// Go's `sort.SliceStable`, whose exact steps matter when the comparison is not a
/// consistent order (as Caddy's route comparison is not).
enum GoStableSort {
    static func sort<T>(_ items: inout [T], by less: (T, T) -> Bool) {
        let count = items.count
        var blockSize = 20
        var start = 0, end = blockSize
        while end <= count {
            insertionSort(&items, start, end, less)
            start = end
            end += blockSize
        }
        insertionSort(&items, start, count, less)
        while blockSize < count {
            start = 0
            end = 2 * blockSize
            while end <= count {
                merge(&items, start, start + blockSize, end, less)
                start = end
                end += 2 * blockSize
            }
            if start + blockSize < count { merge(&items, start, start + blockSize, count, less) }
            blockSize *= 2
        }
    }

    private static func insertionSort<T>(_ items: inout [T], _ a: Int, _ b: Int, _ less: (T, T) -> Bool) {
        guard b - a > 1 else { return }
        for i in (a + 1)..<b {
            var j = i
            while j > a && less(items[j], items[j - 1]) {
                items.swapAt(j, j - 1)
                j -= 1
            }
        }
    }

    /// Merges the sorted runs `a..<m` and `m..<b` in place (SymMerge, by Kim and Kutzner).
    private static func merge<T>(_ items: inout [T], _ a: Int, _ m: Int, _ b: Int, _ less: (T, T) -> Bool) {
        if m - a == 1 {
            // One element on the left: find where it goes in the right run and move it.
            var low = m, high = b
            while low < high {
                let middle = (low + high) / 2
                if less(items[middle], items[a]) { low = middle + 1 } else { high = middle }
            }
            var k = a
            while k < low - 1 {
                items.swapAt(k, k + 1)
                k += 1
            }
            return
        }
        if b - m == 1 {
            // One element on the right: find where it goes in the left run.
            var low = a, high = m
            while low < high {
                let middle = (low + high) / 2
                if !less(items[m], items[middle]) { low = middle + 1 } else { high = middle }
            }
            var k = m
            while k > low {
                items.swapAt(k, k - 1)
                k -= 1
            }
            return
        }
        let middle = (a + b) / 2
        let n = middle + m
        var start: Int, r: Int
        if m > middle {
            start = n - b
            r = middle
        } else {
            start = a
            r = m
        }
        let p = n - 1
        while start < r {
            let c = (start + r) / 2
            if !less(items[p - c], items[c]) { start = c + 1 } else { r = c }
        }
        let end = n - start
        if start < m && m < end { rotate(&items, start, m, end) }
        if a < start && start < middle { merge(&items, a, start, middle, less) }
        if middle < end && end < b { merge(&items, middle, end, b, less) }
    }

    /// Turns `u v` (u = a..<m, v = m..<b) into `v u` by swapping blocks.
    private static func rotate<T>(_ items: inout [T], _ a: Int, _ m: Int, _ b: Int) {
        var i = m - a
        var j = b - m
        while i != j {
            if i > j {
                swapRange(&items, m - i, m, j)
                i -= j
            } else {
                swapRange(&items, m - i, m + j - i, i)
                j -= i
            }
        }
        swapRange(&items, m - i, m, i)
    }

    private static func swapRange<T>(_ items: inout [T], _ a: Int, _ b: Int, _ n: Int) {
        for offset in 0..<n { items.swapAt(a + offset, b + offset) }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> Substring {
        hasSuffix(suffix) ? dropLast(suffix.count) : Substring(self)
    }
}
