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
    /// How Ingress manifests are read (`--ingress-class`, `--traefik-strict-prefix`).
    public var ingressImporter = IngressImporter()
    /// How Caddyfiles are read (`--ignore-directive`).
    public var caddyImporter = CaddyImporter()
    /// How many tokens a Caddyfile's imports may add (see `CaddyfileFrontEnd`).
    public var importedTokenBudget = 2_000_000

    public init(fileSystem: any InputFileSystem, environment: [String: String], forcedKind: InputKind? = nil, options: TraefikOptions) {
        self.fileSystem = fileSystem
        self.environment = environment
        self.forcedKind = forcedKind
        self.options = options
    }

    /// Converts the inputs; nil when an error stopped it (the error is in `diagnostics`).
    /// Manifests from every input are read together, so an Ingress in one file finds
    /// its Middleware and Services in another.
    public func run(_ inputs: [ConversionInput], diagnostics: inout Diagnostics) -> Result? {
        do throws(DiagnosticError) {
            var plan = MigrationPlan()
            var manifests: [ManifestObject] = []
            var readManifests = false
            for input in inputs {
                if input.bytes == nil && fileSystem.isDirectory(input.path) {
                    if forcedKind == .caddyfile {
                        throw DiagnosticError("\(input.path) is a directory; a Caddyfile input must be a file", at: nil)
                    }
                    var directory = ManifestDirectory(fileSystem: fileSystem)
                    directory.environment = environment
                    manifests += try directory.objects(below: input.path, diagnostics: &diagnostics)
                    readManifests = true
                    continue
                }
                let bytes = try input.read(from: fileSystem)
                switch forcedKind ?? InputKind.detect(path: input.name, bytes: bytes) {
                case .caddyfile:
                    let document = try CaddyfileFrontEnd(fileSystem: fileSystem, environment: environment, importedTokenBudget: importedTokenBudget)
                        .parse(bytes: bytes, file: input.name, diagnostics: &diagnostics)
                    var importer = caddyImporter
                    importer.environment = environment
                    plan.append(try importer.plan(from: document, diagnostics: &diagnostics))
                case .manifests:
                    manifests += try ManifestFrontEnd().objects(text: String(decoding: bytes, as: UTF8.self), file: input.name, environment: environment, diagnostics: &diagnostics)
                    readManifests = true
                }
            }
            if readManifests {
                let unread = Self.unconvertedRouting(manifests, diagnostics: &diagnostics)
                let ingressPlan = try ingressImporter.plan(from: manifests, diagnostics: &diagnostics)
                if !manifests.contains(where: { $0.kind == "Ingress" }) {
                    let hint = unread.contains("HelmRelease") ? " (render HelmReleases and chart values first: helm template … > rendered.yaml)" : unread.isEmpty ? "" : " (the \(unread.sorted().joined(separator: ", ")) objects are named above)"
                    throw DiagnosticError("the manifests hold no Ingress, so there is nothing to convert\(hint)", at: nil)
                }
                plan.append(ingressPlan)
            }
            if diagnostics.hasErrors { return nil }
            var emission = TraefikEmitter(options: options).emit(plan, diagnostics: &diagnostics)
            // Nothing converted is not success, and neither is a protected site left out:
            // both are refusals (exit 1) naming why, as a coverage failure is.
            for site in plan.droppedSites where site.wasProtected {
                emission.findings.append(CoverageFinding(
                    kind: .siteLeftOut, host: site.address, paths: [], expected: "behind the auth or address restriction it had", actual: site.reason, location: site.location))
            }
            let refused = emission.findings.contains(where: \.isFailure)
            if refused {
                // Already refused, for reasons more precise than "nothing to convert".
            } else if !readManifests && plan.sites.isEmpty {
                emission.findings.append(CoverageFinding(
                    kind: .nothingConverted, host: "", paths: [], expected: "",
                    actual: "no site of the input has an address Gateway API can route" + (plan.droppedSites.isEmpty ? "" : " (see the warnings above)"), location: plan.droppedSites.first?.location))
            } else if !readManifests && !plan.sites.isEmpty && !plan.sites.contains(where: { site in site.decisions.contains { !$0.outcome.upstreams.isEmpty || Self.redirects($0.outcome) } }) {
                emission.findings.append(CoverageFinding(
                    kind: .nothingConverted, host: "", paths: [], expected: "",
                    actual: "no request reaches a backend or a redirect; every one is answered by the source proxy itself (respond, abort, file_server…), which Gateway API routes cannot do", location: plan.sites.first?.location))
            }
            return Result(plan: plan, emission: emission, findings: emission.findings, yaml: try YAMLWriter.stream(emission.objects))
        } catch {
            diagnostics.append(error.diagnostic)
            return nil
        }
    }
}

