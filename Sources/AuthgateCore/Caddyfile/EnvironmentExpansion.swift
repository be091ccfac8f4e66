/// `{$VAR}` and `{$VAR:default}` replaced before lexing, as Caddy does.
///
/// Caddy works on the raw text: the value may hold spaces (and so become several
/// tokens) or quotes, it is never expanded again (one level only), `{$}` stays as it
/// is, and an unset variable without a default becomes the empty string.
/// `{env.VAR}` is a runtime placeholder and is not touched here.
struct ExpandedText {
    /// The text after expansion.
    var scalars: [Unicode.Scalar]
    /// For each scalar, its offset in the original text; the scalars of an expanded
    /// value point at the `{$` they replaced. Nil when nothing was expanded.
    var origins: [Int]?
    /// Variables that were not set and had no default, by the offset of their `{$` in
    /// the original text: they expanded to nothing.
    var unset: [(offset: Int, name: String)] = []

    func originalOffset(of index: Int) -> Int {
        guard let origins else { return index }
        if origins.isEmpty { return 0 }
        return origins[min(index, origins.count - 1)]
    }

    static func expanding(_ source: [Unicode.Scalar], environment: [String: String]) -> ExpandedText {
        guard hasPlaceholder(source) else { return ExpandedText(scalars: source, origins: nil) }
        var unset: [(offset: Int, name: String)] = []
        var output: [Unicode.Scalar] = []
        var origins: [Int] = []
        output.reserveCapacity(source.count)
        origins.reserveCapacity(source.count)
        var index = 0
        while index < source.count {
            guard source[index] == "{", index + 1 < source.count, source[index + 1] == "$",
                let close = source[(index + 2)...].firstIndex(of: "}")
            else {
                output.append(source[index])
                origins.append(index)
                index += 1
                continue
            }
            let inner = String(String.UnicodeScalarView(source[(index + 2)..<close]))
            if inner.isEmpty {
                // `{$}` names nothing: Caddy leaves it in place.
                for offset in index...close {
                    output.append(source[offset])
                    origins.append(offset)
                }
                index = close + 1
                continue
            }
            let name: Substring
            let fallback: Substring?
            if let colon = inner.firstIndex(of: ":") {
                name = inner[..<colon]
                fallback = inner[inner.index(after: colon)...]
            } else {
                name = inner[...]
                fallback = nil
            }
            let value = environment[String(name)] ?? fallback.map(String.init) ?? ""
            if environment[String(name)] == nil && fallback == nil { unset.append((index, String(name))) }
            for scalar in value.unicodeScalars {
                output.append(scalar)
                origins.append(index)
            }
            index = close + 1
        }
        var result = ExpandedText(scalars: output, origins: origins)
        result.unset = unset
        return result
    }

    private static func hasPlaceholder(_ source: [Unicode.Scalar]) -> Bool {
        var previous: Unicode.Scalar = " "
        for scalar in source {
            if previous == "{" && scalar == "$" { return true }
            previous = scalar
        }
        return false
    }
}
