import Foundation
import TestSupport
import Training
import XCTest

final class NonFiniteTests: XCTestCase {
    func test_threeNonFiniteUpdatesInARow_stopTheRun_keepingTheLastGoodCheckpoint() throws {
        let root = try TestPaths.temporaryDirectory("xright-nonfinite")
        defer { try? FileManager.default.removeItem(at: root) }
        let backend = QuadraticBackend()
        backend.nonFiniteGradientUpdates = Set(5...1000)
        let dir = RunDirectory(root)
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 50, checkpointEvery: 2),
                                 runDirectory: dir, backend: backend)
        let thetaAfterStep4 = Locked<[Double]>([])
        run.session.subscribe { [backend] record in
            if case .step(let s) = record.event, s.step == 4 { thetaAfterStep4.set(backend.theta) }
        }
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .nonFinite)
        XCTAssertEqual(finished.step, 7)
        XCTAssertTrue(finished.message.contains("3 non-finite updates in a row (steps 5–7)"), finished.message)
        XCTAssertEqual(run.warnings.map(\.step), [5, 6, 7])
        XCTAssertTrue(run.warnings.allSatisfy { $0.kind == .nonFiniteGradient && $0.message.contains("update skipped") })
        XCTAssertEqual(run.steps.map(\.updateApplied), [true, true, true, true, false, false, false])
        XCTAssertEqual(backend.updates, 4)
        XCTAssertEqual(backend.theta, thetaAfterStep4.value, "skipped updates leave the weights alone")
        XCTAssertEqual(try CheckpointStore(directory: dir.checkpoints).list().map(\.step), [2, 4],
                       "no checkpoint during the non-finite streak, none at the end")
        let log = try RunLogReader.read(dir.log)
        guard case .finished(let logged)? = log.records.last?.event else { return XCTFail("finished is logged last") }
        XCTAssertEqual(logged.reason, .nonFinite)
    }

    func test_aNonFiniteLoss_skipsTheUpdate_andDiscardsItsGradient() throws {
        let backend = QuadraticBackend()
        backend.nonFiniteLossCalls = [3]
        let run = try StandInRun(TrainingConfig(strategy: .sftOnly, lambda: lambda(0.5), maxSteps: 6), backend: backend)
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .maxSteps)
        XCTAssertEqual(run.steps.map(\.updateApplied), [true, true, false, true, true, true])
        XCTAssertTrue(run.steps[2].sft!.loss.isNaN)
        XCTAssertEqual(run.warnings.map(\.kind), [.nonFiniteLoss])
        XCTAssertTrue(run.warnings[0].message.contains("non-finite sft loss"), run.warnings[0].message)
        XCTAssertEqual(backend.updates, 5)
    }

    func test_aFiniteUpdate_resetsTheNonFiniteCount() throws {
        let backend = QuadraticBackend()
        backend.nonFiniteGradientUpdates = [2, 3, 5, 6, 8, 9]
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 10), backend: backend)
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .maxSteps, "never three in a row")
        XCTAssertEqual(run.warnings.count, 6)
    }

    func test_maxright_keepsItsStaleGap_whenTheSteppedLossIsNotFinite() throws {
        let backend = QuadraticBackend()
        backend.nonFiniteLossCalls = [2]
        let run = try StandInRun(TrainingConfig(strategy: .maxright, lambda: lambda(0.5), maxSteps: 3, maxEvalSteps: 100), backend: backend)
        try run.run()
        let (first, second, third) = (run.steps[0], run.steps[1], run.steps[2])
        XCTAssertTrue((second.sft?.loss ?? second.dpo!.loss).isNaN)
        XCTAssertTrue(third.gaps!.sft.isFinite && third.gaps!.dpo.isFinite)
        // The NaN step's objective kept the gap it had after step 1.
        let stepped = second.objectives[0]
        let expected = stepped == first.objectives[0]
            ? 0.5 * (stepped == .sft ? first.sft!.loss : first.dpo!.loss)
            : (stepped == .sft ? first.gaps!.sft : first.gaps!.dpo)
        XCTAssertEqual(stepped == .sft ? third.gaps!.sft : third.gaps!.dpo, expected)
    }
}