/// Every `.yaml`, `.yml` and `.json` file below a directory, in sorted order, skipping
/// dot files; at most 32 levels deep (a symlink loop would otherwise recurse forever).
extension Conversion {
    /// Objects that route traffic but that authgate does not convert, each named where
    /// it stands (never skipped without a word); returns their kinds.
    static func unconvertedRouting(_ objects: [ManifestObject], diagnostics: inout Diagnostics) -> Set<String> {
        var kinds = Set<String>()
        for object in objects {
            let name = "'\(object.namespace ?? "default")/\(object.name)'"
            switch (object.group, object.kind) {
            case ("traefik.io", "IngressRoute"), ("traefik.containo.us", "IngressRoute"), ("traefik.io", "IngressRouteTCP"), ("traefik.containo.us", "IngressRouteTCP"),
                 ("traefik.io", "IngressRouteUDP"), ("traefik.containo.us", "IngressRouteUDP"), ("traefik.io", "TraefikService"), ("traefik.containo.us", "TraefikService"),
                 ("traefik.io", "ServersTransport"), ("traefik.containo.us", "ServersTransport"):
                diagnostics.append(.warning("\(object.kind) \(name) is not converted: authgate reads Ingresses (and the Middlewares, Services and Secrets they use); the routes it makes are not migrated", at: object.location))
            case ("gateway.networking.k8s.io", "HTTPRoute"), ("gateway.networking.k8s.io", "GRPCRoute"):
                diagnostics.append(.note("\(object.kind) \(name) is already Gateway API; authgate leaves it as it is (its routes may compete with the converted ones for the same hosts)", at: object.location))
            case ("helm.toolkit.fluxcd.io", "HelmRelease"):
                diagnostics.append(.warning("HelmRelease \(name) makes its Ingresses only when Helm renders it; render it first (helm template with its values) and give authgate the result", at: object.location))
            default:
                continue
            }
            kinds.insert(object.kind)
        }
        return kinds
    }
}

public struct ManifestDirectory {
    public var fileSystem: any InputFileSystem
    /// For `${VAR}` (Flux's postBuild substitution).
    public var environment: [String: String] = [:]

    public init(fileSystem: any InputFileSystem) {
        self.fileSystem = fileSystem
    }

    public func objects(below path: String, depth: Int = 0, diagnostics: inout Diagnostics) throws(DiagnosticError) -> [ManifestObject] {
        guard depth < 32 else {
            throw DiagnosticError("\(path): directories nested more than 32 deep (a symlink loop?)", at: nil)
        }
        var objects: [ManifestObject] = []
        let entries = fileSystem.entries(ofDirectory: path)
        if let file = ["kustomization.yaml", "kustomization.yml", "Kustomization"].first(where: entries.contains) {
            return try kustomization(Path.join(path, file), in: path, depth: depth, diagnostics: &diagnostics)
        }
        for name in entries.sorted() where !name.hasPrefix(".") {
            let child = Path.join(path, name)
            if fileSystem.isDirectory(child) {
                objects += try self.objects(below: child, depth: depth + 1, diagnostics: &diagnostics)
                continue
            }
            let lower = name.lowercased()
            guard lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") || lower.hasSuffix(".json") else { continue }
            let bytes = try ConversionInput(path: child).read(from: fileSystem)
            objects += try ManifestFrontEnd().objects(text: String(decoding: bytes, as: UTF8.self), file: child, environment: environment, diagnostics: &diagnostics)
        }
        return objects
    }

