/// Groups tokens into server blocks and segments the way Caddy 2.11's `parse.go` does,
/// expanding `import` (snippets first, then files and globs) as it goes.
///
/// The parser knows syntax only: which tokens form a block, which line a directive
/// owns, where braces must stand. What a directive means is the importer's business.
struct Parser {
    /// Canonical paths by path as written: an expanding import asks for the same few
    /// files' paths once per imported token run, and canonicalising is not cheap.
    private var canonicalPaths: [String: String] = [:]

    private mutating func canonical(_ path: String) -> String {
        if let known = canonicalPaths[path] { return known }
        let value = fileSystem.canonical(path)
        canonicalPaths[path] = value
        return value
    }

    /// Imports may not expand into more tokens than this in total; beyond it a
    /// Caddyfile is an expansion bomb, not a configuration.
    private let importedTokenBudget: Int

    private var cursor: TokenCursor
    private var block = ServerBlock()
    private var reachedEnd = false
    private var snippets: [String: [Token]] = [:]
    private var nesting = 0
    private var graph = ImportGraph()
    private var importedTokens = 0
    private let fileSystem: any InputFileSystem
    private let environment: [String: String]
    private(set) var diagnostics = Diagnostics()

    init(tokens: [Token], fileSystem: any InputFileSystem, environment: [String: String], importedTokenBudget: Int) {
        self.cursor = TokenCursor(tokens)
        self.importedTokenBudget = importedTokenBudget
        self.fileSystem = fileSystem
        self.environment = environment
    }

    /// The blocks in written order, snippets removed (their definitions are expanded
    /// where imported).
    mutating func parseAll() throws(DiagnosticError) -> [ServerBlock] {
        var blocks: [ServerBlock] = []
        while cursor.next() {
            block = ServerBlock(location: cursor.token?.location)
            block.emptiedVariables = cursor.token?.emptiedVariables ?? []
            try begin()
            if !block.keys.isEmpty || !block.segments.isEmpty {
                blocks.append(block)
            }
        }
        return blocks
    }

    private mutating func begin() throws(DiagnosticError) {
        try addresses()
        if reachedEnd { return }  // a file holding only a line of addresses

        if let name = namedRouteName() {
            guard let first = cursor.token else { return }
            var nameToken = first
            nameToken.text = name
            block.keys = [nameToken]
            block.isNamedRoute = true
            let body = try blockTokens(keepingBraces: true)
            block.segments = [Segment([nameToken] + body)]
            return
        }

        if let name = snippetName() {
            if snippets[name] != nil, let key = block.keys.first {
                throw key.error("redeclaration of previously declared snippet \(name)")
            }
            var tokens = try blockTokens(keepingBraces: false)
            for index in tokens.indices { tokens[index].snippetName = name }
            snippets[name] = tokens
            block.keys = []
            return
        }

        try blockContents()
    }

    // MARK: Site addresses

    private mutating func addresses() throws(DiagnosticError) {
        var expectingAnother = false
        while true {
            var value = cursor.value
            let token = cursor.token

            if value.hasPrefix("@") {
                throw cursor.error("request matchers may not be defined globally, they must be in a site block; found \(value)")
            }
            if value == "import" && cursor.isAtNewLine() {
                try doImport(nesting: 0)
                continue
            }
            if cursor.isAtOpenBrace {
                if expectingAnother {
                    throw cursor.error("expected another address but found '{' - check for an extra comma")
                }
                block.hasBraces = true
                break
            }
            if cursor.isAtCloseBrace {
                throw cursor.error("unexpected '}' because no matching opening brace")
            }
            if value.hasSuffix("{") {
                throw cursor.error("site addresses cannot end with a curly brace: '\(value)' - put a space between the address and the brace")
            }
            if !value.isEmpty {
                if value.hasSuffix(",") {
                    value.removeLast()
                    expectingAnother = true
                } else {
                    expectingAnother = false
                }
                if value.contains(",") {
                    throw cursor.error("site addresses cannot contain a comma ',': '\(value)' - put a space after the comma to separate site addresses")
                }
                if !value.isEmpty, var key = token {
                    key.text = value
                    block.keys.append(key)
                }
            }

            let hasNext = cursor.next()
            if expectingAnother && !hasNext {
                throw cursor.error("unexpected end of file: expected another site address after the trailing comma")
            }
            if !hasNext {
                reachedEnd = true
                break
            }
            if !expectingAnother && cursor.isAtNewLine() { break }
        }
    }

