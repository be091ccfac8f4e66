/// The whole conversion in one place:
/// Caddyfile text → tokens → server blocks (`CaddyfileFrontEnd`) → `MigrationPlan`
/// (`CaddyImporter`) → Kubernetes objects (`TraefikEmitter`) → coverage findings
/// (`CoverageCheck`) → YAML (`YAMLWriter`).
public struct Conversion: Sendable {
    public struct Result: Sendable {
        public var plan: MigrationPlan
        public var emission: TraefikEmission
        public var findings: [CoverageFinding]
        /// The YAML stream for stdout.
        public var yaml: String

        public var failures: [CoverageFinding] { findings.filter(\.isFailure) }
    }

    public var fileSystem: any InputFileSystem
    public var environment: [String: String]
    public var forcedKind: InputKind?
    public var options: TraefikOptions

    public init(fileSystem: any InputFileSystem, environment: [String: String], forcedKind: InputKind? = nil, options: TraefikOptions) {
        self.fileSystem = fileSystem
        self.environment = environment
        self.forcedKind = forcedKind
        self.options = options
    }

    /// Converts the inputs; nil when an error stopped it (the error is in `diagnostics`).
    public func run(_ inputs: [InputCheck.Input], diagnostics: inout Diagnostics) -> Result? {
        do {
            var plan = MigrationPlan()
            for input in inputs {
                plan.append(try importPlan(input, diagnostics: &diagnostics))
            }
            if diagnostics.hasErrors { return nil }
            let emission = TraefikEmitter(options: options).emit(plan, diagnostics: &diagnostics)
            return Result(plan: plan, emission: emission, findings: emission.findings, yaml: try YAMLWriter.stream(emission.objects))
        } catch {
            diagnostics.append(error.diagnostic)
            return nil
        }
    }

    private func importPlan(_ input: InputCheck.Input, diagnostics: inout Diagnostics) throws(DiagnosticError) -> MigrationPlan {
        let name = input.name
        if input.bytes == nil && fileSystem.isDirectory(input.path) {
            throw DiagnosticError("\(input.path) is a directory; converting manifests (Ingress objects) is not implemented yet, and a Caddyfile input must be a file", at: nil)
        }
        let bytes = try input.read(from: fileSystem)
        switch forcedKind ?? InputKind.detect(path: name, bytes: bytes) {
        case .caddyfile:
            let document = try CaddyfileFrontEnd(fileSystem: fileSystem, environment: environment)
                .parse(bytes: bytes, file: name, diagnostics: &diagnostics)
            return try CaddyImporter().plan(from: document, diagnostics: &diagnostics)
        case .manifests:
            _ = try ManifestFrontEnd().parse(text: String(decoding: bytes, as: UTF8.self), file: name, diagnostics: &diagnostics)
            throw DiagnosticError("\(name): converting manifests (Ingress objects) is not implemented yet; this release converts Caddyfiles", at: nil)
        }
    }
}

extension MigrationPlan {
    /// Adds another plan's sites and providers (provider indices renumbered).
    mutating func append(_ other: MigrationPlan) {
        let offset = authProviders.count
        authProviders += other.authProviders
        for var site in other.sites {
            for index in site.decisions.indices {
                site.decisions[index].outcome.auth = site.decisions[index].outcome.auth.map { $0 + offset }
            }
            if offset > 0 { site.behaviour = OffsetBehaviour(inner: site.behaviour, offset: offset) }
            sites.append(site)
        }
    }
}

/// A source behaviour whose auth provider indices moved when plans were combined.
struct OffsetBehaviour: SourceBehaviour {
    var inner: any SourceBehaviour
    var offset: Int

    func outcome(host: String, path: String) -> RequestOutcome {
        var outcome = inner.outcome(host: host, path: path)
        outcome.auth = outcome.auth.map { $0 + offset }
        return outcome
    }

    var boundaryPatterns: [PathPattern] { inner.boundaryPatterns }
}
