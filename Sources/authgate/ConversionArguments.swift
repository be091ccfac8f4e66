import ArgumentParser
import AuthgateCore
import Foundation

/// The inputs and options every command that converts shares: convert, diff, report.
struct ConversionArguments: ParsableArguments {
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

    @Option(name: .long, help: ArgumentHelp("An Authentik outpost that already runs outside the cluster (http://192.168.1.5:9000): no outpost is deployed; the Middleware calls it and its paths go to it.", valueName: "URL"))
    var authentikOutpostURL: String?

    @Option(name: .long, help: ArgumentHelp("File holding the outpost token (otherwise a placeholder). The token is written only into the Secret.", valueName: "PATH"))
    var authentikTokenFile: String?

    @Option(name: .long, help: ArgumentHelp("Authentik version of the outpost image ghcr.io/goauthentik/proxy:V; it must match your Authentik server.", valueName: "V"))
    var authentikVersion: String?

    @Option(name: .long, help: ArgumentHelp("Convert only Ingresses of this class (default: Traefik, nginx and class-less ones); class-less Ingresses count as the default class.", valueName: "CLASS"))
    var ingressClass: String?

    @Option(name: .long, help: ArgumentHelp("The controller that served Ingresses of CLASS, traefik or nginx, where the input has no IngressClass for it (or says otherwise); repeatable.", valueName: "CLASS=traefik|nginx"))
    var ingressController: [String] = []

    @Option(name: .long, help: ArgumentHelp("The class of Ingresses that name none (what ingressclass.kubernetes.io/is-default-class said in the cluster). Without it or a default IngressClass in the input, a class-less Ingress is read as the controller whose annotations it carries, and its paths are unknown where Traefik and ingress-nginx would differ.", valueName: "CLASS"))
    var defaultIngressClass: String?

    @Flag(name: .long, help: "Write plain, case-sensitive PathPrefix and Exact rules instead of (?i) expressions for Caddy's case-insensitive paths; upper-case spellings that then reach a route at least as protected are warnings, never one that loses auth.")
    var caseSensitivePaths = false

    @Flag(name: .long, help: "Traefik's Ingress provider ran with strictPrefixMatching: Prefix paths match whole segments, not characters.")
    var traefikStrictPrefix = false

    @Flag(name: .long, help: "Traefik's Ingress provider ran with allowExternalNameServices: paths whose backend is an ExternalName Service were served (without it Traefik skips them, and so does authgate).")
    var traefikExternalNameServices = false

    @Option(name: .long, help: ArgumentHelp("Map a Traefik entry point (router.entrypoints) to a Gateway listener name; repeatable. Entry points not listed keep their name (the Traefik Helm chart names its listeners web and websecure, like its entry points).", valueName: "ENTRYPOINT=LISTENER"))
    var entrypoint: [String] = []

    @Option(name: .long, help: ArgumentHelp("A Caddy directive authgate does not know (a plugin's) that you vouch has no effect on who may reach what: it is left out with a warning instead of making the requests it touches unknown; repeatable.", valueName: "NAME"))
    var ignoreDirective: [String] = []

    @Option(name: .long, help: ArgumentHelp("The Gateway listener a port-only Caddy site (:8085 { … }) attaches to; such a site answers every host, so without this (or --section-name) it is left out; repeatable.", valueName: "PORT=LISTENER"))
    var listener: [String] = []

    @Option(name: .long, help: ArgumentHelp("Where an upstream outside the cluster lives in it: FROM as the Caddyfile writes it (localhost:3000, :3000, 192.168.1.5:8080, unix//run/app.sock), TO a Service (grafana.monitoring:3000, or app:80 in --namespace); repeatable.", valueName: "FROM=TO"))
    var upstream: [String] = []

    @Option(name: .long, help: ArgumentHelp("KEY=VALUE lines for {$VAR} and {env.VAR} in a Caddyfile, over the environment ('#' comments, optional quotes and 'export').", valueName: "FILE"))
    var envFile: String?

