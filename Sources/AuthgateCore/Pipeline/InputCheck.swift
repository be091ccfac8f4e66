/// Reads every input with its front end and reports what it found. This is what
/// `authgate convert` does until the importers and emitters land: it proves the input
/// is read as the source proxy reads it, or says exactly where it is not.
public struct InputCheck: Sendable {
    public struct Input: Sendable {
        /// A path, or `-` for standard input.
        public var path: String
        /// The bytes, already read by the caller for standard input; nil to read `path`.
        public var bytes: [UInt8]?

        public init(path: String, bytes: [UInt8]? = nil) {
            self.path = path
            self.bytes = bytes
        }

        /// The name diagnostics use: the path, or `<stdin>`.
        public var name: String { path == "-" ? "<stdin>" : path }

        /// The input's bytes: those given, or the file's.
        func read(from fileSystem: any InputFileSystem) throws(DiagnosticError) -> [UInt8] {
            if let bytes { return bytes }
            do {
                return try fileSystem.read(path)
            } catch {
                throw DiagnosticError("cannot read \(path): \(error)", at: nil)
            }
        }
    }

    public enum Summary: Sendable, Equatable {
        case caddyfile(file: String, sites: [String], namedRoutes: Int, hasGlobalOptions: Bool)
        case manifests(file: String, documents: Int, kinds: [String])
    }

    public var fileSystem: any InputFileSystem
    public var environment: [String: String]
    /// Forces the kind of every input; nil detects it from content.
    public var forcedKind: InputKind?

    public init(fileSystem: any InputFileSystem, environment: [String: String], forcedKind: InputKind? = nil) {
        self.fileSystem = fileSystem
        self.environment = environment
        self.forcedKind = forcedKind
    }

    /// Reads all inputs; stops at the first error (which is also in `diagnostics`).
    public func run(_ inputs: [Input], diagnostics: inout Diagnostics) -> [Summary]? {
        var summaries: [Summary] = []
        for input in inputs {
            do {
                summaries.append(contentsOf: try check(input, diagnostics: &diagnostics))
            } catch {
                diagnostics.append(error.diagnostic)
                return nil
            }
        }
        return summaries
    }

    private func check(_ input: Input, diagnostics: inout Diagnostics) throws(DiagnosticError) -> [Summary] {
        let name = input.name
        if input.bytes == nil && fileSystem.isDirectory(input.path) {
            if forcedKind == .caddyfile {
                throw DiagnosticError("\(input.path) is a directory; a Caddyfile input must be a file", at: nil)
            }
            return try checkDirectory(input.path, depth: 0, diagnostics: &diagnostics)
        }
        let bytes = try input.read(from: fileSystem)
        switch forcedKind ?? InputKind.detect(path: name, bytes: bytes) {
        case .caddyfile:
            let document = try CaddyfileFrontEnd(fileSystem: fileSystem, environment: environment)
                .parse(bytes: bytes, file: name, diagnostics: &diagnostics)
            return [.caddyfile(
                file: name, sites: document.sites.flatMap { $0.addresses.map(\.original) },
                namedRoutes: document.namedRoutes.count, hasGlobalOptions: document.globalOptions != nil)]
        case .manifests:
            let documents = try ManifestFrontEnd().parse(text: String(decoding: bytes, as: UTF8.self), file: name, diagnostics: &diagnostics)
            return [.manifests(file: name, documents: documents.count, kinds: documents.compactMap(\.kind))]
        }
    }

    /// Every `.yaml`, `.yml` and `.json` file below a directory, in sorted order.
    private func checkDirectory(_ path: String, depth: Int, diagnostics: inout Diagnostics) throws(DiagnosticError) -> [Summary] {
        // Deeper than any manifest tree; a symlink loop would otherwise recurse forever.
        guard depth < 32 else {
            throw DiagnosticError("\(path): directories nested more than 32 deep (a symlink loop?)", at: nil)
        }
        var summaries: [Summary] = []
        for name in fileSystem.entries(ofDirectory: path).sorted() where !name.hasPrefix(".") {
            let child = Path.join(path, name)
            if fileSystem.isDirectory(child) {
                summaries += try checkDirectory(child, depth: depth + 1, diagnostics: &diagnostics)
                continue
            }
            let lower = name.lowercased()
            guard lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") || lower.hasSuffix(".json") else { continue }
            let bytes: [UInt8]
            do {
                bytes = try fileSystem.read(child)
            } catch {
                throw DiagnosticError("cannot read \(child): \(error)", at: nil)
            }
            let documents = try ManifestFrontEnd().parse(text: String(decoding: bytes, as: UTF8.self), file: child, diagnostics: &diagnostics)
            summaries.append(.manifests(file: child, documents: documents.count, kinds: documents.compactMap(\.kind)))
        }
        return summaries
    }
}
