// swift-tools-version:6.0
import PackageDescription

// One binary (`xright`) over small libraries, one job each; see docs/ARCHITECTURE.md.
// Tests run in release (`scripts/test`), so they use public API only (no @testable).
let optimize: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "xright",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "xright", targets: ["xright"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // YAML config files (`--config run.yaml`).
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // TensorBoard event files (protobuf messages); the Swift code is generated once and committed.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // Prometheus text format (its registry; no network library: the endpoint is a small POSIX responder).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries, found through pkg-config (installed by scripts/setup).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw",
                       providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // The one JSON parser: safetensors headers, tokenizer files, data records.
        .target(name: "JSON", swiftSettings: optimize),
        // The GGUF container (llama.cpp's model file): header, metadata, tensor index, mapped data; docs/GGUF.md.
        .target(name: "GGUF", swiftSettings: optimize),
        // Tensors, kernels, the GPT-NeoX model, LoRA, AdamW, safetensors, GGUF dequantization and names.
        .target(name: "Engine", dependencies: ["CBLAS", "JSON", "GGUF"], swiftSettings: optimize),
        // Tokenizers and prompt templates (also from GGUF metadata).
        .target(name: "Text", dependencies: ["JSON", "GGUF"], swiftSettings: optimize),
        // Data readers, batching, the built-in demo task.
        .target(name: "Data", dependencies: ["Text", "JSON", "CZlib"], swiftSettings: optimize),
        // Objectives, strategies (ALRIGHT, MAXRIGHT, mix, sequential), the session, checkpoints, the run log.
        .target(name: "Training", dependencies: ["Engine", "Data", "Text", "JSON", "Telemetry"], swiftSettings: optimize),
        // A live run's events and commands over a Unix socket in its run directory (attach, ctl, ls).
        .target(name: "Remote", dependencies: ["Training"], swiftSettings: optimize),
        // GPU (NVML, nvidia-smi), CPU and memory readings, sampled off the UI thread.
        .target(name: "Telemetry", swiftSettings: optimize),
        // The ncurses dashboard: state folded from run events, layout, widgets, themes, keys, the terminal.
        .target(name: "Dashboard", dependencies: ["Training", "Telemetry", "CNcurses"], swiftSettings: optimize),
        // `--config FILE`: a YAML file's keys checked against a command's options and turned into its arguments.
        .target(name: "ConfigFile", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: optimize),
        // TensorBoard event files from run events: live (`train --tensorboard`) and from finished logs (`export`).
        .target(name: "TensorBoard", dependencies: ["Training", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["Proto"], swiftSettings: optimize),
        // A live run's figures as Prometheus metrics, served on 127.0.0.1 (`train --metrics-port`).
        .target(name: "PrometheusMetrics", dependencies: ["Training", .product(name: "Prometheus", package: "swift-prometheus")],
                swiftSettings: optimize),
        // The command line.
        .executableTarget(name: "xright", dependencies: [
            "JSON", "Engine", "Text", "Data", "Training", "Remote", "Telemetry", "Dashboard", "ConfigFile",
            "TensorBoard", "PrometheusMetrics",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimize),

        // Paths to fixtures and to ../shared/data, shared by every test target.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "GGUF", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TextTests", dependencies: ["Text", "GGUF", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Text", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Telemetry", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "RemoteTests", dependencies: ["Remote", "Training", "TestSupport"]),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", "TestSupport"]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "Training", "Telemetry", "TestSupport"]),
        .testTarget(name: "ConfigFileTests", dependencies: ["ConfigFile", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TensorBoardTests", dependencies: ["TensorBoard", "Training", "TestSupport"]),
        .testTarget(name: "PrometheusMetricsTests", dependencies: ["PrometheusMetrics", "Training", "TestSupport"]),
        // Drives the built `xright` binary as a user would.
        .testTarget(name: "CLITests", dependencies: ["Training", "TestSupport"], exclude: ["Fixtures"]),
    ],
    // Kernels share raw buffers across worker threads by construction (disjoint ranges); Swift 5 mode keeps
    // that explicit code free of Sendable ceremony.
    swiftLanguageModes: [.v5]
)
