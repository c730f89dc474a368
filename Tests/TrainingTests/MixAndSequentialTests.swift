import Foundation
import Training
import XCTest

final class MixTests: XCTestCase {
    func test_mix_makesExactlyOneUpdateFromBothObjectivesPerStep() throws {
        let l = lambda(0.3)
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: l, maxSteps: 12))
        try run.run()
        XCTAssertEqual(run.backend.updates, 12)
        XCTAssertEqual(run.backend.calls.count, 24)
        for pair in stride(from: 0, to: 24, by: 2) {
            XCTAssertEqual(run.backend.calls[pair].objective, .sft)
            XCTAssertEqual(run.backend.calls[pair].weight, 0.7, "(1−λ)·∇f_sft")
            XCTAssertEqual(run.backend.calls[pair + 1].objective, .dpo)
            XCTAssertEqual(run.backend.calls[pair + 1].weight, 0.3, "λ·∇f_dpo")
        }
        XCTAssertTrue(run.steps.allSatisfy { $0.objectives == [.sft, .dpo] && $0.sft != nil && $0.dpo != nil })
        XCTAssertEqual(run.session.status.cursors.sft.position.index, 12)
        XCTAssertEqual(run.session.status.cursors.dpo.position.index, 12)
    }

    func test_mix_updateIsTheGradientOfTheWeightedSum() throws {
        // One mix step from θ = 0 with Adam equals one step on the λ-weighted target (the weighted sum of two
        // quadratics is a quadratic centred at the weighted mean of the targets).
        let l = lambda(0.25)
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: l, maxSteps: 1))
        try run.run()
        let sftTarget = try XCTUnwrap(try run.sft.batch(at: BatchPosition(epoch: 0, index: 0)) as? QuadraticBatch).target
        let dpoTarget = try XCTUnwrap(try run.dpo.batch(at: BatchPosition(epoch: 0, index: 0)) as? QuadraticBatch).target
        // Adam's first step moves each coordinate by lr·sign(g) (up to ε): check the direction of every coordinate.
        for i in run.backend.theta.indices {
            let g = 0.75 * 2 * (0 - sftTarget[i]) + 0.25 * 2 * (0 - dpoTarget[i])
            XCTAssertEqual(run.backend.theta[i], -0.05 * (g > 0 ? 1 : -1), accuracy: 1e-6)
        }
    }
}

final class SequentialTests: XCTestCase {
    func test_sequentialSchedule_splitsTheEpochBudgetByLambda() {
        let s = SequentialSchedule(first: .sft, lambda: lambda(0.25), epochBudget: 4)
        XCTAssertEqual([s.sftEpochs, s.dpoEpochs], [3, 1])
        XCTAssertEqual((0..<4).map(s.objective(forEpoch:)), [.sft, .sft, .sft, .dpo])
        let d = SequentialSchedule(first: .dpo, lambda: lambda(0.25), epochBudget: 4)
        XCTAssertEqual((0..<4).map(d.objective(forEpoch:)), [.dpo, .sft, .sft, .sft])
        XCTAssertEqual(SequentialSchedule(first: .sft, lambda: lambda(0.5), epochBudget: 6).dpoEpochs, 3)
        XCTAssertEqual(SequentialSchedule(first: .sft, lambda: lambda(0), epochBudget: 3).dpoEpochs, 0)
    }

