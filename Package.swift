// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "authgate",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "authgate", targets: ["authgate"]),
        .library(name: "AuthgateCore", targets: ["AuthgateCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        // Everything but argument parsing and printing lives here, so tests call it directly.
        .target(
            name: "AuthgateCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // The thin command-line front: parse flags, read files, print, choose the exit code.
        .executableTarget(
            name: "authgate",
            dependencies: [
                "AuthgateCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "AuthgateCoreTests",
            dependencies: ["AuthgateCore"]
        ),
    ]
)

// The libFuzzer target exists only for Tests/fuzz (AUTHGATE_FUZZ=1): it has no main
// (libFuzzer brings its own), so ordinary builds must not see it.
if Context.environment["AUTHGATE_FUZZ"] == "1" {
    package.products.append(.executable(name: "authgate-fuzz", targets: ["AuthgateFuzz"]))
    package.targets.append(.executableTarget(name: "AuthgateFuzz", dependencies: ["AuthgateCore"], path: "Tests/Fuzz"))
}
