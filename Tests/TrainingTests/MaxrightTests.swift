import Foundation
import Training
import XCTest

final class MaxrightTests: XCTestCase {
    let optima = Optima(sft: 0.05, dpo: 0.02)

    private func maxright(_ value: Double, k: Int?, steps: Int, epochs: Int = 1, batches: Int = 100) throws -> StandInRun {
        let config = TrainingConfig(strategy: .maxright, lambda: lambda(value), maxEpochs: epochs, maxSteps: steps,
                                    maxEvalSteps: k, optima: optima)
        let run = try StandInRun(config, sftBatches: batches, dpoBatches: batches)
        try run.run()
        return run
    }

    func test_maxright_stepsOnTheLargerWeightedGap_SFTOnATie() throws {
        let run = try maxright(0.35, k: 4, steps: 60)
        XCTAssertEqual(run.steps.count, 60)
        for step in run.steps {
            let gaps = try XCTUnwrap(step.gaps)
            XCTAssertEqual(step.objectives, [gaps.dpo > gaps.sft ? .dpo : .sft], "step \(step.step)")
        }
        XCTAssertTrue(run.steps.contains { $0.objectives == [.sft] } && run.steps.contains { $0.objectives == [.dpo] },
                      "both objectives get steps as their gaps shrink in turn")
    }

    func test_maxright_refreshesOnlyTheSteppedGap_withThatStepsPreUpdateLoss() throws {
        let l = lambda(0.35)
        let run = try maxright(l.value, k: 5, steps: 40)
        let steps = run.steps
        for (previous, current) in zip(steps, steps.dropFirst()) where current.gapsEvaluated == false {
            let stepped = previous.objectives[0]
            let loss = try XCTUnwrap(stepped == .sft ? previous.sft?.loss : previous.dpo?.loss)
            let before = try XCTUnwrap(previous.gaps), now = try XCTUnwrap(current.gaps)
            if stepped == .sft {
                XCTAssertEqual(now.sft, l.sftWeight * (loss - optima.sft), "step \(current.step): g_sft = (1−λ)(f_sft − f_sft*)")
                XCTAssertEqual(now.dpo, before.dpo, "step \(current.step): the DPO gap stays stale")
            } else {
                XCTAssertEqual(now.dpo, l.dpoWeight * (loss - optima.dpo), "step \(current.step): g_dpo = λ(f_dpo − f_dpo*)")
                XCTAssertEqual(now.sft, before.sft, "step \(current.step): the SFT gap stays stale")
            }
        }
        // After the last step the state holds the refreshed gap of the last stepped objective.
        let last = try XCTUnwrap(steps.last)
        let gaps = try XCTUnwrap(run.session.status.strategy.weightedGaps(lambda: l))
        if last.objectives == [.sft] {
            XCTAssertEqual(gaps.sft, l.sftWeight * (last.sft!.loss - optima.sft))
            XCTAssertEqual(gaps.dpo, last.gaps!.dpo)
        } else {
            XCTAssertEqual(gaps.dpo, l.dpoWeight * (last.dpo!.loss - optima.dpo))
            XCTAssertEqual(gaps.sft, last.gaps!.sft)
        }
    }

    func test_maxright_evaluatedGapsAreTheCurrentBatchesLosses() throws {
        let l = lambda(0.6)
        let run = try maxright(l.value, k: 3, steps: 30)
        // On an evaluation step the trained batch is the measured one under the same weights, so its pre-update
        // loss reproduces the measured gap exactly.
        for step in run.steps where step.gapsEvaluated == true {
            let gaps = try XCTUnwrap(step.gaps)
            if step.objectives == [.sft] {
                XCTAssertEqual(gaps.sft, l.sftWeight * (step.sft!.loss - optima.sft), "step \(step.step)")
            } else {
                XCTAssertEqual(gaps.dpo, l.dpoWeight * (step.dpo!.loss - optima.dpo), "step \(step.step)")
            }
        }
    }

    func test_maxright_reevaluatesBothGapsEveryKStepsOfAnEpoch() throws {
        // Epochs of 10 steps, k = 4: evaluations at steps 0, 4, 8 of each epoch → global steps 1, 5, 9, 11, 15, 19.
        let run = try maxright(0.5, k: 4, steps: 20, epochs: 2, batches: 10)
        XCTAssertEqual(run.steps.filter { $0.gapsEvaluated == true }.map(\.step), [1, 5, 9, 11, 15, 19])
        let measured = run.backend.calls.filter { $0.weight == nil }
        XCTAssertEqual(measured.count, 12, "both objectives measured at each of the 6 evaluations")
        XCTAssertEqual(measured.filter { $0.objective == .sft }.count, 6)
        XCTAssertEqual(run.backend.updates, 20)
        XCTAssertEqual(run.backend.calls.filter { $0.weight != nil }.count, 20, "one trained objective per step")
    }

    func test_maxright_withoutK_measuresOnlyTheFirstBatch() throws {
        let run = try maxright(0.5, k: nil, steps: 25, epochs: 2, batches: 10)
        XCTAssertEqual(run.steps.filter { $0.gapsEvaluated == true }.map(\.step), [1])
        XCTAssertEqual(run.backend.calls.filter { $0.weight == nil }.count, 2)
    }

    func test_maxright_advancesBothLoadersEveryStep() throws {
        let run = try maxright(0.5, k: 10, steps: 17)
        let cursors = run.session.status.cursors
        XCTAssertEqual(cursors.sft.position.index, 17)
        XCTAssertEqual(cursors.dpo.position.index, 17)
    }

    func test_maxright_unknownOptimaCountAsZero() throws {
        let l = lambda(0.5)
        let run = try StandInRun(TrainingConfig(strategy: .maxright, lambda: l, maxSteps: 1, maxEvalSteps: 10))
        try run.run()
        let step = try XCTUnwrap(run.steps.first)
        let loss = step.objectives == [.sft] ? step.sft!.loss : step.dpo!.loss
        let gap = step.objectives == [.sft] ? step.gaps!.sft : step.gaps!.dpo
        XCTAssertEqual(gap, 0.5 * loss)
    }
}
