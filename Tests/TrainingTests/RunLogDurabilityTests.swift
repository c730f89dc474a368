import Foundation
import TestSupport
import Training
import XCTest

/// The run log and the checkpoints agree after a crash: a checkpoint exists only once the log holds every step up
/// to it (on disk, not in a buffer), and a resumed writer cuts a torn last line before appending.
final class RunLogDurabilityTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws { root = try TestPaths.temporaryDirectory("xright-runlog-durability") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    private func header() -> RunHeader {
        RunHeader(programVersion: "0.1.0", createdAt: "2025-01-01T00:00:00Z", seed: 42,
                  config: TrainingConfig(strategy: .alright, lambda: lambda(0.5)), modelFingerprint: "stand-in",
                  dataFingerprints: [:])
    }

    private func stepRecord(_ n: Int) -> RunRecord {
        RunRecord(time: Double(n), event: .step(StepEvent(
            step: n, epoch: 0, strategy: .alright, objectives: [.sft], sft: ObjectiveMetrics(loss: 1.5, tokens: 10),
            dpo: nil, lambda: 0.5, learningRate: 5e-5, tokens: 10, tokensPerSecond: 100, stepSeconds: 0.1,
            elapsedSeconds: Double(n), updateApplied: true, gradientNorm: 0.5, gaps: nil, gapsEvaluated: nil)))
    }

    func test_everyCheckpoint_findsItsStepAlreadyInTheLogFile() throws {
        let dir = RunDirectory(root)
        let backend = QuadraticBackend()
        let session = try TrainingSession(
            config: TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxEpochs: 100, maxSteps: 30, checkpointEvery: 5),
            backend: backend,
            sources: ObjectiveSources(sft: QuadraticSource(center: backend.a, count: 20, seed: 1),
                                      dpo: QuadraticSource(center: backend.b, count: 20, seed: 2)),
            runDirectory: dir)
        var checked: [Int] = []
        var missing: [Int] = []
        session.subscribe { record in
            // Observers run on the training thread right after the checkpoint is in place; what the file holds
            // now is what a kill -9 at this moment would leave.
            guard case .checkpointSaved(let saved) = record.event else { return }
            checked.append(saved.step)
            let text = (try? String(contentsOf: dir.log, encoding: .utf8)) ?? ""
            let steps = Set(text.split(separator: "\n").filter { $0.contains("\"type\":\"step\"") }
                .compactMap { line -> Int? in
                    guard let range = line.range(of: #""step":[0-9]+"#, options: .regularExpression) else { return nil }
                    return Int(line[range].dropFirst(7))
                })
            missing += (1...saved.step).filter { !steps.contains($0) }
        }
        try session.run()
        XCTAssertEqual(checked, [5, 10, 15, 20, 25, 30])
        XCTAssertEqual(missing, [], "steps a checkpoint covers but the log file did not hold yet")
    }

    func test_appendingToALogWithATornLastLine_cutsItFirst() throws {
        let url = root.appendingPathComponent("run.jsonl")
        let writer = try RunLogWriter(creating: url, header: header())
        try writer.append(stepRecord(1))
        try writer.close()
        let handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
        handle.write(Data(#"{"event":{"step":2,"type":"st"#.utf8))
        try handle.close()

        let resumed = try RunLogWriter(appendingTo: url)
        try resumed.append(stepRecord(2))
        try resumed.close()
        let log = try RunLogReader.read(url)
        XCTAssertEqual(log.corruptLines, [], "the next record starts on a line of its own")
        XCTAssertFalse(log.tornLastLine)
        XCTAssertEqual(log.records, [stepRecord(1), stepRecord(2)])
    }

    func test_appendingToALogThatEndsCleanly_keepsEveryByte() throws {
        let url = root.appendingPathComponent("run.jsonl")
        let writer = try RunLogWriter(creating: url, header: header())
        try writer.append(stepRecord(1))
        try writer.close()
        let before = try Data(contentsOf: url)
        try RunLogWriter(appendingTo: url).close()
        XCTAssertEqual(try Data(contentsOf: url), before)
    }
}
