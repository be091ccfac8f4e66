import ArgumentParser
import AuthgateCore
import Foundation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a Caddyfile to Gateway API and Traefik objects that keep every protected path protected (YAML on stdout, diagnostics on stderr).",
        discussion: """
            INPUT is a Caddyfile, a YAML file (multi-document, or a `kind: List` as \
            `kubectl get ingress,middleware,service -A -o yaml` prints it), a directory of \
            YAML files, or - for standard input. The kind is detected from the content; \
            --from forces it. All manifests are read together: an Ingress finds its \
            Middlewares and Services in any input.

            Ingresses of Traefik (class traefik, or none) and ingress-nginx (class nginx) are \
            converted as their controller ran them: Traefik's `router.middlewares` \
            (forwardAuth, chain, stripPrefix, addPrefix, replacePath, headers; other kinds \
            copied), its character-wise Prefix paths and router priorities; nginx's \
            auth-url, auth-response-headers and auth-signin. Each HTTPRoute stays in its \
            Ingress's namespace.

            Caddyfiles are read exactly as Caddy 2.11 reads them: {$VAR} and {$VAR:default} \
            from the environment, snippets, named routes, import of snippets and files or \
            globs with {args[n]}, {block} and {blocks.NAME}, heredocs, Caddy's brace and \
            address rules and its directive order (forward_auth runs before reverse_proxy; \
            handle blocks are exclusive, most specific first).

            authgate writes, in this order: the Authentik outpost (Namespace, Secret, \
            Service, Deployment) when Authentik is not already a Service in the cluster; \
            Services and EndpointSlices for upstreams outside the cluster; ReferenceGrants \
            for cross-namespace backends; one forwardAuth Middleware per auth configuration; \
            one HTTPRoute per host.

            It then checks the output the way Traefik 3.7 routes it: every probe path of \
            every host must reach the same backend behind the same auth as in the source. \
            If a protected path would lose its auth or a path would reach another backend, \
            convert prints each one, writes nothing and exits 1 (--allow-unprotected writes \
            anyway).

            Exit codes: 0 done (warnings allowed), 1 the coverage check failed, 2 bad input \
            (file:line:col: error: message; nothing on stdout), 64 bad usage.

            Examples:
              authgate convert Samples/prometheus/Caddyfile --namespace monitoring
              authgate convert Caddyfile --authentik-host https://auth.example.com \\
                --authentik-token-file outpost-token.txt --authentik-version 2025.12.4
              authgate convert --from caddyfile - < Caddyfile
            """
    )

    @Argument(help: ArgumentHelp("A Caddyfile, a YAML file, a directory of YAML files, or - for standard input.", valueName: "INPUT"))
    var inputs: [String]

    @Option(name: .long, help: ArgumentHelp("Force the input kind instead of detecting it.", valueName: "caddyfile|manifests"))
    var from: InputKind?

    @Option(name: .long, help: ArgumentHelp("Namespace of the routes, Middlewares and backend Services (Caddy has none).", valueName: "NS"))
    var namespace: String = "default"

    @Option(name: .long, help: ArgumentHelp("The Gateway every HTTPRoute attaches to.", valueName: "NS/NAME"))
    var gateway: String = "traefik/traefik-gateway"

    @Option(name: .long, help: ArgumentHelp("The Gateway listener (sectionName) the routes attach to; all listeners when not given.", valueName: "NAME"))
    var sectionName: String?

    @Option(name: .long, help: ArgumentHelp("Namespace of a new Authentik outpost.", valueName: "NS"))
    var outpostNamespace: String = "authentik-outpost"

    @Option(name: .long, help: ArgumentHelp("Name of a new Authentik outpost's Deployment and Service.", valueName: "NAME"))
    var outpostName: String = "authentik-outpost"

    @Option(name: .long, help: ArgumentHelp("Service port of a new Authentik outpost.", valueName: "PORT"))
    var outpostPort: Int = 9000

    @Option(name: .long, help: ArgumentHelp("URL of the Authentik server a new outpost connects to (otherwise a placeholder).", valueName: "URL"))
    var authentikHost: String?

    @Option(name: .long, help: ArgumentHelp("File holding the outpost token (otherwise a placeholder). The token is written only into the Secret.", valueName: "PATH"))
    var authentikTokenFile: String?

    @Option(name: .long, help: ArgumentHelp("Authentik version of the outpost image ghcr.io/goauthentik/proxy:V; it must match your Authentik server.", valueName: "V"))
    var authentikVersion: String?

    @Option(name: .long, help: ArgumentHelp("Convert only Ingresses of this class (default: Traefik, nginx and class-less ones).", valueName: "CLASS"))
    var ingressClass: String?

    @Flag(name: .long, help: "Traefik's Ingress provider ran with strictPrefixMatching: Prefix paths match whole segments, not characters.")
    var traefikStrictPrefix = false

    @Option(name: .long, help: ArgumentHelp("Map a Traefik entry point (router.entrypoints) to a Gateway listener name; repeatable. Entry points not listed keep their name (the Traefik Helm chart names its listeners web and websecure, like its entry points).", valueName: "ENTRYPOINT=LISTENER"))
    var entrypoint: [String] = []

    @Flag(name: .long, help: "Write the objects even when the coverage check finds paths that lose protection or change backend.")
    var allowUnprotected = false

    @Option(name: .long, help: "Refuse input files larger than this many bytes.")
    var maxInputBytes: Int = 64 << 20

    func validate() throws {
        if inputs.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("standard input (-) can be given only once")
        }
        if maxInputBytes <= 0 {
            throw ValidationError("--max-input-bytes must be positive")
        }
        for (flag, value) in [("--namespace", namespace), ("--outpost-namespace", outpostNamespace)] where !KubernetesName.isLabel(value) {
            throw ValidationError("\(flag) '\(value)' is not a valid Kubernetes namespace (lower-case letters, digits and '-', at most 63)")
        }
        if !KubernetesName.isServiceName(outpostName) {
            throw ValidationError("--outpost-name '\(outpostName)' is not a valid Service name (lower-case letters, digits and '-', starting with a letter)")
        }
        let parts = gateway.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count != 2 || !KubernetesName.isLabel(parts[0]) || parts[1].isEmpty {
            throw ValidationError("--gateway must be NAMESPACE/NAME, got '\(gateway)'")
        }
        if let sectionName, !KubernetesName.isLabel(sectionName) {
            throw ValidationError("--section-name '\(sectionName)' is not a valid listener name")
        }
        if !(1...65535).contains(outpostPort) {
            throw ValidationError("--outpost-port must be between 1 and 65535")
        }
        if let authentikHost, !(authentikHost.hasPrefix("https://") || authentikHost.hasPrefix("http://")) {
            throw ValidationError("--authentik-host must be a URL starting with https:// or http://")
        }
        for mapping in entrypoint {
            let parts = mapping.split(separator: "=", omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || !KubernetesName.isLabel(String(parts[1])) {
                throw ValidationError("--entrypoint must be ENTRYPOINT=LISTENER with a valid listener name, got '\(mapping)'")
            }
        }
        if let authentikVersion, authentikVersion.isEmpty || authentikVersion.contains(where: { !($0.isLetter || $0.isNumber || ".-_".contains($0)) }) {
            throw ValidationError("--authentik-version '\(authentikVersion)' is not an image tag")
        }
    }

    func run() throws {
        var inputList: [ConversionInput] = []
        for path in inputs {
            if path == "-" {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                if data.count > maxInputBytes {
                    printError("authgate: error: standard input is larger than --max-input-bytes (\(maxInputBytes))")
                    throw ExitCode(ExitStatus.badInput)
                }
                inputList.append(.init(path: path, bytes: [UInt8](data)))
            } else {
                inputList.append(.init(path: path))
            }
        }
        let fileSystem = DiskFileSystem(maxFileBytes: maxInputBytes)
        var options = TraefikOptions()
        options.namespace = namespace
        let gatewayParts = gateway.split(separator: "/").map(String.init)
        options.gatewayNamespace = gatewayParts[0]
        options.gatewayName = gatewayParts[1]
        options.sectionName = sectionName
        for mapping in entrypoint {
            let parts = mapping.split(separator: "=").map(String.init)
            options.entryPointListeners[parts[0]] = parts[1]
        }
        options.outpostNamespace = outpostNamespace
        options.outpostName = outpostName
        options.outpostPort = outpostPort
        options.authentikHost = authentikHost
        if let authentikVersion {
            options.authentikVersion = authentikVersion
            options.authentikVersionGiven = true
        }
        if let authentikTokenFile {
            do {
                let token = String(decoding: try fileSystem.read(authentikTokenFile), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                guard !token.isEmpty else {
                    printError("authgate: error: \(authentikTokenFile) is empty; it must hold the outpost token")
                    throw ExitCode(ExitStatus.badInput)
                }
                options.authentikToken = token
            } catch let exit as ExitCode {
                throw exit
            } catch {
                printError("authgate: error: cannot read --authentik-token-file \(authentikTokenFile): \(error)")
                throw ExitCode(ExitStatus.badInput)
            }
        }

        var conversion = Conversion(fileSystem: fileSystem, environment: ProcessInfo.processInfo.environment, forcedKind: from, options: options)
        conversion.ingressImporter = IngressImporter(ingressClass: ingressClass, strictPrefix: traefikStrictPrefix)
        var diagnostics = Diagnostics()
        let result = conversion.run(inputList, diagnostics: &diagnostics)
        for diagnostic in diagnostics.sorted {
            printError(diagnostic.description)
        }
        guard let result, !diagnostics.hasErrors else { throw ExitCode(ExitStatus.badInput) }

        let failures = result.failures
        for finding in result.findings where !finding.isFailure {
            printError(Diagnostic.warning(finding.message, at: finding.location).description)
        }
        for finding in failures {
            let severity: Diagnostic.Severity = allowUnprotected ? .warning : .error
            printError(Diagnostic(severity, finding.message, at: finding.location).description)
        }
        if !failures.isEmpty && !allowUnprotected {
            let paths = failures.reduce(0) { $0 + $1.paths.count }
            printError("authgate: error: \(paths) path\(paths == 1 ? "" : "s") would not keep the backend and auth the source gave \(paths == 1 ? "it" : "them"); nothing was written (--allow-unprotected writes anyway)")
            throw ExitCode(ExitStatus.coverageFailed)
        }
        FileHandle.standardOutput.write(Data(result.yaml.utf8))
        let findingWarnings = result.findings.count { !$0.isFailure } + (allowUnprotected ? failures.count : 0)
        printError(Self.summary(result, warnings: diagnostics.warnings.count + findingWarnings))
    }

    static func summary(_ result: Conversion.Result, warnings: Int) -> String {
        let hosts = result.plan.sites.flatMap { $0.hosts.isEmpty ? ["(any host)"] : $0.hosts }
        let unprotected = result.plan.sites.filter { site in !site.decisions.contains { $0.outcome.isProtected } }.flatMap { $0.hosts.isEmpty ? ["(any host)"] : $0.hosts }
        var line = "authgate: wrote \(result.emission.objects.count) objects for \(hosts.count) host\(hosts.count == 1 ? "" : "s")"
        if !unprotected.isEmpty { line += "; without auth: " + unprotected.prefix(8).joined(separator: ", ") + (unprotected.count > 8 ? ", …" : "") }
        line += "; \(warnings) warning\(warnings == 1 ? "" : "s")"
        return line
    }
}

extension InputKind: ExpressibleByArgument {}
