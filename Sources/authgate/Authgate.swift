import ArgumentParser
import AuthgateCore

import Foundation

@main
struct Authgate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authgate",
        abstract: "Migrate forward-auth setups (Caddy forward_auth, Ingress auth annotations) to the Kubernetes Gateway API for Traefik.",
        discussion: """
            authgate reads a Caddyfile or Kubernetes manifests (Ingress with Traefik or \
            ingress-nginx auth) and writes the Gateway API and Traefik objects that keep every \
            protected path protected: convert writes them, report explains them host by host, \
            diff shows what they would change.

            Exit codes: 0 done (warnings allowed), 1 a protected path would lose protection \
            (convert, report) or something differs (diff), 2 bad input (printed as \
            file:line:col: error: message; nothing on stdout, nothing written), 64 bad usage.
            """,
        version: "0.2.0",
        subcommands: [Convert.self, Diff.self, Report.self]
    )
}

enum ExitStatus {
    static let coverageFailed: Int32 = 1
    static let differences: Int32 = 1
    static let badInput: Int32 = 2
}

/// Prints to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
