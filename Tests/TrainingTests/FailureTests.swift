import Foundation
import TestSupport
import Training
import XCTest

/// Errors from the data, the engine or the disk end or mark the run with a clear message; never a crash.
final class FailureTests: XCTestCase {
    func test_aDataError_endsTheRunAsFailed_namingTheStepAndTheCause_keepingCheckpoints() throws {
        let root = try TestPaths.temporaryDirectory("xright-fail-data")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = RunDirectory(root)
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 20, checkpointEvery: 4), runDirectory: dir)
        run.dpo.failAt = BatchPosition(epoch: 0, index: 6)
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .failed)
        XCTAssertEqual(finished.step, 6)
        XCTAssertTrue(finished.message.contains("step 7") && finished.message.contains("record 17"), finished.message)
        XCTAssertEqual(try CheckpointStore(directory: dir.checkpoints).list().map(\.step), [4], "no checkpoint of a failed run")
        let log = try RunLogReader.read(dir.log)
        XCTAssertEqual(log.records.last?.event, .finished(finished))
    }

    func test_aHeldOutEvaluationError_isAWarning_andTheRunGoesOn() throws {
        let backend = QuadraticBackend()
        backend.failHeldOut = true
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 4, evalEvery: 2), backend: backend)
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .maxSteps)
        XCTAssertEqual(run.evals.count, 0)
        XCTAssertEqual(run.warnings.map(\.kind), [.evaluationFailed, .evaluationFailed, .evaluationFailed])
        XCTAssertEqual(run.warnings.map(\.step), [1, 2, 4], "evaluations at step 1 and every 2 steps")
        XCTAssertTrue(run.warnings[0].message.contains("held-out set unreadable"))
    }

    func test_runLogWriter_reportsAFullDisk() throws {
        let full = URL(fileURLWithPath: "/dev/full")
        guard FileManager.default.fileExists(atPath: full.path) else { throw XCTSkip("/dev/full is absent") }
        let writer = try RunLogWriter(appendingTo: full)
        try writer.append(RunRecord(time: 0, event: .paused(PauseChange(step: 1))))
        XCTAssertThrowsError(try writer.close()) { error in
            XCTAssertTrue("\(error)".contains("/dev/full") && "\(error)".contains("No space left on device"), "\(error)")
        }
    }

    func test_aRunLogThatCannotBeWritten_isReportedToObservers_andTrainingGoesOn() throws {
        let full = URL(fileURLWithPath: "/dev/full")
        guard FileManager.default.fileExists(atPath: full.path) else { throw XCTSkip("/dev/full is absent") }
        let root = try TestPaths.temporaryDirectory("xright-fail-log")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 3)
        try StandInRun(config, runDirectory: RunDirectory(root.appendingPathComponent("first"))).run()
        let second = RunDirectory(root.appendingPathComponent("second"))
        try second.create()
        try FileManager.default.createSymbolicLink(at: second.log, withDestinationURL: full)
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 6), runDirectory: second,
                                 resumeFrom: root.appendingPathComponent("first/checkpoints/step-000003"))
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .maxSteps)
        XCTAssertEqual(run.steps.map(\.step), [4, 5, 6])
        let logWarnings = run.warnings.filter { $0.kind == .logWriteFailed }
        XCTAssertEqual(logWarnings.count, 1)
        XCTAssertTrue(logWarnings[0].message.contains("No space left on device"), logWarnings[0].message)
    }
}
