import Foundation
import XCTest

/// A run whose disk fills up: checkpoints that do not fit are refused with the system's reason while the earlier
/// ones stay complete, the run ends with a clear error, and once there is room again `--resume` finishes it with
/// the same steps as a run that never ran short. Needs root (the test mounts a small tmpfs); skipped otherwise.
final class FullDiskTests: XCTestCase {
    static let steps = 120

    static func arguments(_ runDir: URL) -> [String] {
        ["train", "--headless", "--seed", "5", "--max-steps", String(steps), "--epochs", "100", "--checkpoint-every", "10",
         "--keep-checkpoints", "0", "--eval-every", "0", "--batch-size", "8", "--run-dir", runDir.path,
         "--preset", "tiny", "--demo-examples", "200", "--threads", "1"]
    }

    func test_fullDisk_keepsTheLastGoodCheckpoint_saysWhy_andResumesExactly() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to mount a small tmpfs") }
        let dir = try scratchDirectory()
        let reference = dir.appendingPathComponent("reference")
        XCTAssertEqual(try XRightProcess.run(Self.arguments(reference), in: dir).status, 0)
        let checkpointBytes = try directorySize(reference.appendingPathComponent("checkpoints/step-000010"))

        // Room for the log and about three checkpoints of twelve.
        let mountPoint = dir.appendingPathComponent("small-disk")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let size = 3 * checkpointBytes + 256 * 1024
        guard shell("mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint.path) == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (no CAP_SYS_ADMIN?)")
        }
        defer { _ = shell("umount", "-l", mountPoint.path) }

        let runDir = mountPoint.appendingPathComponent("run")
        let full = try XRightProcess.run(Self.arguments(runDir), in: dir)
        XCTAssertNotEqual(full.status, 0, "the final model cannot be written: the run must not claim success\n\(full.transcript)")
        XCTAssertTrue(full.stderr.contains("No space left on device"), full.transcript)
        XCTAssertTrue(full.stderr.contains("earlier checkpoints are kept"), full.transcript)
        let checkpoints = runDir.appendingPathComponent("checkpoints")
        let names = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).sorted()
        XCTAssertFalse(names.isEmpty)
        XCTAssertEqual(names.filter { $0.hasPrefix(".tmp-") }, [], "a failed checkpoint leaves nothing half-written")
        let last = try XCTUnwrap(names.last { $0.hasPrefix("step-") })
        XCTAssertLessThan(Int(last.dropFirst(5)) ?? 0, Self.steps, "some checkpoints did not fit")

        // Room again: the run resumes from the last good checkpoint and ends as if nothing happened.
        XCTAssertEqual(shell("mount", "-o", "remount,size=\(64 << 20)", mountPoint.path), 0)
        let resumed = try XRightProcess.run(["train", "--headless", "--resume", runDir.path], in: dir)
        XCTAssertEqual(resumed.status, 0, resumed.transcript)
        let weights = try Data(contentsOf: runDir.appendingPathComponent("final/model.safetensors"))
        XCTAssertTrue(weights == (try Data(contentsOf: reference.appendingPathComponent("final/model.safetensors"))),
                      "final weights differ from the run that had room")
        let log = try String(contentsOf: runDir.appendingPathComponent("run.jsonl"), encoding: .utf8)
        let steps = Set(log.split(separator: "\n").filter { $0.contains("\"type\":\"step\"") }
            .compactMap { String($0).firstCapture(of: "\"step\":([0-9]+)").flatMap { Int($0) } })
        XCTAssertEqual(steps, Set(1...Self.steps), "every step is in the log")
    }

    private func directorySize(_ url: URL) throws -> Int {
        var total = 0
        let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey])
        while let file = enumerator?.nextObject() as? URL {
            total += try file.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0
        }
        return total
    }

    @discardableResult
    private func shell(_ arguments: String...) -> Int32 {
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
