import Foundation
import TestSupport
import Training
import XCTest

final class RunLogTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = try TestPaths.temporaryDirectory("xright-runlog")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func header() -> RunHeader {
        RunHeader(programVersion: "0.1.0", createdAt: "2025-01-01T00:00:00Z", seed: 42,
                  config: TrainingConfig(strategy: .maxright, lambda: lambda(0.5), optima: Optima(sft: 1.498, dpo: 0.0647)),
                  modelFingerprint: "pythia-70m", dataFingerprints: ["sft": "abc", "dpo": "def"])
    }

    private func stepRecord(_ n: Int) -> RunRecord {
        RunRecord(time: Double(n), event: .step(StepEvent(
            step: n, epoch: 0, strategy: .alright, objectives: [.sft], sft: ObjectiveMetrics(loss: 1.5, tokens: 10),
            dpo: nil, lambda: 0.5, learningRate: 5e-5, tokens: 10, tokensPerSecond: 100, stepSeconds: 0.1,
            elapsedSeconds: Double(n), updateApplied: true, gradientNorm: 0.5, gaps: nil, gapsEvaluated: nil)))
    }

    private func lines(_ records: [RunRecord]) throws -> String {
        let encoder = RunLogCoding.makeEncoder()
        return try ([RunRecord(time: 0, event: .header(header()))] + records)
            .map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
    }

    func test_sessionLog_startsWithTheHeader_thenOneEventPerLine() throws {
        let dir = RunDirectory(root)
        let config = TrainingConfig(strategy: .maxright, lambda: lambda(0.5), maxSteps: 12, evalEvery: 5, optima: Optima(sft: 0, dpo: 0))
        let backend = QuadraticBackend()
        let session = try TrainingSession(
            config: config, backend: backend,
            sources: ObjectiveSources(sft: QuadraticSource(center: backend.a, count: 20, seed: 1),
                                      dpo: QuadraticSource(center: backend.b, count: 20, seed: 2)),
            runDirectory: dir,
            identity: RunIdentity(programVersion: "9.9", modelFingerprint: "stand-in", dataFingerprints: ["sft": "s1"]))
        var seen: [RunRecord] = []
        session.subscribe { seen.append($0) }
        try session.run()

        let text = try String(contentsOf: dir.log, encoding: .utf8)
        XCTAssertTrue(text.hasSuffix("\n"))
        XCTAssertEqual(text.split(separator: "\n").count, seen.count, "one line per event, header included")
        XCTAssertTrue(text.hasPrefix("{") && text.split(separator: "\n")[0].contains("\"type\":\"header\""))
        let log = try RunLogReader.read(dir.log)
        XCTAssertEqual(log.header.config, config)
        XCTAssertEqual(log.header.schema, "1.3")
        XCTAssertEqual(log.header.seed, 42)
        XCTAssertEqual(log.header.programVersion, "9.9")
        XCTAssertEqual(log.header.modelFingerprint, "stand-in")
        XCTAssertEqual(log.header.dataFingerprints, ["sft": "s1"])
        XCTAssertEqual(log.header.plannedSteps, 12)
        XCTAssertEqual(log.records, Array(seen.dropFirst()))
        XCTAssertEqual(log.corruptLines, [])
        XCTAssertFalse(log.tornLastLine)
    }

    func test_reader_ignoresATornLastLine() throws {
        var text = try lines([stepRecord(1), stepRecord(2)])
        text += "{\"type\":\"step\",\"step\":3,\"sft\":{\"lo"
        try Data(text.utf8).write(to: root.appendingPathComponent("run.jsonl"))
        let log = try RunLogReader.read(root.appendingPathComponent("run.jsonl"))
        XCTAssertEqual(log.records.count, 2)
        XCTAssertTrue(log.tornLastLine)
        XCTAssertEqual(log.corruptLines, [])
    }

    func test_reader_countsCorruptMiddleLines_byLineNumber_andKeepsTheRest() throws {
        let good = try lines([stepRecord(1)]).split(separator: "\n").map(String.init)
        let encoder = RunLogCoding.makeEncoder()
        let step2 = String(decoding: try encoder.encode(stepRecord(2)), as: UTF8.self)
        let text = [good[0], good[1], "garbage {", "{\"type\":\"step\",\"step\":\"two\"}", "", step2].joined(separator: "\n") + "\n"
        let url = root.appendingPathComponent("run.jsonl")
        try Data(text.utf8).write(to: url)
        let log = try RunLogReader.read(url)
        XCTAssertEqual(log.corruptLines, [3, 4, 5])
        XCTAssertEqual(log.records, [stepRecord(1), stepRecord(2)])
        XCTAssertFalse(log.tornLastLine)
    }

    func test_reader_countsAStepWithNegativeNumbersAsCorrupt_ratherThanDrawingIt() throws {
        let good = try lines([stepRecord(1)]).split(separator: "\n").map(String.init)
        let encoder = RunLogCoding.makeEncoder()
        let step2 = String(decoding: try encoder.encode(stepRecord(2)), as: UTF8.self)
        let negativeStep = String(decoding: try encoder.encode(stepRecord(-5)), as: UTF8.self)
        let negativeTime = step2.replacingOccurrences(of: "\"elapsedSeconds\":2", with: "\"elapsedSeconds\":-1800")
        XCTAssertNotEqual(negativeTime, step2)
        let text = [good[0], good[1], negativeStep, negativeTime, step2].joined(separator: "\n") + "\n"
        let url = root.appendingPathComponent("run.jsonl")
        try Data(text.utf8).write(to: url)
        let log = try RunLogReader.read(url)
        XCTAssertEqual(log.corruptLines, [3, 4])
        XCTAssertEqual(log.records, [stepRecord(1), stepRecord(2)])
    }

    func test_reader_skipsUnknownEventTypes_fromNewerMinorVersions() throws {
        var text = try lines([stepRecord(1)])
        text += "{\"type\":\"gpu-sample\",\"time\":1.5,\"watts\":250}\n"
        text = text.replacingOccurrences(of: "\"schema\":\"\(RunLogSchema.current)\"", with: "\"schema\":\"1.7\"")
        let url = root.appendingPathComponent("run.jsonl")
        try Data(text.utf8).write(to: url)
        let log = try RunLogReader.read(url)
        XCTAssertEqual(log.header.schema, "1.7")
        XCTAssertEqual(log.skippedUnknown, 1)
        XCTAssertEqual(log.records, [stepRecord(1)])
        XCTAssertEqual(log.corruptLines, [])
    }

    func test_telemetry_decodesTheBridgesLine_withReadingsABoardDoesNotReportAsNil() throws {
        let line = #"{"gpus":[{"host":"gpu-box","index":0,"memoryTotalBytes":85899345920,"memoryUsedBytes":61234567168,"#
            + #""name":"NVIDIA A100-SXM4-80GB","powerWatts":312.5,"rank":0,"temperatureC":64.0,"utilization":97.0},"#
            + #"{"host":"gpu-box","index":1,"name":"NVIDIA A100-SXM4-80GB","rank":1,"utilization":12.0}],"#
            + #""step":120,"time":85.2,"type":"telemetry"}"#
        let record = try RunLogCoding.makeDecoder().decode(RunRecord.self, from: Data(line.utf8))
        XCTAssertEqual(record.time, 85.2)
        XCTAssertEqual(record.event, .telemetry(TelemetryEvent(step: 120, gpus: [
            TelemetryEvent.GPU(host: "gpu-box", rank: 0, index: 0, name: "NVIDIA A100-SXM4-80GB", utilization: 97,
                               memoryUsedBytes: 61_234_567_168, memoryTotalBytes: 85_899_345_920, temperatureC: 64, powerWatts: 312.5),
            TelemetryEvent.GPU(host: "gpu-box", rank: 1, index: 1, name: "NVIDIA A100-SXM4-80GB", utilization: 12),
        ])))
    }

    func test_telemetry_noGPUNoteIsRead_andADeviceWithoutItsRankIsACorruptLine() throws {
        var text = try lines([stepRecord(1)])
        text += #"{"gpus":[],"note":"no GPU telemetry: nvidia-ml-py (pynvml) is not installed","step":1,"time":1.1,"type":"telemetry"}"# + "\n"
        text += #"{"gpus":[{"host":"h","index":0}],"step":1,"time":1.2,"type":"telemetry"}"# + "\n"
        let url = root.appendingPathComponent("run.jsonl")
        try Data(text.utf8).write(to: url)
        let log = try RunLogReader.read(url)
        XCTAssertEqual(log.records.last?.event, .telemetry(TelemetryEvent(
            step: 1, gpus: [], note: "no GPU telemetry: nvidia-ml-py (pynvml) is not installed")))
        XCTAssertEqual(log.corruptLines, [4], "a device must say which rank it belongs to")
        XCTAssertEqual(log.skippedUnknown, 0)
    }

    func test_reader_rejectsAnUnknownMajorSchema() throws {
        let text = try lines([stepRecord(1)]).replacingOccurrences(of: "\"schema\":\"\(RunLogSchema.current)\"", with: "\"schema\":\"2.0\"")
        let url = root.appendingPathComponent("run.jsonl")
        try Data(text.utf8).write(to: url)
        XCTAssertThrowsError(try RunLogReader.read(url)) { error in
            XCTAssertEqual(error as? RunLogError, .unsupportedSchema(file: url.path, found: "2.0", supported: "1.x"))
            XCTAssertTrue("\(error)".contains("line 1") && "\(error)".contains("2.0"), "\(error)")
        }
    }

    func test_reader_rejectsAMissingHeader_andAnEmptyFile() throws {
        let url = root.appendingPathComponent("run.jsonl")
        try Data().write(to: url)
        XCTAssertThrowsError(try RunLogReader.read(url)) { XCTAssertEqual($0 as? RunLogError, .empty(file: url.path)) }
        let encoder = RunLogCoding.makeEncoder()
        try (String(decoding: try encoder.encode(stepRecord(1)), as: UTF8.self) + "\n").write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunLogReader.read(url)) { error in
            guard case .missingHeader(let file, let found)? = error as? RunLogError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, url.path)
            XCTAssertEqual(found, "a 'step' record")
        }
        XCTAssertThrowsError(try RunLogReader.read(root.appendingPathComponent("absent.jsonl"))) { error in
            guard case .unreadable? = error as? RunLogError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("absent.jsonl"))
        }
    }

    func test_writer_refusesToOverwriteAnExistingLog() throws {
        let url = root.appendingPathComponent("run.jsonl")
        try Data("x\n".utf8).write(to: url)
        XCTAssertThrowsError(try RunLogWriter(creating: url, header: header())) { error in
            XCTAssertTrue("\(error)".contains("run.jsonl") && "\(error)".contains("File exists"), "\(error)")
        }
    }

    func test_writer_flushesWithinASecond_withoutClosing() throws {
        let url = root.appendingPathComponent("run.jsonl")
        let writer = try RunLogWriter(creating: url, header: header())
        try writer.append(stepRecord(1))
        XCTAssertTrue(waitFor(timeout: 2.5) { (try? RunLogReader.read(url).records.count) == 1 }, "the timer flushes a quiet log")
        try writer.close()
        XCTAssertThrowsError(try writer.append(stepRecord(2)))
    }

    func test_follower_returnsOnlyCompleteNewLines() throws {
        let url = root.appendingPathComponent("run.jsonl")
        let follower = RunLogFollower(url: url)
        XCTAssertEqual(try follower.poll(), [], "no file yet")
        let full = try lines([stepRecord(1), stepRecord(2)])
        let cut = full.index(full.endIndex, offsetBy: -20)
        try Data(full[..<cut].utf8).write(to: url)
        XCTAssertEqual(try follower.poll(), [stepRecord(1)])
        XCTAssertNotNil(follower.header)
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(full[cut...].utf8) + Data("not json\n".utf8))
        try handle.close()
        XCTAssertEqual(try follower.poll(), [stepRecord(2)])
        XCTAssertEqual(follower.problems.corruptLines, [4])
        XCTAssertEqual(try follower.poll(), [])
    }

    func test_follower_withAByteLimit_catchesUpOverSeveralPolls_losingNothing() throws {
        let url = root.appendingPathComponent("run.jsonl")
        let records = (1...200).map(stepRecord)
        try Data(try lines(records).utf8).write(to: url)
        let follower = RunLogFollower(url: url)
        var read: [RunRecord] = []
        var polls = 0
        repeat {
            read += try follower.poll(maxBytes: 1000)
            polls += 1
        } while follower.isBehind
        XCTAssertGreaterThan(polls, 10, "1,000 bytes a poll takes many polls")
        XCTAssertEqual(read, records, "lines cut by the limit are completed by the next poll")
        XCTAssertEqual(follower.problems.corruptLines, [])
        XCTAssertEqual(try follower.poll(maxBytes: 1000), [])
        XCTAssertFalse(follower.isBehind)
    }

    func test_everyEventType_roundTripsThroughJSON_includingNonFiniteLosses() throws {
        let events: [RunEvent] = [
            .header(header()),
            .started(SessionStarted(step: 0, strategy: .maxright, lambda: 0.5, resumedFrom: nil)),
            .step(StepEvent(step: 3, epoch: 0, strategy: .maxright, objectives: [.dpo], sft: nil,
                            dpo: ObjectiveMetrics(loss: .nan, tokens: 64, preference: PreferenceMetrics(
                                chosenReward: 0.1, rejectedReward: -0.2, rewardAccuracy: 0.75, margin: 0.3)),
                            lambda: 0.5, learningRate: 5e-5, tokens: 192, tokensPerSecond: .infinity, stepSeconds: 0,
                            elapsedSeconds: 1, updateApplied: false, gradientNorm: nil,
                            gaps: WeightedGaps(sft: 0.2, dpo: -.infinity), gapsEvaluated: true)),
            .eval(EvalEvent(step: 100, sft: ObjectiveMetrics(loss: 1.6, tokens: 9), dpo: ObjectiveMetrics(loss: 0.2, tokens: 9),
                            idealDistance: 0.17, seconds: 2)),
            .commandApplied(CommandApplied(step: 4, command: .setLambda(lambda(0.75)))),
            .commandApplied(CommandApplied(step: 4, command: .switchStrategy(.sftThenDPO))),
            .commandRefused(CommandRefused(step: 4, command: .resume, reason: "not paused")),
            .lambdaChanged(LambdaChanged(step: 4, from: 0.5, to: 0.75)),
            .strategyChanged(StrategyChanged(step: 4, from: .alright, to: .mix)),
            .paused(PauseChange(step: 5)),
            .resumed(PauseChange(step: 5)),
            .checkpointSaved(CheckpointSaved(step: 10, path: "/runs/a/checkpoints/step-000010", seconds: 0.5)),
            .warning(RunWarning(step: 11, kind: .nonFiniteGradient, message: "skipped")),
            .telemetry(TelemetryEvent(step: 11, gpus: [
                TelemetryEvent.GPU(host: "gpu-box", rank: 0, index: 0, name: "A100", utilization: 97, memoryUsedBytes: 61_234_567_168,
                                   memoryTotalBytes: 85_899_345_920, temperatureC: 64, powerWatts: 312.5),
                TelemetryEvent.GPU(host: "gpu-box", rank: 1, index: 1)])),
            .telemetry(TelemetryEvent(step: 0, gpus: [], note: "no GPU: NVML reports 0 devices")),
            .finished(RunFinished(step: 12, reason: .nonFinite, message: "3 in a row")),
        ]
        let encoder = RunLogCoding.makeEncoder(), decoder = RunLogCoding.makeDecoder()
        for (i, event) in events.enumerated() {
            let record = RunRecord(time: Double(i) / 4, event: event)
            let data = try encoder.encode(record)
            XCTAssertFalse(data.contains(0x0A), "one line")
            let back = try decoder.decode(RunRecord.self, from: data)
            if case .step(let s) = event, case .step(let b) = back.event {
                XCTAssertTrue(b.dpo!.loss.isNaN)
                var (s2, b2) = (s, b)
                s2.dpo!.loss = 0
                b2.dpo!.loss = 0
                XCTAssertEqual(s2, b2)
            } else {
                XCTAssertEqual(back.event, event, event.type)
            }
            XCTAssertEqual(back.event.type, event.type)
        }
    }
}