    // MARK: Blocks and directives

    private mutating func blockContents() throws(DiagnosticError) {
        let openBrace = cursor.isAtOpenBrace ? cursor.token : nil
        if openBrace == nil {
            cursor.back()  // a single site without braces
        }
        let closed = try directives()
        guard let openBrace else { return }
        if closed { return }
        if cursor.isAtCloseBrace {
            // Caddy accepts a site block left open when the file happens to end with the
            // `}` of a nested block; read it the same way, but say so.
            diagnostics.append(.warning(
                "this site block is never closed; Caddy reads it to the end of the file, and so does authgate",
                at: openBrace.location, importChain: openBrace.importChain))
            return
        }
        throw openBrace.error("unexpected end of file: the '{' opened here is never closed (expected '}')")
    }

    /// Reads directives until the `}` that closes the block (true) or the end (false).
    private mutating func directives() throws(DiagnosticError) -> Bool {
        while cursor.next() {
            if cursor.isAtCloseBrace { return true }
            if cursor.value == "import" {
                try doImport(nesting: 1)
                cursor.back()
                continue
            }
            try directive()
        }
        return false
    }

    /// Collects one directive's segment: the rest of its line and any block it opens.
    private mutating func directive() throws(DiagnosticError) {
        guard let first = cursor.token else { return }
        var segment = [first]
        var openBraces: [Token] = []

        while cursor.next() {
            guard let token = cursor.token else { break }
            if token.isOpenBrace {
                nesting += 1
                openBraces.append(token)
                if !cursor.nextIsOnNewLine() {
                    throw cursor.error("unexpected token after '{' on the same line; a block's contents start on the next line")
                }
                if cursor.isAtNewLine() {
                    throw cursor.error("unexpected '{' on a new line; did you mean to place the '{' on the previous line?")
                }
            } else if token.text == "{}" && !token.isQuoted {
                if cursor.nextIsOnNewLine() {
                    throw cursor.error("unexpected '{}' at end of line; write an empty block as '{' and '}' on separate lines, or leave it out")
                }
            } else if cursor.isAtNewLine() && nesting == 0 {
                cursor.back()  // read one token too far
                break
            } else if token.isCloseBrace && nesting > 0 {
                nesting -= 1
                openBraces.removeLast()
            } else if token.isCloseBrace && nesting == 0 {
                throw cursor.error("unexpected '}' because no matching opening brace")
            } else if token.text == "import" && cursor.isAtNewLine() {
                try doImport(nesting: 1)
                cursor.back()
                continue
            }
            segment.append(token)
        }

        block.segments.append(Segment(segment))
        if let unclosed = openBraces.last {
            throw unclosed.error("unexpected end of file: the '{' opened here is never closed (expected '}')")
        }
    }

    /// Every token of a snippet or named route body, up to the matching `}`.
    private mutating func blockTokens(keepingBraces: Bool) throws(DiagnosticError) -> [Token] {
        guard let open = cursor.token, open.isOpenBrace else {
            throw cursor.error("expected '{' to open the block, found '\(cursor.value)'")
        }
        var depth = 1
        var tokens: [Token] = keepingBraces ? [open] : []
        while cursor.next() {
            guard let token = cursor.token else { break }
            if token.isCloseBrace {
                depth -= 1
                if depth == 0 {
                    if keepingBraces { tokens.append(token) }
                    break
                }
            }
            if token.isOpenBrace { depth += 1 }
            tokens.append(token)
        }
        if depth != 0 {
            throw open.error("unexpected end of file: the '{' opened here is never closed (expected '}')")
        }
        return tokens
    }

    private func snippetName() -> String? {
        guard block.keys.count == 1, let key = block.keys.first?.text,
            key.hasPrefix("("), key.hasSuffix(")"), key.count >= 2
        else { return nil }
        return String(key.dropFirst().dropLast())
    }

