@testable import AuthgateCore
import Foundation
import Testing

/// Lexes `text` as a file named "Caddyfile" with the given environment.
func lex(_ text: String, environment: [String: String] = [:]) throws(DiagnosticError) -> [Token] {
    try Lexer.tokenize(SourceText(file: "Caddyfile", text: text), environment: environment)
}

/// Tokens as (logical line, text) pairs, the shape Caddy's lexer tests compare.
func lines(_ tokens: [Token]) -> [LineText] {
    tokens.map { LineText($0.line, $0.text) }
}

struct LineText: Equatable, CustomStringConvertible {
    var line: Int
    var text: String
    init(_ line: Int, _ text: String) {
        self.line = line
        self.text = text
    }
    var description: String { "\(line):\(text.debugDescription)" }
}

/// Parses `text` (file "Caddyfile") with imports from `files`.
func parse(
    _ text: String, files: [String: String] = [:], environment: [String: String] = [:], importedTokenBudget: Int = 2_000_000
) throws(DiagnosticError) -> (CaddyfileDocument, Diagnostics) {
    var diagnostics = Diagnostics()
    let frontEnd = CaddyfileFrontEnd(fileSystem: InMemoryFileSystem(files), environment: environment, importedTokenBudget: importedTokenBudget)
    let document = try frontEnd.parse(text: text, file: "Caddyfile", diagnostics: &diagnostics)
    return (document, diagnostics)
}

/// The error a parse ends with, or nil when it succeeds.
func parseError(_ text: String, files: [String: String] = [:], environment: [String: String] = [:]) -> Diagnostic? {
    do {
        _ = try parse(text, files: files, environment: environment)
        return nil
    } catch {
        return error.diagnostic
    }
}

/// A site's segments as their token texts.
func segmentTexts(_ site: CaddyfileDocument.Site) -> [[String]] {
    site.block.segments.map { $0.tokens.map(\.text) }
}

/// The package's root folder, from this file's path.
let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// An input that must fail with a message (a substring) at a line and column.
struct PositionedError: CustomTestStringConvertible, Sendable {
    var name: String
    var input: String
    var message: String
    var line: Int
    var column: Int
    var testDescription: String { name }
}

/// What one run of the built `authgate` binary did.
struct CommandRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `.build/debug/authgate` (built by `swift build`, which Tests/run-all runs first).
func runAuthgate(_ arguments: [String], stdin: String = "", directory: URL? = nil) throws -> CommandRun {
    let binary = packageRoot.appendingPathComponent(".build/debug/authgate")
    try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build the package first (swift build); \(binary.path) is missing")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let input = Pipe()
    let output = Pipe()
    let errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // stderr is drained on its own thread: a run with many warnings would otherwise
    // fill its pipe and block while this one waits for stdout to end.
    let stderrReader = errors.fileHandleForReading
    nonisolated(unsafe) var stderr = Data()
    let drained = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        stderr = stderrReader.readDataToEndOfFile()
        drained.signal()
    }
    input.fileHandleForWriting.write(Data(stdin.utf8))
    try input.fileHandleForWriting.close()
    let stdout = output.fileHandleForReading.readDataToEndOfFile()
    drained.wait()
    process.waitUntilExit()
    return CommandRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
}

/// Compares `actual` with the recording at `path` (relative to the package) and shows a
/// unified diff when they differ. With `AUTHGATE_RECORD=1` it records instead and fails,
/// so a recording run is never mistaken for a passing one.
func expectRecorded(_ actual: String, _ path: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let file = packageRoot.appendingPathComponent(path)
    if ProcessInfo.processInfo.environment["AUTHGATE_RECORD"] == "1" {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try actual.write(to: file, atomically: true, encoding: .utf8)
        Issue.record("recorded \(path); run the tests again without AUTHGATE_RECORD", sourceLocation: sourceLocation)
        return
    }
    guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
        Issue.record("\(path) is missing; record it with AUTHGATE_RECORD=1", sourceLocation: sourceLocation)
        return
    }
    let diff = UnifiedDiff.render(old: expected, new: actual, oldName: path, newName: "actual")
    #expect(diff.isEmpty, "output differs from \(path) (AUTHGATE_RECORD=1 re-records):\n\(diff)", sourceLocation: sourceLocation)
}
