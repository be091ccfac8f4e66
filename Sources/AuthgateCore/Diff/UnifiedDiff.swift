/// A unified diff of two texts, line by line, built on the standard library's
/// `CollectionDifference` (a Myers diff), with `context` lines around each change.
public enum UnifiedDiff {
    private enum Kind { case keep, remove, insert }

    private struct Line {
        var kind: Kind
        var text: String
        /// Lines of each side before this one.
        var oldBefore: Int
        var newBefore: Int
    }

    public static func render(old: String, new: String, oldName: String = "expected", newName: String = "actual", context: Int = 3) -> String {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let difference = b.difference(from: a)
        if difference.isEmpty { return "" }
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var lines: [Line] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count && (removed.contains(i) || j >= b.count) {
                lines.append(Line(kind: .remove, text: a[i], oldBefore: i, newBefore: j)); i += 1
            } else if j < b.count && (inserted.contains(j) || i >= a.count) {
                lines.append(Line(kind: .insert, text: b[j], oldBefore: i, newBefore: j)); j += 1
            } else {
                lines.append(Line(kind: .keep, text: a[i], oldBefore: i, newBefore: j)); i += 1; j += 1
            }
        }
        var output = "--- \(oldName)\n+++ \(newName)\n"
        var index = 0
        while let changeStart = lines[index...].firstIndex(where: { $0.kind != .keep }) {
            let start = max(index, changeStart - context)
            var lastChange = changeStart
            var cursor = changeStart
            while cursor < lines.count {
                if lines[cursor].kind != .keep {
                    lastChange = cursor
                } else if cursor - lastChange > 2 * context {
                    break
                }
                cursor += 1
            }
            let end = min(lines.count, lastChange + context + 1)
            let hunk = lines[start..<end]
            let oldCount = hunk.filter { $0.kind != .insert }.count
            let newCount = hunk.filter { $0.kind != .remove }.count
            let first = hunk.first!
            output += "@@ -\(first.oldBefore + (oldCount > 0 ? 1 : 0)),\(oldCount) +\(first.newBefore + (newCount > 0 ? 1 : 0)),\(newCount) @@\n"
            for line in hunk {
                switch line.kind {
                case .keep: output += " \(line.text)\n"
                case .remove: output += "-\(line.text)\n"
                case .insert: output += "+\(line.text)\n"
                }
            }
            index = end
            if index >= lines.count { break }
        }
        return output
    }
}
