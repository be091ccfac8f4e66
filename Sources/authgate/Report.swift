import ArgumentParser
import AuthgateCore
import Foundation

struct Report: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, markdown, json
    }

    static let configuration = CommandConfiguration(
        abstract: "Report, host by host, what each source rule became and whether it is protected before and after.",
        discussion: """
            Converts INPUT as convert does (writing nothing), then prints for every host each \
            source rule with its file:line, the HTTPRoute rule that serves it, its backend, \
            and whether it was protected before and is after; then the warnings and notes \
            (renamed headers, trust, what the Gateway listener needs, the Authentik version \
            to match).

            --format text is for terminals; markdown adds a Mermaid graph (host → route → \
            middleware → service) that renders on code-hosting sites; json is for scripts:
              {"hosts": [{"host": …, "route": …, "rules": [{"source": "Caddyfile:12",
                "match": {"type": "PathPrefix", "value": "/"}, "backend": "apps/grafana:3000",
                "protectedBefore": true, "protectedAfter": true, …}]}],
               "diagnostics": [{"severity": "warning", "message": …, "location": …}]}

            Exit codes: 0 done, 1 the coverage check failed (the report says where), 2 bad \
            input, 64 bad usage.
            """
    )

    @OptionGroup var conversion: ConversionArguments

    @Option(name: .long, help: "The report's format.")
    var format: Format = .text

    func run() throws {
        let (result, diagnostics) = try conversion.convert()
        let report = MigrationReport(result: result, diagnostics: diagnostics)
        let text: String
        switch format {
        case .text: text = report.text
        case .markdown: text = report.markdown
        case .json: text = report.json
        }
        FileHandle.standardOutput.write(Data(text.utf8))
        if !result.failures.isEmpty { throw ExitCode(ExitStatus.coverageFailed) }
    }
}
