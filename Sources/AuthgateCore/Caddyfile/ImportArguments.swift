/// The placeholders an `import` fills in: `{args[n]}`, the deprecated `{args.n}`, and the
/// variadic `{args[:]}`, `{args[n:]}`, `{args[:m]}`, `{args[n:m]}` (a whole token
/// only), with Caddy 2.11's rules: a placeholder that does not fit (bad index, out of
/// range) is left as written and a warning says why.
enum ImportArguments {
    enum Variadic: Equatable {
        case range(Range<Int>)
        /// Not usable; left as written, with this warning.
        case invalid(String)
    }

    /// The argument range a whole-token `{args[n:m]}` stands for; nil when the token is
    /// not a variadic placeholder.
    static func variadic(_ text: String, argumentCount: Int) -> Variadic? {
        guard text.hasPrefix("{args["), text.hasSuffix("]}"), text.count >= "{args[]}".count else { return nil }
        let inner = text.dropFirst("{args[".count).dropLast("]}".count)
        if inner.isEmpty { return .invalid("placeholder \(text) cannot have an empty index; left as written") }
        guard let colon = inner.firstIndex(of: ":") else { return nil }
        let start = inner[..<colon]
        let end = inner[inner.index(after: colon)...]
        // Several placeholders in one token, such as {args[0]}:{args[1]}.
        if start.contains("}") || end.contains("{") { return nil }
        var lower = 0
        var upper = argumentCount
        if !start.isEmpty {
            guard let value = Int(start) else { return .invalid("variadic placeholder \(text) has an invalid start index; left as written") }
            lower = value
        }
        if !end.isEmpty {
            guard let value = Int(end) else { return .invalid("variadic placeholder \(text) has an invalid end index; left as written") }
            upper = value
        }
        guard lower >= 0, lower <= upper, upper <= argumentCount else {
            return .invalid("variadic placeholder \(text) indices are out of bounds, only \(argumentCount) argument(s) exist; left as written")
        }
        return .range(lower..<upper)
    }

    /// Replaces each `{args[n]}` and `{args.n}` inside `text`; unknown placeholders stay.
    /// As Caddy's replacer does, `\{` and `\}` lose their backslash.
    static func replacePlaceholders(in text: String, arguments: [String], warn: (String) -> Void) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") }) else { return text }
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var lastWritten = 0
        var index = 0
        let open = UInt8(ascii: "{")
        let close = UInt8(ascii: "}")
        let escape = UInt8(ascii: "\\")
        scan: while index < input.count {
            defer { index += 1 }
            if index > 0 && input[index - 1] == escape && (input[index] == open || input[index] == close) {
                output.append(contentsOf: input[lastWritten..<(index - 1)])
                lastWritten = index
                continue
            }
            guard input[index] == open else { continue }
            guard var end = input[index...].firstIndex(of: close) else { continue }
            while end > 0 && end < input.count - 1 && input[end - 1] == escape {
                guard let next = input[(end + 1)...].firstIndex(of: close) else { continue scan }
                end = next
            }
            let key = String(decoding: input[(index + 1)..<end], as: UTF8.self)
            guard let value = argumentValue(key, arguments: arguments, warn: warn) else { continue }
            output.append(contentsOf: input[lastWritten..<index])
            output.append(contentsOf: value.utf8)
            index = end
            lastWritten = end + 1
        }
        if lastWritten < input.count { output.append(contentsOf: input[lastWritten...]) }
        return String(decoding: output, as: UTF8.self)
    }

    private static func argumentValue(_ key: String, arguments: [String], warn: (String) -> Void) -> String? {
        if key.hasPrefix("args."), key.count > "args.".count {
            let index = key.dropFirst("args.".count)
            guard let value = Int(index), value >= 0 else {
                warn("placeholder {\(key)} has an invalid index; left as written")
                return nil
            }
            guard value < arguments.count else {
                warn("placeholder {\(key)} index is out of bounds, only \(arguments.count) argument(s) exist; left as written")
                return nil
            }
            warn("placeholder {\(key)} is deprecated; use {args[\(index)]} instead")
            return arguments[value]
        }
        if key.hasPrefix("args["), key.hasSuffix("]"), key.count > "args[]".count {
            let index = key.dropFirst("args[".count).dropLast()
            if index.contains(":") {
                warn("variadic placeholder {\(key)} must be a token on its own; left as written")
                return nil
            }
            guard let value = Int(index), value >= 0 else {
                warn("placeholder {\(key)} has an invalid index; left as written")
                return nil
            }
            guard value < arguments.count else {
                warn("placeholder {\(key)} index is out of bounds, only \(arguments.count) argument(s) exist; left as written")
                return nil
            }
            return arguments[value]
        }
        return nil
    }
}
