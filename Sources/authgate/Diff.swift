import ArgumentParser
import AuthgateCore
import Foundation

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a conversion would change against objects that exist already.",
        discussion: """
            Converts INPUT as convert does, then compares the objects with those at --against: \
            a YAML file, a `kubectl get … -o yaml` dump, or a folder of YAML files (such as one \
            convert --output-dir wrote). Objects are matched by API group, kind, namespace and \
            name; server-set fields (status, uid, resourceVersion, managedFields, \
            creationTimestamp, the last-applied annotation) and key order are ignored.

            Prints the added, changed and removed objects, then a unified diff of each changed \
            one. Removed are objects at --against that authgate wrote (its managed-by label) \
            and no longer writes; in an Ingress migration, the Ingresses the new routes stand \
            in for are listed as replaced. Secret values are never shown. Coloured on a \
            terminal; plain when piped or when NO_COLOR is set.

            Exit codes, as kubectl diff: 0 nothing differs, 1 something does, 2 an error \
            (bad input, --against unreadable), 64 bad usage.

            Example:
              authgate convert Samples/basic/Caddyfile --output-dir deploy/auth
              authgate diff Samples/basic/Caddyfile --against deploy/auth
            """
    )

    @OptionGroup var conversion: ConversionArguments

    @Option(name: .long, help: ArgumentHelp("A YAML file, a kubectl -o yaml dump, or a folder of YAML files to compare with.", valueName: "PATH"))
    var against: String

    func run() throws {
        let fileSystem = DiskFileSystem(maxFileBytes: conversion.maxInputBytes)
        var diagnostics = Diagnostics()
        let existing: [ManifestObject]
        do {
            if fileSystem.isDirectory(against) {
                existing = try ManifestDirectory(fileSystem: fileSystem).objects(below: against, diagnostics: &diagnostics)
            } else {
                let bytes = try ConversionInput(path: against).read(from: fileSystem)
                existing = try ManifestFrontEnd().objects(text: String(decoding: bytes, as: UTF8.self), file: against, diagnostics: &diagnostics)
            }
        } catch {
            printError(error.diagnostic.description)
            throw ExitCode(ExitStatus.badInput)
        }
        let (result, _) = try conversion.convert()
        for diagnostic in diagnostics.grouped { printError(diagnostic.description) }
        for finding in result.findings {
            printError(Diagnostic.warning(finding.message, at: finding.location).description)
        }
        let changes = ObjectDiff.compare(objects: result.emission.objects, against: existing, replaced: result.plan.replacedObjects)
        let color = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        FileHandle.standardOutput.write(Data(ObjectDiff.render(changes, color: color).utf8))
        if !changes.isEmpty { throw ExitCode(ExitStatus.differences) }
    }
}
