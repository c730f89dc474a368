import Engine
import Foundation
import TestSupport
import Training
import XCTest

final class ResumeTests: XCTestCase {
    /// Per-step values that must match bit for bit.
    private struct Fingerprint: Equatable {
        var step: Int, epoch: Int, objectives: [Objective]
        var sft: UInt64?, dpo: UInt64?, gapSFT: UInt64?, gapDPO: UInt64?, lambda: Lambda
        init(_ s: StepEvent) {
            step = s.step; epoch = s.epoch; objectives = s.objectives; lambda = s.lambda
            sft = s.sft?.loss.bitPattern; dpo = s.dpo?.loss.bitPattern
            gapSFT = s.gaps?.sft.bitPattern; gapDPO = s.gaps?.dpo.bitPattern
        }
    }

    private func assertResumeIsBitIdentical(_ strategy: StrategyName, file: StaticString = #filePath, line: UInt = #line) throws {
        let root = try TestPaths.temporaryDirectory("xright-resume-\(strategy)")
        defer { try? FileManager.default.removeItem(at: root) }
        // Epochs of 7 batches, so the resumed half crosses epoch boundaries (new shuffles, loader restarts).
        let config = TrainingConfig(strategy: strategy, lambda: lambda(0.4), seed: 99, maxEpochs: 10, maxSteps: 20,
                                    maxEvalSteps: 3, checkpointEvery: 10, optima: Optima(sft: 0.1, dpo: 0.05))
        let whole = try StandInRun(config, sftBatches: 7, dpoBatches: 5, runDirectory: RunDirectory(root.appendingPathComponent("whole")))
        try whole.run()
        XCTAssertEqual(whole.steps.count, 20, file: file, line: line)

        let checkpoint = root.appendingPathComponent("whole/checkpoints/step-000010")
        let resumed = try StandInRun(config, sftBatches: 7, dpoBatches: 5,
                                     runDirectory: RunDirectory(root.appendingPathComponent("resumed")), resumeFrom: checkpoint)
        try resumed.run()
        XCTAssertEqual(resumed.steps.map(\.step), Array(11...20), file: file, line: line)
        XCTAssertEqual(resumed.steps.map(Fingerprint.init), whole.steps.suffix(10).map(Fingerprint.init),
                       "\(strategy): steps 11–20 after resuming equal the uninterrupted run bit for bit", file: file, line: line)
        XCTAssertEqual(resumed.backend.theta.map(\.bitPattern), whole.backend.theta.map(\.bitPattern), file: file, line: line)
    }

    func test_resume_alright_isBitIdentical() throws { try assertResumeIsBitIdentical(.alright) }
    func test_resume_maxright_isBitIdentical() throws { try assertResumeIsBitIdentical(.maxright) }
    func test_resume_mix_isBitIdentical() throws { try assertResumeIsBitIdentical(.mix) }
    func test_resume_sequential_isBitIdentical() throws { try assertResumeIsBitIdentical(.sftThenDPO) }

    func test_resume_keepsLambdaAndStrategyChangedByCommands() throws {
        let root = try TestPaths.temporaryDirectory("xright-resume-commands")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = RunDirectory(root)
        let config = TrainingConfig(strategy: .alright, lambda: lambda(0.2), maxSteps: 8)
        let first = try StandInRun(config, runDirectory: dir)
        first.session.subscribe { [session = first.session] record in
            guard case .step(let step) = record.event, step.step == 2 else { return }
            session.send(.setLambda(lambda(0.9)))
            session.send(.switchStrategy(.maxright))
        }
        try first.run()

        // Resume into the same directory: the log continues after a `started` event naming the checkpoint.
        let more = TrainingConfig(strategy: .alright, lambda: lambda(0.2), maxSteps: 12)
        let latest = try XCTUnwrap(try CheckpointStore(directory: dir.checkpoints).latest())
        XCTAssertEqual(latest.step, 8)
        let second = try StandInRun(more, runDirectory: dir, resumeFrom: latest.directory)
        try second.run()
        XCTAssertEqual(second.steps.map(\.step), Array(9...12))
        XCTAssertTrue(second.steps.allSatisfy { $0.strategy == .maxright && $0.lambda == 0.9 })

        let log = try RunLogReader.read(dir.log)
        let started = log.records.compactMap { if case .started(let s) = $0.event { return s } else { return nil } }
        XCTAssertEqual(started.map(\.step), [0, 8])
        XCTAssertEqual(started.last?.resumedFrom, latest.directory.path)
        XCTAssertEqual(log.corruptLines, [])
        XCTAssertGreaterThanOrEqual(log.records.last!.time, log.records.first!.time, "time carries on across the resume")
    }

    func test_resume_rejectsDataWithAnotherShuffleSeed() throws {
        let root = try TestPaths.temporaryDirectory("xright-resume-seed")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 3)
        try StandInRun(config, runDirectory: RunDirectory(root)).run()
        let backend = QuadraticBackend()
        let other = QuadraticSource(center: backend.a, count: 50, seed: 12345)
        XCTAssertThrowsError(try TrainingSession(
            config: config, backend: backend, sources: ObjectiveSources(sft: other, dpo: QuadraticSource(center: backend.b, count: 50, seed: 22)),
            resumeFrom: root.appendingPathComponent("checkpoints/step-000003"))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("session.json") && text.contains("cursors.sft.shuffleSeed") && text.contains("12345"), text)
        }
    }

    func test_resume_fromAnIncompleteCheckpoint_isRejected() throws {
        let root = try TestPaths.temporaryDirectory("xright-resume-incomplete")
        defer { try? FileManager.default.removeItem(at: root) }
        let bogus = root.appendingPathComponent("step-000005")
        try FileManager.default.createDirectory(at: bogus.appendingPathComponent("backend"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5)), resumeFrom: bogus)) { error in
            XCTAssertTrue("\(error)".contains("session.json is missing"), "\(error)")
        }
        try Data("{\"format\": 1, \"step\": \"ten\"}".utf8).write(to: bogus.appendingPathComponent("session.json"))
        XCTAssertThrowsError(try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5)), resumeFrom: bogus)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("session.json") && text.contains("step"), text)
        }
    }

    func test_sessionState_roundTripsEveryDoubleExactly() throws {
        var rng = SeededRandom(seed: 1)
        for _ in 0..<2000 {
            let value = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF) * (rng.next() & 1 == 0 ? 1 : -1)
            let state = StrategyState(name: .maxright, staleExcess: LossExcess(sft: value, dpo: value / 3))
            let data = try RunLogCoding.makeEncoder().encode(state)
            let back = try RunLogCoding.makeDecoder().decode(StrategyState.self, from: data)
            XCTAssertEqual(back.staleExcess?.sft.bitPattern, value.bitPattern)
            XCTAssertEqual(back.staleExcess?.dpo.bitPattern, (value / 3).bitPattern)
        }
        var generator = SeededRandom(seed: 77)
        _ = generator.next()
        let data = try JSONEncoder().encode(generator)
        var back = try JSONDecoder().decode(SeededRandom.self, from: data)
        XCTAssertEqual(back.next(), generator.next())
    }
}