    /// A directory kustomize builds: only its `resources` (and `components`), with its
    /// `namespace` set on every namespaced object, as `kustomize build` does. Other
    /// transformers (patches, generators, name prefixes…) are warnings: authgate does
    /// not run them.
    private func kustomization(_ file: String, in path: String, depth: Int, diagnostics: inout Diagnostics) throws(DiagnosticError) -> [ManifestObject] {
        let bytes = try ConversionInput(path: file).read(from: fileSystem)
        guard let root = try ManifestFrontEnd().firstNode(text: String(decoding: bytes, as: UTF8.self), file: file, diagnostics: &diagnostics), root.entries != nil else {
            throw DiagnosticError("\(file) is not a kustomization (a mapping with resources:)", at: SourceLocation(file: file, line: 1, column: 1))
        }
        let read: Set<String> = ["apiVersion", "kind", "resources", "bases", "components", "namespace", "commonLabels", "labels", "commonAnnotations"]
        for (key, value) in root.entries ?? [] where !read.contains(key) {
            diagnostics.append(.warning("kustomization field '\(key)' is not applied by authgate; run kustomize build \(path) (or flux build kustomization) and give authgate the result", at: value.location))
        }
        var objects: [ManifestObject] = []
        // `bases` is kustomize's old name for directory resources.
        for field in ["resources", "bases", "components"] {
            for entry in root[field]?.sequence ?? [] {
                guard let relative = entry.string else { continue }
                if relative.contains("://") || relative.hasPrefix("github.com/") {
                    diagnostics.append(.warning("kustomization resource '\(relative)' is remote; authgate reads only local files (run kustomize build)", at: entry.location))
                    continue
                }
                let target = Path.join(path, relative)
                if fileSystem.isDirectory(target) {
                    objects += try self.objects(below: target, depth: depth + 1, diagnostics: &diagnostics)
                } else if fileSystem.exists(target) {
                    let content = try ConversionInput(path: target).read(from: fileSystem)
                    objects += try ManifestFrontEnd().objects(text: String(decoding: content, as: UTF8.self), file: target, environment: environment, diagnostics: &diagnostics)
                } else {
                    throw DiagnosticError("kustomization resource '\(relative)' does not exist (\(target))", at: entry.location)
                }
            }
        }
        if let namespace = root["namespace"]?.string {
            let clusterScoped: Set<String> = ["Namespace", "IngressClass", "GatewayClass", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass"]
            for index in objects.indices where !clusterScoped.contains(objects[index].kind) {
                objects[index].namespace = namespace
            }
        }
        return objects
    }
}

extension Conversion {
    static func redirects(_ outcome: RequestOutcome) -> Bool {
        if case .redirect = outcome.terminal { return true }
        return outcome.httpsRedirect != nil
    }
}

extension MigrationPlan {
    /// Adds another plan's sites and providers (provider indices renumbered).
    mutating func append(_ other: MigrationPlan) {
        replacedObjects += other.replacedObjects
        droppedSites += other.droppedSites
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

    func outcome(host: String, path: String, request: RequestVariant) -> RequestOutcome {
        var outcome = inner.outcome(host: host, path: path, request: request)
        outcome.auth = outcome.auth.map { $0 + offset }
        return outcome
    }

    var boundaryPatterns: [PathPattern] { inner.boundaryPatterns }
    var variants: [ProbeVariant] { inner.variants }
    var opaqueConditions: [OpaqueCondition] { inner.opaqueConditions }
}
