/// One string a regular expression matches, for probing: literals kept, `.` and
/// classes as their first character, groups as their first alternative, `*` and `?`
/// as one repetition (else nothing), `+` and `{n}` as the minimum. Nil when the result
/// does not match (the expression uses something this does not follow), so callers
/// never probe a path that misses.
enum RegexSample {
    /// A request path the expression matches: clean, as both proxies see paths.
    static func generate(_ pattern: String) -> String? {
        candidates(pattern).lazy.compactMap { text -> String? in
            guard text.hasPrefix("/") || !pattern.hasPrefix("^") else { return nil }
            let candidate = text.hasPrefix("/") ? text : "/" + text
            return CaddyPath.clean(candidate) == candidate && PathPattern.regex(pattern).matches(candidate) ? candidate : nil
        }.first
    }

    /// A value (not a path) the expression matches, for header probes.
    static func value(_ pattern: String) -> String? {
        candidates(pattern).first { RegexCache([pattern]).firstMatch(pattern, in: $0) }
    }

    /// Samples of the expression without its outer anchors and flag: `x*` and `x?` as
    /// one `x` first (as nothing, `^/api/.*/admin` would give `/api//admin`, which no
    /// request path is: both proxies merge the slashes), then as nothing.
    private static func candidates(_ pattern: String) -> [String] {
        // Gateway API values are at most 1024 characters; longer ones are not sampled.
        guard pattern.utf8.count <= 1024, pattern.filter({ $0 == "(" }).count <= 64 else { return [] }
        var body = Substring(pattern)
        if body.hasPrefix("(?i)") { body = body.dropFirst(4) }
        while body.hasPrefix("^") { body = body.dropFirst() }
        if body.hasSuffix("$") && !body.hasSuffix("\\$") { body = body.dropLast() }
        return [true, false].compactMap { sample(Array(body), once: $0) }
    }

    /// The first alternative of `characters`, sampled atom by atom.
    private static func sample(_ characters: [Character], once: Bool) -> String? {
        let alternative = topLevelAlternatives(characters).first ?? []
        var result = ""
        var index = 0
        while index < alternative.count {
            var atom = ""
            let character = alternative[index]
            switch character {
            case "\\":
                guard index + 1 < alternative.count else { return nil }
                let escaped = alternative[index + 1]
                switch escaped {
                case "d": atom = "0"
                case "w": atom = "a"
                case "s": atom = " "
                case "D", "W", "S": atom = "-"
                // A word boundary matches between a word character and anything else.
                case "b", "B", "A", "z": atom = ""
                default: atom = String(escaped)
                }
                index += 2
            case "[":
                guard let end = classEnd(alternative, from: index) else { return nil }
                let inner = Array(alternative[(index + 1)..<end])
                if inner.first == "^" {
                    atom = "x"
                } else if let first = inner.first {
                    atom = first == "\\" && inner.count > 1 ? String(inner[1]) : String(first)
                } else {
                    return nil
                }
                index = end + 1
            case "(":
                guard let end = groupEnd(alternative, from: index) else { return nil }
                var inner = Array(alternative[(index + 1)..<end])
                if inner.starts(with: ["?", ":"]) { inner.removeFirst(2) } else if inner.first == "?" { return nil }
                guard let text = sample(inner, once: once) else { return nil }
                atom = text
                index = end + 1
            case ".":
                atom = "x"
                index += 1
            case "^", "$":
                // An anchor inside a group (`(^|,)admins(,|$)`) takes no text.
                index += 1
            case "*", "+", "?", "{", ")", "]", "|":
                return nil
            default:
                atom = String(character)
                index += 1
            }
            // A quantifier applies to the atom just read.
            if index < alternative.count {
                switch alternative[index] {
                case "*", "?":
                    if !once { atom = "" }
                    index += 1
                case "+":
                    index += 1
                case "{":
                    guard let close = alternative[index...].firstIndex(of: "}") else { return nil }
                    let spec = String(alternative[(index + 1)..<close])
                    let minimum = Int(spec.split(separator: ",", omittingEmptySubsequences: false).first ?? "") ?? 1
                    atom = String(repeating: atom, count: minimum)
                    index = close + 1
                default:
                    break
                }
                if index < alternative.count && alternative[index] == "?" { index += 1 }
            }
            result += atom
        }
        return result
    }

    private static func topLevelAlternatives(_ characters: [Character]) -> [[Character]] {
        var parts: [[Character]] = [[]]
        walk(characters, from: 0) { _, character, depth, structural in
            if structural && character == "|" && depth == 0 {
                parts.append([])
            } else {
                parts[parts.count - 1].append(character)
            }
            return true
        }
        return parts
    }

    /// Visits every character from `start` with the group depth after it, marking as
    /// structural those outside escapes and character classes; `visit` returns false
    /// to stop.
    private static func walk(_ characters: [Character], from start: Int, _ visit: (_ index: Int, _ character: Character, _ depth: Int, _ structural: Bool) -> Bool) {
        var depth = 0
        var index = start
        while index < characters.count {
            let character = characters[index]
            if character == "\\" {
                guard visit(index, character, depth, false) else { return }
                if index + 1 < characters.count {
                    guard visit(index + 1, characters[index + 1], depth, false) else { return }
                }
                index += 2
                continue
            }
            if character == "[" {
                let end = classEnd(characters, from: index) ?? characters.count - 1
                for inside in index...end {
                    guard visit(inside, characters[inside], depth, false) else { return }
                }
                index = end + 1
                continue
            }
            if character == "(" { depth += 1 } else if character == ")" { depth -= 1 }
            guard visit(index, character, depth, true) else { return }
            index += 1
        }
    }

    private static func classEnd(_ characters: [Character], from start: Int) -> Int? {
        var index = start + 1
        if index < characters.count && characters[index] == "^" { index += 1 }
        if index < characters.count && characters[index] == "]" { index += 1 }
        while index < characters.count {
            if characters[index] == "\\" { index += 2; continue }
            if characters[index] == "]" { return index }
            index += 1
        }
        return nil
    }

    private static func groupEnd(_ characters: [Character], from start: Int) -> Int? {
        var end: Int?
        walk(characters, from: start) { index, character, depth, structural in
            guard structural && character == ")" && depth == 0 else { return true }
            end = index
            return false
        }
        return end
    }
}