    @Option(name: .long, help: ArgumentHelp("Refuse input files larger than this many bytes (67108864 is 64 MiB).", valueName: "BYTES"))
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
        if let authentikOutpostURL, Self.outpostUpstream(authentikOutpostURL) == nil {
            throw ValidationError("--authentik-outpost-url must be an http:// or https:// URL with a host (and port), got '\(authentikOutpostURL)'")
        }
        for mapping in ingressController {
            let parts = mapping.split(separator: "=", omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || IngressController(rawValue: String(parts[1])) == nil {
                throw ValidationError("--ingress-controller must be CLASS=traefik or CLASS=nginx, got '\(mapping)'")
            }
        }
        if let defaultIngressClass, defaultIngressClass.isEmpty {
            throw ValidationError("--default-ingress-class needs a class name")
        }
        for mapping in listener {
            let parts = mapping.split(separator: "=", omittingEmptySubsequences: false)
            if parts.count != 2 || Int(parts[0]).map({ !(1...65535).contains($0) }) ?? true || !KubernetesName.isLabel(String(parts[1])) {
                throw ValidationError("--listener must be PORT=LISTENER with a valid listener name, got '\(mapping)'")
            }
        }
        for mapping in upstream {
            let parts = mapping.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty || parts[1].contains("{") || parts[1].hasPrefix("unix/") {
                throw ValidationError("--upstream must be FROM=TO with TO a Service address such as grafana.monitoring:3000, got '\(mapping)'")
            }
        }
        if let authentikVersion, authentikVersion.isEmpty || authentikVersion.contains(where: { !($0.isLetter || $0.isNumber || ".-_".contains($0)) }) {
            throw ValidationError("--authentik-version '\(authentikVersion)' is not an image tag")
        }
    }

    /// `http://host[:port]` as an upstream.
    static func outpostUpstream(_ url: String) -> Upstream? {
        Upstream.url(url)
    }

    /// Reads the inputs and converts them; prints the conversion's diagnostics on stderr
    /// and exits 2 on an error.
    func convert() throws -> (Conversion.Result, Diagnostics) {
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
        options.caseSensitivePaths = caseSensitivePaths
        options.authentikOutpostURL = authentikOutpostURL.flatMap(Self.outpostUpstream)
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

        var environment = ProcessInfo.processInfo.environment
        if let envFile {
            do {
                let text = String(decoding: try fileSystem.read(envFile), as: UTF8.self)
                for (key, value) in EnvironmentFile.parse(text) { environment[key] = value }
            } catch {
                printError("authgate: error: cannot read --env-file \(envFile): \(error)")
                throw ExitCode(ExitStatus.badInput)
            }
        }
        var conversion = Conversion(fileSystem: fileSystem, environment: environment, forcedKind: from, options: options)
        conversion.ingressImporter = IngressImporter(ingressClass: ingressClass, strictPrefix: traefikStrictPrefix)
        conversion.ingressImporter.defaultClass = defaultIngressClass
        conversion.ingressImporter.traefikExternalNameServices = traefikExternalNameServices
        for mapping in ingressController {
            let parts = mapping.split(separator: "=").map(String.init)
            conversion.ingressImporter.controllers[parts[0]] = IngressController(rawValue: parts[1])
        }
        var mappings: [String: String] = [:]
        for mapping in upstream {
            let parts = mapping.split(separator: "=", maxSplits: 1).map(String.init)
            mappings[parts[0]] = parts[1]
        }
        conversion.caddyImporter = CaddyImporter(ignoredDirectives: Set(ignoreDirective), upstreamMappings: mappings)
        for mapping in listener {
            let parts = mapping.split(separator: "=").map(String.init)
            conversion.caddyImporter.portListeners[parts[0]] = parts[1]
        }
        conversion.caddyImporter.sectionNameGiven = sectionName != nil
        var diagnostics = Diagnostics()
        let result = conversion.run(inputList, diagnostics: &diagnostics)
        for diagnostic in diagnostics.grouped {
            printError(diagnostic.description)
        }
        guard let result, !diagnostics.hasErrors else { throw ExitCode(ExitStatus.badInput) }
        return (result, diagnostics)
    }
}

extension InputKind: ExpressibleByArgument {}
