@testable import AuthgateCore
import Foundation
import Testing

/// `authgate diff` and `authgate report`, through the built binary.
struct DiffTests {
    func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("authgate-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func nothingDiffersAgainstWhatConvertWrote() throws {
        let out = try folder()
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(try runAuthgate(["convert", "Samples/basic/Caddyfile", "--output-dir", out.path], directory: packageRoot).status == 0)
        let run = try runAuthgate(["diff", "Samples/basic/Caddyfile", "--against", out.path], directory: packageRoot)
        #expect(run.status == 0)
        #expect(run.stdout.isEmpty)
    }

    @Test func aChangedObjectIsShownAsAUnifiedDiffWithoutColourWhenPiped() throws {
        let out = try folder()
        defer { try? FileManager.default.removeItem(at: out) }
        _ = try runAuthgate(["convert", "Samples/basic/Caddyfile", "--output-dir", out.path], directory: packageRoot)
        let file = out.appendingPathComponent("default/httproute-grafana-example-com.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        try text.replacingOccurrences(of: "name: grafana\n", with: "name: grafana-old\n").write(to: file, atomically: true, encoding: .utf8)
        let run = try runAuthgate(["diff", "Samples/basic/Caddyfile", "--against", out.path], directory: packageRoot)
        #expect(run.status == 1)
        #expect(run.stdout.hasPrefix("~ changed  HTTPRoute default/grafana-example-com (gateway.networking.k8s.io)\n"))
        #expect(run.stdout.contains("\n-      name: grafana-old\n+      name: grafana\n"))
        #expect(!run.stdout.contains("\u{1B}["))
        try expectRecorded(run.stdout, "Tests/DiffGoldens/changed.txt")
    }

    @Test func objectsAuthgateNoLongerWritesAreRemoved() throws {
        let out = try folder()
        defer { try? FileManager.default.removeItem(at: out) }
        _ = try runAuthgate(["convert", "Samples/basic/Caddyfile", "--output-dir", out.path], directory: packageRoot)
        let run = try runAuthgate(["diff", "Samples/basic/Caddyfile", "--namespace", "apps", "--against", out.path], directory: packageRoot)
        #expect(run.status == 1)
        #expect(run.stdout.contains("+ added    HTTPRoute apps/grafana-example-com (gateway.networking.k8s.io)\n"))
        #expect(run.stdout.contains("- removed  HTTPRoute default/grafana-example-com (gateway.networking.k8s.io)\n"))
        try expectRecorded(run.stdout, "Tests/DiffGoldens/removed.txt")
    }

    @Test func theIngressesAMigrationReplacesAreListed() throws {
        let run = try runAuthgate(["diff", "Samples/ingress-traefik/manifests.yaml", "--against", "Samples/ingress-traefik/expected.yaml"], directory: packageRoot)
        #expect(run.status == 1)
        try expectRecorded(run.stdout, "Tests/DiffGoldens/ingress-replaced.txt")
    }

    @Test func aMissingAgainstPathIsAnError() throws {
        let run = try runAuthgate(["diff", "Samples/basic/Caddyfile", "--against", "/nonexistent/authgate"], directory: packageRoot)
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("error: cannot read /nonexistent/authgate"))
        try expectRecorded(run.stderr, "Tests/DiffGoldens/missing-against.stderr.txt")
    }

    @Test func secretValuesNeverAppearInADiff() throws {
        let out = try folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let token = out.appendingPathComponent("token")
        try "first-token-value\n".write(to: token, atomically: true, encoding: .utf8)
        _ = try runAuthgate(["convert", "Samples/basic/Caddyfile", "--authentik-token-file", token.path, "--output-dir", out.appendingPathComponent("deploy").path], directory: packageRoot)
        try "second-token-value\n".write(to: token, atomically: true, encoding: .utf8)
        let run = try runAuthgate(["diff", "Samples/basic/Caddyfile", "--authentik-token-file", token.path, "--against", out.appendingPathComponent("deploy").path], directory: packageRoot)
        #expect(run.status == 1)
        #expect(run.stdout.contains("-  authentik_token: \"<masked: old value>\"\n+  authentik_token: \"<masked: new value>\"\n"))
        #expect(run.stdout.contains("   authentik_host_insecure: <masked>\n"))
        #expect(!run.stdout.contains("token-value"))
        #expect(!run.stderr.contains("token-value"))
    }

    @Test func aKubectlDumpWithServerFieldsComparesEqual() throws {
        let objects = try ManifestFrontEnd().objects(text: """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: traefik.io/v1alpha1
              kind: Middleware
              metadata:
                name: x
                namespace: a
                uid: 1234
                resourceVersion: "99"
                creationTimestamp: "2026-01-01T00:00:00Z"
                annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}
                labels: {app.kubernetes.io/managed-by: authgate}
              spec: {stripPrefix: {prefixes: [/a]}}
              status: {}
            """, file: "dump.yaml", diagnostics: &mutableDiagnostics)
        let ours = KubeObject(apiVersion: "traefik.io/v1alpha1", kind: "Middleware", name: "x", namespace: "a", labels: KubeLabels.managed,
                              fields: [.init("spec", .object([("stripPrefix", .object([("prefixes", .strings(["/a"]))]))]))])
        #expect(ObjectDiff.compare(objects: [ours], against: objects, replaced: []).isEmpty)
    }
}

nonisolated(unsafe) private var mutableDiagnostics = Diagnostics()

/// The report's three formats, recorded for three samples.
struct ReportTests {
    /// Every sample's report in each format, with the arguments its conversion uses.
    @Test(arguments: SampleGoldenTests.samples)
    func reportsMatchTheirRecordings(_ sample: String) throws {
        let arguments = (try? String(contentsOf: packageRoot.appendingPathComponent("Samples/\(sample)/args"), encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).map(String.init) ?? []
        let input = try #require(SampleGoldenTests.input(of: sample))
        for (format, file) in [("text", "expected-report.txt"), ("markdown", "expected-report.md"), ("json", "expected-report.json")] {
            let run = try runAuthgate(["report", input, "--format", format] + arguments, directory: packageRoot)
            #expect(run.status == 0, "\(run.stderr)")
            try expectRecorded(run.stdout, "Samples/\(sample)/\(file)")
        }
    }

    @Test func theJSONReportHasTheDocumentedShape() throws {
        let run = try runAuthgate(["report", "Samples/basic/Caddyfile", "--format", "json"], directory: packageRoot)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let hosts = try #require(json["hosts"] as? [[String: Any]])
        let grafana = try #require(hosts.first { $0["host"] as? String == "grafana.example.com" })
        let rules = try #require(grafana["rules"] as? [[String: Any]])
        let root = try #require(rules.first { ($0["match"] as? [String: String])?["value"] == "/" })
        #expect(root["source"] as? String == "Samples/basic/Caddyfile:16")
        #expect(root["match"] as? [String: String] == ["type": "PathPrefix", "value": "/"])
        #expect(root["backend"] as? String == "default/grafana:3000")
        #expect(root["protectedBefore"] as? Bool == true)
        #expect(root["protectedAfter"] as? Bool == true)
        let diagnostics = try #require(json["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.contains { $0["severity"] as? String == "warning" && ($0["location"] as? String)?.hasPrefix("Samples/basic/Caddyfile:") == true })
    }
}
