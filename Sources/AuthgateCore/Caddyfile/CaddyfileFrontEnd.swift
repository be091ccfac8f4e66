/// A Caddyfile read as Caddy reads it: global options, sites with parsed addresses,
/// named routes. Snippets and imports are already expanded into the blocks.
public struct CaddyfileDocument: Sendable {
    /// The global options block, when the file starts with one.
    public var globalOptions: ServerBlock?
    public var sites: [Site]
    /// Named routes `&(name) { … }`, invoked with `invoke name`.
    public var namedRoutes: [ServerBlock]

    public struct Site: Sendable {
        public var addresses: [SiteAddress]
        public var block: ServerBlock
    }
}

/// Caddyfile text in, `CaddyfileDocument` out: environment expansion, lexing, parsing
/// with imports, then the structural checks Caddy makes before it looks at directives.
public struct CaddyfileFrontEnd: Sendable {
    public var fileSystem: any InputFileSystem
    public var environment: [String: String]
    /// How many tokens all imports together may add before the file is refused as an
    /// expansion bomb (snippets importing snippets twice, level after level).
    public var importedTokenBudget: Int

    public init(fileSystem: any InputFileSystem, environment: [String: String], importedTokenBudget: Int = 2_000_000) {
        self.fileSystem = fileSystem
        self.environment = environment
        self.importedTokenBudget = importedTokenBudget
    }

    /// Reads and parses the file at `path` (imports are resolved relative to it).
    public func load(path: String, diagnostics: inout Diagnostics) throws(DiagnosticError) -> CaddyfileDocument {
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.read(path)
        } catch {
            throw DiagnosticError("cannot read \(path): \(error)", at: nil)
        }
        return try parse(bytes: bytes, file: path, diagnostics: &diagnostics)
    }

    /// Parses Caddyfile bytes named `file` (the name is used in diagnostics and as the
    /// base for relative imports).
    public func parse(bytes: [UInt8], file: String, diagnostics: inout Diagnostics) throws(DiagnosticError) -> CaddyfileDocument {
        if let invalid = SourceText.firstInvalidUTF8(in: bytes, file: file) {
            diagnostics.append(.warning("the file is not valid UTF-8 here; the bytes are read as U+FFFD replacement characters, as Caddy reads them", at: invalid))
        }
        let tokens = try Lexer.tokenize(SourceText(file: file, bytes: bytes), environment: environment)
        var parser = Parser(tokens: tokens, fileSystem: fileSystem, environment: environment, importedTokenBudget: importedTokenBudget)
        defer { diagnostics.append(contentsOf: parser.diagnostics) }
        let blocks = try parser.parseAll()
        return try Self.document(from: blocks)
    }

    public func parse(text: String, file: String, diagnostics: inout Diagnostics) throws(DiagnosticError) -> CaddyfileDocument {
        try parse(bytes: Array(text.utf8), file: file, diagnostics: &diagnostics)
    }

    /// The checks Caddy's HTTP adapter makes on blocks before reading directives.
    static func document(from blocks: [ServerBlock]) throws(DiagnosticError) -> CaddyfileDocument {
        var globalOptions: ServerBlock?
        var rest = blocks[...]
        if let first = rest.first, first.keys.isEmpty {
            globalOptions = first
            rest = rest.dropFirst()
        }
        let httpPort = globalOptions.flatMap { port(named: "http_port", in: $0) } ?? 80
        let httpsPort = globalOptions.flatMap { port(named: "https_port", in: $0) } ?? 443

        var sites: [CaddyfileDocument.Site] = []
        var namedRoutes: [ServerBlock] = []
        // A site address may appear in two blocks only if they bind different
        // interfaces (the `bind` directive); otherwise Caddy cannot tell them apart.
        var firstBlockOfListener: [String: Int] = [:]
        for (index, block) in rest.enumerated() {
            guard let firstKey = block.keys.first else {
                let where_ = block.segments.first?.tokens.first
                if let name = block.emptiedVariables.first {
                    throw DiagnosticError(
                        "this block has no site address: {$\(name)} stood there and \(name) is not set in the environment (set it, or give {$\(name):default})",
                        at: block.location ?? where_?.location, importChain: where_?.importChain ?? [])
                }
                throw DiagnosticError(
                    "a block without any site address is the global options block, and it must come first in the Caddyfile",
                    at: block.location ?? where_?.location, importChain: where_?.importChain ?? [])
            }
            if block.isNamedRoute {
                namedRoutes.append(block)
                continue
            }
            var addresses: [SiteAddress] = []
            for key in block.keys {
                if KnownDirectives.all.contains(key.text) {
                    throw key.error("parsed '\(key.text)' as a site address, but it is a known directive; directives must appear in a site block")
                }
                for bind in bindAddresses(of: block) {
                    let listener = key.text + " " + bind
                    if let earlier = firstBlockOfListener[listener], earlier != index {
                        throw key.error("ambiguous site definition: \(key.text) is already the address of an earlier site block\(bind.isEmpty ? "" : " bound to \(bind)")")
                    }
                    firstBlockOfListener[listener] = index
                }
                addresses.append(try SiteAddress.parse(key, httpPort: httpPort, httpsPort: httpsPort))
            }
            if !block.hasBraces {
                try checkNoSecondSite(in: block, firstKey: firstKey)
            }
            sites.append(.init(addresses: addresses, block: block))
        }
        return CaddyfileDocument(globalOptions: globalOptions, sites: sites, namedRoutes: namedRoutes)
    }

    /// In a site written without braces, a line that starts with something shaped like
    /// a site address is almost surely a second site: Caddy refuses it, and reading it
    /// as a directive of the first site would migrate the wrong routes.
    private static func checkNoSecondSite(in block: ServerBlock, firstKey: Token) throws(DiagnosticError) {
        for segment in block.segments {
            guard let head = segment.tokens.first else { continue }
            let name = head.text
            if KnownDirectives.all.contains(name) || name.hasPrefix("@") { continue }
            let looksLikeAddress = name.contains(".") || name.contains(":") || name.hasPrefix("localhost")
            if looksLikeAddress {
                throw head.error(
                    "'\(name)' is not a directive; did you mean to define a second site? Then every site needs curly braces around its configuration (the first site, \(firstKey.text), has none)")
            }
        }
    }

    /// The interfaces a site binds with `bind`, or [""] for the default (all).
    private static func bindAddresses(of block: ServerBlock) -> [String] {
        let binds = block.segments.filter { $0.directive == "bind" }.flatMap { $0.tokens.dropFirst().map(\.text) }
        return binds.isEmpty ? [""] : binds
    }

    private static func port(named option: String, in block: ServerBlock) -> Int? {
        for segment in block.segments where segment.directive == option && segment.tokens.count == 2 {
            return Int(segment.tokens[1].text)
        }
        return nil
    }
}
