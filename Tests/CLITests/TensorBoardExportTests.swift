import Foundation
import TestSupport
import XCTest

/// TensorBoard event files, live (`train --tensorboard DIR`) and exported (`xright export tensorboard`), read back
/// with the `tensorboard` Python package's own reader (scripts/check_tensorboard.py): every tag, step and value
/// equals the run log's.
final class TensorBoardExportTests: XCTestCase {
    private static var readerProbe: String??

    /// Skips unless python3 imports tensorboard (asked once per process).
    private func requireTensorBoardReader() throws {
        if Self.readerProbe == nil {
            let probe = try BridgePython.start(["-c", "import tensorboard.backend.event_processing.plugin_event_accumulator"],
                                               in: FileManager.default.temporaryDirectory)
            try BridgePython.waitForExit(probe, timeout: 120)
            Self.readerProbe = .some(probe.process.terminationStatus == 0 ? nil
                : "\(BridgePython.python) cannot import tensorboard (pip install tensorboard, or scripts/setup-python): "
                    + probe.output().suffix(300))
        }
        if let problem = Self.readerProbe! { throw XCTSkip(problem) }
    }

    /// TensorBoard's reader over `tensorboardRun` against `log`; returns the number of values compared.
    private func check(_ tensorboardRun: URL, against log: URL, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let checker = try BridgePython.start([TestPaths.packageRoot.appendingPathComponent("scripts/check_tensorboard.py").path,
                                              tensorboardRun.path, log.path], in: tensorboardRun)
        try BridgePython.waitForExit(checker, timeout: 180)
        XCTAssertEqual(checker.process.terminationStatus, 0, checker.output(), file: file, line: line)
        let counts = try XCTUnwrap(checker.output().split(separator: "\n").last { $0.hasPrefix("{") }, checker.output(), file: file, line: line)
        let values = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(counts.utf8)) as? [String: Int])?["values"])
        return values
    }

    static let run = TinyRun.options + ["--headless", "--max-steps", "6", "--eval-every", "2", "--strategy", "maxright"]

    func test_liveRun_writesEventsThatTensorBoardReadsAsTheRunLogsValues() throws {
        try requireTensorBoardReader()
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--run-dir", "live", "--tensorboard", "tb"] + Self.run, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stderr.contains("tensorboard: \(dir.appendingPathComponent("tb/live").path)"), r.transcript)
        let values = try check(dir.appendingPathComponent("tb/live"), against: dir.appendingPathComponent("live/run.jsonl"))
        XCTAssertGreaterThan(values, 6 * 8, "six steps of losses, λ, learning rate, gradient norm, tokens/s, choice, gaps")
    }

    func test_export_writesOneDirectoryPerRun_equalToEachLog() throws {
        try requireTensorBoardReader()
        let dir = try scratchDirectory()
        for (name, lambda) in [("a", "0.2"), ("b", "0.8")] {
            let r = try XRightProcess.run(["train", "--run-dir", name, "--lambda", lambda] + Self.run, in: dir)
            XCTAssertEqual(r.status, 0, r.transcript)
        }
        let export = try XRightProcess.run(["export", "tensorboard", "a", "b/run.jsonl", "out"], in: dir)
        XCTAssertEqual(export.status, 0, export.transcript)
        XCTAssertTrue(export.stdout.contains("view: tensorboard --logdir"), export.transcript)
        for name in ["a", "b"] {
            _ = try check(dir.appendingPathComponent("out/\(name)"), against: dir.appendingPathComponent("\(name)/run.jsonl"))
        }

        let again = try XRightProcess.run(["export", "tensorboard", "a", "out"], in: dir)
        assertRefused(again, mentioning: ["out/a holds TensorBoard event files already"])
    }

    func test_export_ofABridgeRun_includesItsGPUTelemetry() throws {
        try requireTensorBoardReader()
        let fixture = try BridgeFixture.shared()
        let scratch = try scratchDirectory()
        let run = scratch.appendingPathComponent("bridge-run")
        let training = try BridgePython.start([
            "-m", "xright_bridge", "train", "--model", fixture.policy.path, "--run-dir", run.path,
            "--sft", fixture.sft.path, "--pref", fixture.pref.path, "--strategy", "maxright", "--lambda", "0.5",
            "--max-steps", "4", "--eval-every", "2", "--batch-size", "4", "--lr", "1e-3", "--threads", "1",
            "--telemetry-seconds", "1"], in: scratch, pythonPathFirst: try FakeNVML.write(in: scratch))
        try BridgePython.waitForExit(training, timeout: 240)
        XCTAssertEqual(training.process.terminationStatus, 0, training.output())
        let export = try XRightProcess.run(["export", "tensorboard", run.path, "out"], in: scratch)
        XCTAssertEqual(export.status, 0, export.transcript)
        _ = try check(scratch.appendingPathComponent("out/bridge-run"), against: run.appendingPathComponent("run.jsonl"))
        let log = try String(contentsOf: run.appendingPathComponent("run.jsonl"), encoding: .utf8)
        XCTAssertTrue(log.contains("\"utilization\""), "the fake NVML reported no GPU; the telemetry tags went unchecked")
    }

    func test_export_refusesMissingOutputOrRun() throws {
        let dir = try scratchDirectory()
        let alone = try XRightProcess.run(["export", "tensorboard", "out"], in: dir, timeout: 30)
        assertRefused(alone, mentioning: ["name at least one run directory and then the output directory"])
        let missing = try XRightProcess.run(["export", "tensorboard", "nowhere", "out"], in: dir, timeout: 30)
        assertRefused(missing, mentioning: ["nowhere/run.jsonl"])
    }

    func test_tensorboardDirectoryThatCannotBeCreated_isRefusedBeforeTraining() throws {
        let dir = try scratchDirectory()
        FileManager.default.createFile(atPath: dir.appendingPathComponent("file").path, contents: Data())
        let r = try XRightProcess.run(["train", "--run-dir", "x", "--tensorboard", "file"] + Self.run, in: dir)
        assertRefused(r, mentioning: ["file/x: cannot write TensorBoard events"])
    }
}
