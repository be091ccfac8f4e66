import AuthgateCore
import Foundation

/// One libFuzzer entry point; `AUTHGATE_FUZZ_TARGET` picks what it feeds:
/// `caddyfile` (lexer, parser, imports), `caddy-import` (the whole conversion from a
/// Caddyfile), `yaml` (the manifest loader), `ingress-import` (the whole conversion
/// from manifests). Built only by Tests/fuzz (see Package.swift).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let target = ProcessInfo.processInfo.environment["AUTHGATE_FUZZ_TARGET"] ?? "caddyfile"
    var diagnostics = Diagnostics()
    let files = InMemoryFileSystem(["snippets.caddy": "(s) {\n\trespond x\n}\n"])
    switch target {
    case "caddyfile":
        _ = try? CaddyfileFrontEnd(fileSystem: files, environment: ["HOST": "a.com"], importedTokenBudget: 200_000)
            .parse(bytes: bytes, file: "Caddyfile", diagnostics: &diagnostics)
    case "yaml":
        _ = try? ManifestFrontEnd(nodeBudget: 100_000).objects(text: String(decoding: bytes, as: UTF8.self), file: "in.yaml", diagnostics: &diagnostics)
    case "caddy-import", "ingress-import":
        let kind: InputKind = target == "caddy-import" ? .caddyfile : .manifests
        var conversion = Conversion(fileSystem: files, environment: [:], forcedKind: kind, options: TraefikOptions())
        // A smaller expansion budget: the fuzzer builds import bombs, and reaching the
        // full budget under AddressSanitizer takes longer than a run may.
        conversion.importedTokenBudget = 200_000
        _ = conversion.run([ConversionInput(path: "in", bytes: bytes)], diagnostics: &diagnostics)
    default:
        break
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

/// SwiftPM links an executable target's entry point under this name; hand the command
/// line to libFuzzer's driver.
@_cdecl("AuthgateFuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data, size) }
}