    private func namedRouteName() -> String? {
        guard block.keys.count == 1, let key = block.keys.first?.text,
            key.hasPrefix("&("), key.hasSuffix(")"), key.count >= 3
        else { return nil }
        return String(key.dropFirst(2).dropLast())
    }

    // MARK: Import

    /// Replaces `import PATTERN [ARGS...] [{ BLOCK }]` with the snippet's or files'
    /// tokens, arguments and block placeholders substituted, leaving the cursor on the
    /// first imported token.
    private mutating func doImport(nesting startNesting: Int) throws(DiagnosticError) {
        let importStart = cursor.index
        guard let importToken = cursor.token else { return }
        guard cursor.nextArg() else { throw cursor.argumentError() }
        let pattern = cursor.value
        if pattern.isEmpty {
            throw cursor.error("import requires a non-empty file path or snippet name")
        }
        let arguments = cursor.remainingArgTokens()

        // An optional block after the import feeds {block} and {blocks.NAME}.
        var blockTokens: [Token] = []
        let depth = cursor.nesting
        while cursor.nextBlock(depth) {
            if let token = cursor.token { blockTokens.append(token) }
        }
        var namedBlocks: [String: [Token]] = [:]
        if !blockTokens.isEmpty {
            var blockCursor = TokenCursor(blockTokens)
            while blockCursor.next() {
                let key = blockCursor.value
                if blockCursor.isAtOpenBrace {
                    throw blockCursor.error("anonymous blocks are not supported in an import block; name it, as in 'NAME {'")
                }
                var mapped = blockCursor.remainingArgTokens()
                let mappedDepth = blockCursor.nesting
                while blockCursor.nextBlock(mappedDepth) {
                    if let token = blockCursor.token { mapped.append(token) }
                }
                namedBlocks[key] = mapped
            }
        }

        let importing: [Token]
        let nodes: [ImportGraph.Node]
        if let snippet = snippets[pattern] {
            importing = snippet
            nodes = snippet.first.map { first in
                let name = first.snippetName ?? pattern
                return [ImportGraph.Node(key: "\(canonical(first.location.file)):\(name)", label: "(\(name))")]
            } ?? []
        } else {
            (importing, nodes) = try tokensOfFiles(matching: pattern, importedBy: importToken)
        }

        var node = ImportGraph.Node(key: canonical(importToken.location.file), label: importToken.location.file)
        if let snippet = importToken.snippetName {
            node.key += ":\(snippet)"
            node.label = "(\(snippet))"
        }
        try graph.addEdges(from: node, to: nodes, at: importToken)

        importedTokens += importing.count
        if importedTokens > importedTokenBudget {
            throw importToken.error("imports expand to more than \(importedTokenBudget) tokens; refusing to expand further")
        }

        let substituted = try substitute(
            importing, arguments: arguments.map(\.text), block: blockTokens, namedBlocks: namedBlocks,
            at: importToken, nesting: startNesting)
        cursor.splice(from: importStart, replacingThrough: substituted)
    }

