import ArgumentParser
import AuthgateCore
import Foundation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a Caddyfile or manifests and check them as the source proxy reads them (diagnostics on stderr; writing Gateway API objects is not implemented yet).",
        discussion: """
            INPUT is a Caddyfile, a YAML file (multi-document or a kubectl `kind: List`), a \
            directory of YAML files, or - for standard input. The kind is detected from the \
            content; --from forces it.

            Caddyfiles are read exactly as Caddy 2.11 reads them: {$VAR} and {$VAR:default} \
            from the environment, snippets, named routes, import of snippets and files or \
            globs (relative to the importing file) with {args[n]}, {args[:]}, {block} and \
            {blocks.NAME}, heredocs, and Caddy's brace and address rules.

            This release checks the input only: it reports every error as \
            file:line:col and summarises what it read on stderr. Writing Gateway API \
            objects is not implemented yet, so nothing is printed on stdout.

            Examples:
              authgate convert Samples/basic/Caddyfile
              authgate convert --from caddyfile - < Caddyfile
            """
    )

    @Argument(help: ArgumentHelp("Caddyfile, YAML file, directory of YAML files, or - for stdin.", valueName: "INPUT"))
    var inputs: [String]

    @Option(name: .long, help: ArgumentHelp("Force the input kind instead of detecting it.", valueName: "caddyfile|manifests"))
    var from: InputKind?

    @Option(name: .long, help: "Refuse input files larger than this many bytes.")
    var maxInputBytes: Int = 64 << 20

    func validate() throws {
        if inputs.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("standard input (-) can be given only once")
        }
        if maxInputBytes <= 0 {
            throw ValidationError("--max-input-bytes must be positive")
        }
    }

    func run() throws {
        var inputList: [InputCheck.Input] = []
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
        let check = InputCheck(
            fileSystem: DiskFileSystem(maxFileBytes: maxInputBytes),
            environment: ProcessInfo.processInfo.environment, forcedKind: from)
        var diagnostics = Diagnostics()
        let summaries = check.run(inputList, diagnostics: &diagnostics)
        for diagnostic in diagnostics.sorted {
            printError(diagnostic.description)
        }
        guard let summaries, !diagnostics.hasErrors else { throw ExitCode(ExitStatus.badInput) }
        for summary in summaries {
            printError(Self.describe(summary))
        }
        printError("authgate: note: input read without errors; writing Gateway API objects is not implemented yet, so nothing was printed on stdout")
    }

    static func describe(_ summary: InputCheck.Summary) -> String {
        switch summary {
        case .caddyfile(let file, let sites, let namedRoutes, let hasGlobalOptions):
            var parts = ["\(sites.count) site address\(sites.count == 1 ? "" : "es")"]
            if namedRoutes > 0 { parts.append("\(namedRoutes) named route\(namedRoutes == 1 ? "" : "s")") }
            if hasGlobalOptions { parts.append("a global options block") }
            var line = "authgate: read Caddyfile \(file): " + parts.joined(separator: ", ")
            if !sites.isEmpty { line += " (" + sites.prefix(8).joined(separator: ", ") + (sites.count > 8 ? ", …" : "") + ")" }
            return line
        case .manifests(let file, let documents, let kinds):
            var counts: [String: Int] = [:]
            for kind in kinds { counts[kind, default: 0] += 1 }
            let listed = counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", ")
            return "authgate: read manifests \(file): \(documents) object\(documents == 1 ? "" : "s")" + (listed.isEmpty ? "" : " (\(listed))")
        }
    }
}

extension InputKind: ExpressibleByArgument {}
