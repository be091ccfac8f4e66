/// Traefik evaluates path expressions with Go's RE2, which takes linear time; authgate
/// evaluates them with Swift's backtracking engine, for which a quantified group that
/// itself repeats (`(a*)*`, `(x+)+`) can take exponential time. Such expressions are
/// refused rather than risk a hang.
enum RegexSafety {
    static func problem(in pattern: String) -> String? {
        guard pattern.utf8.count <= 1024 else { return "it is longer than the 1024 characters Gateway API allows" }
        var groupHasQuantifier: [Bool] = []
        var lastClosedGroupHadQuantifier = false
        var characters = Array(pattern)[...]
        var inClass = false
        while let character = characters.popFirst() {
            if character == "\\" { _ = characters.popFirst(); lastClosedGroupHadQuantifier = false; continue }
            if inClass { if character == "]" { inClass = false }; continue }
            switch character {
            case "[": inClass = true; lastClosedGroupHadQuantifier = false
            case "(": groupHasQuantifier.append(false); lastClosedGroupHadQuantifier = false
            case ")":
                lastClosedGroupHadQuantifier = groupHasQuantifier.popLast() ?? false
                if lastClosedGroupHadQuantifier, !groupHasQuantifier.isEmpty { groupHasQuantifier[groupHasQuantifier.count - 1] = true }
                continue
            case "*", "+", "{":
                if lastClosedGroupHadQuantifier { return "a repeated group repeats inside itself, which authgate cannot evaluate in bounded time" }
                if !groupHasQuantifier.isEmpty { groupHasQuantifier[groupHasQuantifier.count - 1] = true }
            default:
                break
            }
            lastClosedGroupHadQuantifier = false
        }
        return nil
    }
}
