import Foundation
import TestSupport
import Training
import XCTest

/// `xright train` records its own machine in run.jsonl: `telemetry` events with the trainer's pid and memory and the
/// GPUs it found (here a fake `nvidia-smi` first on PATH), or a note saying there is none; `--telemetry-seconds 0`
/// turns them off and a bad value is refused.
final class TrainTelemetryTests: XCTestCase {
    private func fakeNvidiaSMI(in dir: URL) throws -> URL {
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let tool = bin.appendingPathComponent("nvidia-smi")
        try "#!/bin/sh\necho '0, Fake Tensor GPU, 73, 2048, 16384, 61, 142.0'\n".write(to: tool, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.path)
        return bin
    }

    private func telemetry(_ run: URL) throws -> [TelemetryEvent] {
        try RunLogReader.read(run.appendingPathComponent("run.jsonl")).records.compactMap {
            if case .telemetry(let t) = $0.event { return t } else { return nil }
        }
    }

    func test_runLog_hasTheTrainersPidAndTheFakeNvidiaSMIsGPU() throws {
        if FileManager.default.fileExists(atPath: "/proc/driver/nvidia/version") {
            throw XCTSkip("an NVIDIA driver is present: NVML is read, not the fake nvidia-smi")
        }
        let dir = try scratchDirectory()
        let bin = try fakeNvidiaSMI(in: dir)
        let run = dir.appendingPathComponent("run")
        let (process, _, err) = try XRightProcess.start(["train", "--headless", "--max-steps", "6", "--run-dir", run.path]
                                                        + TinyRun.options, in: dir,
                                                        environment: ["PATH": bin.path + ":/usr/bin:/bin"])
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, (try? String(contentsOf: err, encoding: .utf8)) ?? "")
        let samples = try telemetry(run)
        XCTAssertGreaterThanOrEqual(samples.count, 1, "a sample at the start")
        for sample in samples {
            XCTAssertEqual(sample.process?.pid, Int(process.processIdentifier), "the trainer's pid, not the test's")
            XCTAssertGreaterThan(sample.process?.residentBytes ?? 0, 1 << 20)
            XCTAssertEqual(sample.gpus.map(\.name), ["Fake Tensor GPU"])
            XCTAssertEqual(sample.gpus.first?.utilization, 73)
            XCTAssertEqual(sample.gpus.first?.memoryUsedBytes, 2048 << 20)
        }
    }

    func test_noGPUFlag_andTelemetryOff() throws {
        let dir = try scratchDirectory()
        let withNote = dir.appendingPathComponent("no-gpu"), off = dir.appendingPathComponent("off")
        let a = try XRightProcess.run(["train", "--headless", "--max-steps", "4", "--no-gpu", "--run-dir", withNote.path]
                                      + TinyRun.options, in: dir)
        XCTAssertEqual(a.status, 0, a.transcript)
        let samples = try telemetry(withNote)
        XCTAssertGreaterThanOrEqual(samples.count, 1)
        XCTAssertEqual(samples.first?.gpus, [])
        XCTAssertEqual(samples.first?.note, "no GPU: GPU polling off (--no-gpu)")
        let b = try XRightProcess.run(["train", "--headless", "--max-steps", "4", "--telemetry-seconds", "0",
                                       "--run-dir", off.path] + TinyRun.options, in: dir)
        XCTAssertEqual(b.status, 0, b.transcript)
        XCTAssertEqual(try telemetry(off), [])
    }

    func test_telemetrySecondsBelowOne_isRefused() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--headless", "--telemetry-seconds", "0.2",
                                       "--run-dir", dir.appendingPathComponent("run").path] + TinyRun.options, in: dir)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--telemetry-seconds must be 0 (off) or at least 1; got 0.2"), r.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run").path))
    }
}