    /// Applies one import's arguments and blocks to the imported tokens. Snippet
    /// definitions inside them are left alone: their placeholders belong to the import
    /// that will use them.
    private mutating func substitute(
        _ importing: [Token], arguments: [String], block blockTokens: [Token],
        namedBlocks: [String: [Token]], at importToken: Token, nesting startNesting: Int
    ) throws(DiagnosticError) -> [Token] {
        var output: [Token] = []
        output.reserveCapacity(importing.count)
        var nesting = startNesting
        var insideSnippetDefinition = false
        var mayBeSnippetName = false
        var positionInLine = 0

        for (offset, original) in importing.enumerated() {
            var token = original
            token.imports.append(ImportSite(location: importToken.location, snippet: token.snippetName))

            // Recognise `(name) {` at the top level: a snippet defined in an imported file.
            if !insideSnippetDefinition && nesting == 0 {
                if offset == 0 || output.last.map({ $0.isFollowedOnNewLine(by: token) }) ?? true {
                    positionInLine = 0
                } else {
                    positionInLine += 1
                }
                if positionInLine == 0 && token.text.count >= 3 && token.text.hasPrefix("(") && token.text.hasSuffix(")") {
                    mayBeSnippetName = true
                }
            }
            if token.isOpenBrace {
                nesting += 1
                if positionInLine == 1 && mayBeSnippetName && nesting == 1 {
                    insideSnippetDefinition = true
                    mayBeSnippetName = false
                }
            } else if token.isCloseBrace {
                nesting -= 1
                if nesting == 0 && insideSnippetDefinition { insideSnippetDefinition = false }
            }

            if token.text == "{block}" {
                if insideSnippetDefinition { output.append(token) } else { output.append(contentsOf: blockTokens) }
                continue
            }
            if token.text.hasPrefix("{blocks.") && token.text.hasSuffix("}") {
                if insideSnippetDefinition {
                    output.append(token)
                } else {
                    let key = String(token.text.dropFirst("{blocks.".count).dropLast())
                    output.append(contentsOf: namedBlocks[key] ?? [])
                }
                continue
            }
            if insideSnippetDefinition {
                output.append(token)
                continue
            }
            switch ImportArguments.variadic(token.text, argumentCount: arguments.count) {
            case .range(let range)?:
                for argument in arguments[range] {
                    var expanded = token
                    expanded.text = argument
                    output.append(expanded)
                }
                continue
            case .invalid(let message)?:
                diagnostics.append(.warning(message, at: token.location, importChain: token.importChain))
            case nil:
                break
            }
            token.text = ImportArguments.replacePlaceholders(in: token.text, arguments: arguments) { message in
                diagnostics.append(.warning(message, at: token.location, importChain: token.importChain))
            }
            output.append(token)
        }
        return output
    }

    /// The tokens of every file an import pattern names, with the graph nodes they are.
    private mutating func tokensOfFiles(matching pattern: String, importedBy importToken: Token) throws(DiagnosticError) -> ([Token], [ImportGraph.Node]) {
        let globPattern = pattern.hasPrefix("/") ? pattern : Path.join(Path.directory(of: importToken.location.file), pattern)
        if globPattern.count(where: { $0 == "*" }) > 1 || globPattern.count(where: { $0 == "?" }) > 1
            || (globPattern.contains("[") && globPattern.contains("]"))
        {
            throw importToken.error("glob pattern may only contain one wildcard (*), but has others: \(globPattern)")
        }
        var matches = fileSystem.glob(globPattern)
        if matches.isEmpty {
            if globPattern.contains(where: { "*?[]".contains($0) }) {
                diagnostics.append(.warning("no files match the import pattern '\(pattern)'; nothing imported", at: importToken.location, importChain: importToken.importChain))
                return ([], [])
            }
            throw importToken.error("file to import not found: \(pattern)")
        }
        // `dir/*` skips dotfiles, as Caddy does (issue caddyserver/caddy#5295).
        let lastSegment = globPattern.split(separator: "/").last ?? ""
        if lastSegment.hasPrefix("*") {
            matches.removeAll { ($0.split(separator: "/").last ?? "").hasPrefix(".") }
        }

        var tokens: [Token] = []
        for file in matches {
            let bytes: [UInt8]
            do {
                bytes = try fileSystem.read(file)
            } catch {
                throw importToken.error("could not import \(file): \(error)")
            }
            let source = SourceText(file: file, bytes: bytes)
            if source.scalars.allSatisfy({ $0.properties.isWhitespace }) { continue }
            do {
                tokens.append(contentsOf: try Lexer.tokenize(source, environment: environment))
            } catch {
                var diagnostic = error.diagnostic
                diagnostic.importChain += [ImportSite(location: importToken.location, snippet: nil)] + importToken.importChain
                throw DiagnosticError(diagnostic)
            }
            if importedTokens + tokens.count > importedTokenBudget {
                throw importToken.error("imports expand to more than \(importedTokenBudget) tokens; refusing to expand further")
            }
        }
        return (tokens, matches.map { ImportGraph.Node(key: canonical($0), label: $0) })
    }
}
