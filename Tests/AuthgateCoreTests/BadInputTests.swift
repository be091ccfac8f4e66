@testable import AuthgateCore
import Foundation
import Testing

/// The bad-input corpus in Tests/BadInputs: each broken or hostile file ends with the
/// recorded exit code and prints the recorded diagnostic (with its position) first; on
/// an error nothing reaches stdout.
struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var file: String
        var status: Int32
        var diagnostic: String
        var testDescription: String { file }
    }

    static var cases: [Case] {
        let text = (try? String(contentsOf: packageRoot.appendingPathComponent("Tests/BadInputs/expected.txt"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            let fields = line.split(separator: "\t", maxSplits: 2).map(String.init)
            guard fields.count == 3, let status = Int32(fields[1]) else { return nil }
            return Case(file: fields[0], status: status, diagnostic: fields[2])
        }
    }

    @Test func theCorpusHasAtLeastSixtyInputsAndEveryFileIsListed() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Tests/BadInputs").path).filter { $0 != "expected.txt" }
        #expect(Self.cases.count >= 60)
        #expect(Set(files) == Set(Self.cases.map(\.file)))
    }

    @Test(arguments: cases)
    func badInputEndsCleanlyWithItsPositionedDiagnostic(_ item: Case) throws {
        let kind = item.file.hasSuffix(".yaml") ? "manifests" : "caddyfile"
        let run = try runAuthgate(["convert", "--from", kind, "Tests/BadInputs/\(item.file)"], directory: packageRoot)
        #expect(run.status == item.status, "\(item.file): \(run.stderr)")
        #expect(run.stderr.contains(item.diagnostic), "\(item.file) printed:\n\(run.stderr)")
        #expect(item.diagnostic.hasPrefix("Tests/BadInputs/\(item.file):"), "the recorded diagnostic has no position")
        if item.status == 2 { #expect(run.stdout.isEmpty) }
    }
}

/// Inputs the fuzzers and hostile-input tests found problems with (Tests/Fuzz/regressions),
/// kept so the problems stay fixed: each ends with exit 0, 1 or 2 — never a crash.
struct FuzzRegressionTests {
    static var files: [String] {
        let folder = packageRoot.appendingPathComponent("Tests/Fuzz/regressions")
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    @Test func thereAreRegressions() {
        #expect(!Self.files.isEmpty, "Tests/Fuzz/regressions is empty")
    }

    @Test(arguments: files)
    func regressionEndsCleanly(_ file: String) throws {
        let kind = file.hasSuffix(".yaml") ? "manifests" : "caddyfile"
        let run = try runAuthgate(["convert", "--from", kind, "Tests/Fuzz/regressions/\(file)"], directory: packageRoot)
        #expect([0, 1, 2].contains(run.status), "\(file) ended with \(run.status):\n\(run.stderr.suffix(2000))")
    }
}