    func test_emptyPhaseNote_saysWhenASmallBudgetLeavesAPhaseWithoutEpochs() {
        let note = SequentialSchedule.emptyPhaseNote(strategy: .sftThenDPO, lambda: lambda(0.5), epochBudget: 1)
        XCTAssertEqual(note, "sft-then-dpo at λ 0.5 with an epoch budget of 1: the split gives 0 SFT and 1 DPO epoch(s), "
                       + "so this run trains DPO only; use --epochs 2 or more for a sequential baseline")
        XCTAssertTrue(SequentialSchedule.emptyPhaseNote(strategy: .dpoThenSFT, lambda: lambda(0.25), epochBudget: 1)?
            .contains("trains SFT only; use --epochs 4") ?? false)
        XCTAssertNil(SequentialSchedule.emptyPhaseNote(strategy: .sftThenDPO, lambda: lambda(0.5), epochBudget: 2))
        XCTAssertNil(SequentialSchedule.emptyPhaseNote(strategy: .sftThenDPO, lambda: lambda(1), epochBudget: 1),
                     "λ = 1 asks for DPO only")
        XCTAssertNil(SequentialSchedule.emptyPhaseNote(strategy: .alright, lambda: lambda(0.5), epochBudget: 1),
                     "joint strategies have no phases")
    }

    func test_sftThenDPO_switchesToDPOAfterItsSFTEpochs() throws {
        // T = 4, λ = 0.25: 3 SFT epochs of 5 batches, then 1 DPO epoch of 3.
        let run = try StandInRun(TrainingConfig(strategy: .sftThenDPO, lambda: lambda(0.25), maxEpochs: 4),
                                 sftBatches: 5, dpoBatches: 3)
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .epochBudget)
        XCTAssertEqual(run.steps.map { $0.objectives[0] }, Array(repeating: .sft, count: 15) + Array(repeating: .dpo, count: 3))
        XCTAssertEqual(run.steps.map(\.epoch), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3])
        XCTAssertEqual(run.session.header.plannedSteps, 18)
        // Each SFT epoch is a fresh shuffle.
        XCTAssertEqual(Set(run.sft.requested.map(\.epoch)), [0, 1, 2])
        XCTAssertEqual(run.dpo.requested.map(\.epoch), [0, 0, 0])
    }

    func test_dpoThenSFT_switchesToSFTAfterItsDPOEpochs() throws {
        let run = try StandInRun(TrainingConfig(strategy: .dpoThenSFT, lambda: lambda(0.25), maxEpochs: 4),
                                 sftBatches: 5, dpoBatches: 3)
        try run.run()
        XCTAssertEqual(run.steps.map { $0.objectives[0] }, Array(repeating: .dpo, count: 3) + Array(repeating: .sft, count: 15))
    }

    func test_singleObjectiveStrategies_trainOneObjectiveEveryEpoch() throws {
        let sft = try StandInRun(TrainingConfig(strategy: .sftOnly, lambda: lambda(0.9), maxEpochs: 2), sftBatches: 4, withDPO: false)
        try sft.run()
        XCTAssertEqual(sft.steps.map { $0.objectives }, Array(repeating: [.sft], count: 8))
        let dpo = try StandInRun(TrainingConfig(strategy: .dpoOnly, lambda: lambda(0.1), maxEpochs: 2), dpoBatches: 3, withSFT: false)
        try dpo.run()
        XCTAssertEqual(dpo.steps.map { $0.objectives }, Array(repeating: [.dpo], count: 6))
    }

    func test_jointEpochs_lastAsLongAsTheSFTData_andRestartBothLoaders() throws {
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxEpochs: 2), sftBatches: 6, dpoBatches: 4)
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .epochBudget)
        XCTAssertEqual(run.steps.count, 12)
        // The shorter DPO data cycles through its epoch order, and each epoch starts a new shuffle.
        XCTAssertEqual(run.dpo.requested.map(\.index), [0, 1, 2, 3, 0, 1, 0, 1, 2, 3, 0, 1])
        XCTAssertEqual(run.dpo.requested.map(\.epoch), Array(repeating: 0, count: 6) + Array(repeating: 1, count: 6))
    }

    func test_maxSteps_endsTheRunBeforeTheEpochBudget() throws {
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxEpochs: 3, maxSteps: 7), sftBatches: 5)
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .maxSteps)
        XCTAssertEqual(finished.step, 7)
        XCTAssertEqual(run.session.header.plannedSteps, 7)
    }
}
