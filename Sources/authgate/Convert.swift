import ArgumentParser
import AuthgateCore
import Foundation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a Caddyfile or Ingress manifests to Gateway API and Traefik objects that keep every protected path protected (YAML on stdout, diagnostics on stderr).",
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

    @OptionGroup var conversion: ConversionArguments

    @Flag(name: .long, help: "Write the objects even when the coverage check finds paths that lose protection or change backend.")
    var allowUnprotected = false

    @Option(name: .long, help: ArgumentHelp("Write one file per object (<namespace>/<kind>-<name>.yaml) and a kustomization.yaml into DIR instead of stdout; all or nothing.", valueName: "DIR"))
    var outputDir: String?

    @Flag(name: .long, help: "With --output-dir: replace files authgate did not write.")
    var force = false

    func run() throws {
        let (result, diagnostics) = try conversion.convert()

        let failures = result.failures
        for finding in result.findings where !finding.isFailure {
            printError(Diagnostic.warning(finding.message, at: finding.location).description)
        }
        for finding in failures {
            let severity: Diagnostic.Severity = allowUnprotected ? .warning : .error
            printError(Diagnostic(severity, finding.message, at: finding.location).description)
        }
        if !failures.isEmpty && !allowUnprotected {
            printError("authgate: error: " + Self.refusal(failures) + "; nothing was written (--allow-unprotected writes anyway)")
            throw ExitCode(ExitStatus.coverageFailed)
        }
        if let outputDir {
            let summary: OutputDirectory.Summary
            do {
                summary = try OutputDirectory(path: outputDir, force: force).write(result.emission.objects)
            } catch {
                printError(error.diagnostic.description)
                throw ExitCode(ExitStatus.badInput)
            }
            var line = "authgate: \(outputDir): \(summary.written.count) file\(summary.written.count == 1 ? "" : "s") written, \(summary.unchanged.count) unchanged"
            if !summary.removed.isEmpty { line += "; removed what no object needs any more: " + summary.removed.joined(separator: ", ") }
            printError(line)
        } else {
            FileHandle.standardOutput.write(Data(result.yaml.utf8))
        }
        let findingWarnings = result.findings.count { !$0.isFailure } + (allowUnprotected ? failures.count : 0)
        printError(Self.summary(result, warnings: diagnostics.warnings.count + findingWarnings))
    }

    /// Why convert refuses, in one line: paths, left-out sites, nothing converted.
    static func refusal(_ failures: [CoverageFinding]) -> String {
        var parts: [String] = []
        let paths = failures.filter { !$0.paths.isEmpty }.reduce(0) { $0 + $1.paths.count }
        if paths > 0 { parts.append("\(paths) path\(paths == 1 ? "" : "s") would not keep the backend and auth the source gave \(paths == 1 ? "it" : "them")") }
        let left = failures.count { $0.kind == .siteLeftOut }
        if left > 0 { parts.append("\(left) protected site address\(left == 1 ? "" : "es") would be left out") }
        if failures.contains(where: { $0.kind == .nothingConverted }) { parts.append("nothing would be converted") }
        return parts.joined(separator: "; ")
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

