// swift-tools-version:6.0
import PackageDescription

// The coverage-guided fuzzer (libFuzzer, from the Swift toolchain) over every parser of xright: a package of its
// own, so `swift build` of xright never builds it and its instrumented objects live in Fuzz/.build. The library
// targets are the main package's own sources (Sources/ here holds symlinks to ../Sources/<module>).
// Build and run with scripts/fuzz; see docs/FUZZING.md.
let package = Package(
    name: "xright-fuzz",
    // As the main package: YAML config files (`--config run.yaml`) are read with Yams.
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib"),
        .target(name: "JSON"),
        .target(name: "GGUF"),
        .target(name: "Engine", dependencies: ["CBLAS", "JSON", "GGUF"]),
        .target(name: "Text", dependencies: ["JSON", "GGUF"]),
        .target(name: "Data", dependencies: ["Text", "JSON", "CZlib"]),
        .target(name: "Training", dependencies: ["Engine", "Data", "Text", "JSON"]),
        .target(name: "Remote", dependencies: ["Training"]),
        .target(name: "Telemetry"),
        .target(name: "Dashboard", dependencies: ["Training", "Telemetry", "CNcurses"]),
        .target(name: "ConfigFile", dependencies: [.product(name: "Yams", package: "Yams")]),
        // main.swift runs libFuzzer's driver over the target named by XRIGHT_FUZZ_TARGET.
        .executableTarget(
            name: "XRightFuzz", dependencies: ["JSON", "GGUF", "Engine", "Text", "Data", "Training", "Remote", "Dashboard", "ConfigFile"],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer"])]),
    ],
    swiftLanguageModes: [.v5]
)
