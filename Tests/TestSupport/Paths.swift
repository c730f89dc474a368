import Foundation
import XCTest

/// Where tests find their inputs: committed fixtures next to each test target, the shared sample data beside
/// the checkout (`../shared/data`, or `XRIGHT_SHARED_DATA`), and the built `xright` binary.
public enum TestPaths {
    /// The package root (the directory holding Package.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/<target>/Fixtures/<name>`.
    public static func fixture(_ target: String, _ name: String) -> URL {
        packageRoot.appendingPathComponent("Tests").appendingPathComponent(target)
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
    }

    /// The shared sample data directory, or nil when it is absent.
    public static var sharedData: URL? {
        let env = ProcessInfo.processInfo.environment["XRIGHT_SHARED_DATA"]
        let url = env.map { URL(fileURLWithPath: $0) }
            ?? packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue ? url : nil
    }

    /// A file of the shared sample data; skips the calling test with a clear message when it is absent.
    public static func sharedFile(_ name: String) throws -> URL {
        guard let dir = sharedData else {
            throw XCTSkip("../shared/data is absent (set XRIGHT_SHARED_DATA to run this test)")
        }
        let url = dir.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("\(url.path) is absent")
        }
        return url
    }

    /// A fresh temporary directory, removed by the caller (or left for inspection on failure).
    public static func temporaryDirectory(_ label: String = "xright-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
