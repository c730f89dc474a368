import Foundation
import Telemetry
import TestSupport
import Training
import XCTest

/// The trainer samples its own machine and emits `telemetry` events through the session like any other event: in
/// run.jsonl between `started` and `finished`, with this process's pid and memory, the GPUs NVML or nvidia-smi
/// report (or why there are none), and never more than one a second.
final class RunTelemetryTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = try TestPaths.temporaryDirectory("xright-telemetry")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    /// A run held paused for `seconds` (the stand-in steps in microseconds: paused, the log stays small), then
    /// stopped; its log's records and how long it ran.
    private func pausedRun(_ options: TelemetryOptions, seconds: Double) throws -> (records: [RunRecord], telemetry: [TelemetryEvent]) {
        let dir = RunDirectory(root.appendingPathComponent("run-\(UUID().uuidString)"))
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 1_000_000), runDirectory: dir)
        let telemetry = RunTelemetry(session: run.session, options: options)
        defer { telemetry.stop() }
        run.session.send(.pause)
        try run.session.start()
        Thread.sleep(forTimeInterval: seconds)
        run.session.send(.stop)
        XCTAssertNotNil(run.session.waitUntilFinished(timeout: 30), "the run did not stop")
        let records = try RunLogReader.read(dir.log).records
        let samples = records.compactMap { record -> TelemetryEvent? in
            if case .telemetry(let t) = record.event { return t } else { return nil }
        }
        return (records, samples)
    }

    private func fakeNvidiaSMI(_ body: String) throws -> URL {
        let bin = root.appendingPathComponent("bin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let tool = bin.appendingPathComponent("nvidia-smi")
        try "#!/bin/sh\n\(body)\n".write(to: tool, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.path)
        return bin
    }

    private func skipIfNVML() throws {
        if NVMLReader() != nil { throw XCTSkip("this machine has NVML; nvidia-smi is not consulted") }
    }

    func test_runLog_hasTelemetryOfTheTrainersOwnProcess_betweenStartedAndFinished() throws {
        let (records, samples) = try pausedRun(TelemetryOptions(pollGPU: false, interval: 1), seconds: 2.5)
        XCTAssertGreaterThanOrEqual(samples.count, 2, "one at the start, one a second after")
        for sample in samples {
            let process = try XCTUnwrap(sample.process)
            XCTAssertEqual(process.pid, Int(getpid()), "the trainer's own pid")
            XCTAssertGreaterThan(process.residentBytes ?? 0, 1 << 20, "a resident set of at least a MiB")
            XCTAssertEqual(sample.gpus, [])
            XCTAssertEqual(sample.note, "no GPU: GPU polling off (--no-gpu)")
        }
        XCTAssertNil(samples[0].process?.cpuPercent, "the first sample has no period to measure CPU over")
        XCTAssertNotNil(samples[1].process?.cpuPercent)
        let types = records.map(\.event.type)
        let started = try XCTUnwrap(types.firstIndex(of: "started")), finished = try XCTUnwrap(types.firstIndex(of: "finished"))
        let indices = types.indices.filter { types[$0] == "telemetry" }
        XCTAssertTrue(indices.allSatisfy { $0 > started && $0 < finished }, "\(types)")
        let times = records.map(\.time)
        XCTAssertEqual(times, times.sorted(), "records from two threads are still stamped in log order")
    }

    func test_rateIsBounded_whateverIntervalIsAskedFor() throws {
        let (records, samples) = try pausedRun(TelemetryOptions(pollGPU: false, interval: 0.01), seconds: 2.5)
        let seconds = try XCTUnwrap(records.last?.time)
        XCTAssertGreaterThan(samples.count, 0)
        XCTAssertLessThanOrEqual(samples.count, Int(seconds / RunTelemetry.minimumInterval) + 1,
                                 "\(samples.count) samples in \(seconds) s: more than one a second")
    }

    func test_fakeNvidiaSMIOnPath_itsFiguresReachTheLog() throws {
        try skipIfNVML()
        let bin = try fakeNvidiaSMI("echo '0, Fake Tensor GPU, 73, 2048, 16384, 61, 142.0'")
        let (_, samples) = try pausedRun(TelemetryOptions(interval: 1, searchPath: bin.path), seconds: 0.5)
        let gpu = try XCTUnwrap(samples.first?.gpus.first)
        XCTAssertEqual(gpu.name, "Fake Tensor GPU")
        XCTAssertEqual(gpu.rank, 0)
        XCTAssertEqual(gpu.index, 0)
        XCTAssertEqual(gpu.utilization, 73)
        XCTAssertEqual(gpu.memoryUsedBytes, 2048 << 20)
        XCTAssertEqual(gpu.memoryTotalBytes, 16384 << 20)
        XCTAssertEqual(gpu.temperatureC, 61)
        XCTAssertEqual(gpu.powerWatts, 142)
        XCTAssertNil(samples.first?.note)
        XCTAssertEqual(samples.first?.process?.pid, Int(getpid()))
    }

    func test_withoutNVMLOrNvidiaSMI_everySampleSaysThereIsNoGPUAndWhy() throws {
        try skipIfNVML()
        let empty = root.appendingPathComponent("empty-bin")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let (_, samples) = try pausedRun(TelemetryOptions(interval: 1, searchPath: empty.path), seconds: 1.5)
        XCTAssertGreaterThanOrEqual(samples.count, 1)
        for sample in samples {
            XCTAssertEqual(sample.gpus, [])
            XCTAssertEqual(sample.note, "no GPU: no NVIDIA driver (libnvidia-ml.so.1) and no nvidia-smi on PATH")
        }
    }

    func test_brokenNvidiaSMI_itsErrorStaysInTheNoteOfLaterSamples() throws {
        try skipIfNVML()
        let bin = try fakeNvidiaSMI("echo 'Failed to initialize NVML: Driver/library version mismatch' >&2; exit 18")
        let (_, samples) = try pausedRun(TelemetryOptions(interval: 1, searchPath: bin.path), seconds: 1.5)
        XCTAssertGreaterThanOrEqual(samples.count, 2)
        for sample in samples {
            XCTAssertEqual(sample.gpus, [])
            let note = try XCTUnwrap(sample.note)
            XCTAssertTrue(note.hasPrefix("GPU readings off: ") && note.contains("exit status 18")
                          && note.contains("Driver/library version mismatch"), note)
        }
    }

    func test_event_convertsReadingsToTheLogsUnits() {
        let sample = SystemSample(gpus: [GPUReading(index: 1, name: "T4", utilizationPercent: 12.5, memoryUsedMiB: 1.5,
                                                    memoryTotalMiB: 15360)],
                                  gpuSource: .nvml, processCPUPercent: 187.5, residentBytes: 3 << 30)
        let event = RunTelemetry.event(from: sample, host: "box", pid: 77)
        XCTAssertEqual(event.gpus, [TelemetryEvent.GPU(host: "box", rank: 0, index: 1, name: "T4", utilization: 12.5,
                                                        memoryUsedBytes: 1_572_864, memoryTotalBytes: 15360 << 20)])
        XCTAssertNil(event.note)
        XCTAssertEqual(event.process, TelemetryEvent.ProcessReading(host: "box", pid: 77, cpuPercent: 187.5, residentBytes: 3 << 30))
    }

    /// The bytes a reader sees: sorted keys, `process` nested, absent readings left out.
    func test_encodedLine_isTheDocumentedShape() throws {
        let record = RunRecord(time: 4, event: .telemetry(TelemetryEvent(
            step: 12, gpus: [], note: "no GPU: GPU polling off (--no-gpu)",
            process: TelemetryEvent.ProcessReading(host: "laptop", pid: 4242, residentBytes: 301_989_888))))
        let line = String(decoding: try RunLogCoding.makeEncoder().encode(record), as: UTF8.self)
        XCTAssertEqual(line, #"{"gpus":[],"note":"no GPU: GPU polling off (--no-gpu)","process":{"host":"laptop","pid":4242,"#
                       + #""residentBytes":301989888},"step":12,"time":4,"type":"telemetry"}"#)
        let back = try RunLogCoding.makeDecoder().decode(RunRecord.self, from: Data(line.utf8))
        XCTAssertEqual(back, record)
    }
}
