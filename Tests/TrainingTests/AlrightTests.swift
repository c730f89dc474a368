import Foundation
import Training
import XCTest

final class AlrightTests: XCTestCase {
    func test_alright_shareOfDPOStepsMatchesLambdaWithinFourSigma() throws {
        for value in [0.1, 0.5, 0.75] {
            let n = 3000
            let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(value), seed: 7, maxSteps: n),
                                     sftBatches: n, dpoBatches: n)
            try run.run()
            let dpoSteps = run.steps.filter { $0.objectives == [.dpo] }.count
            XCTAssertEqual(run.steps.count, n)
            XCTAssertTrue(run.steps.allSatisfy { $0.objectives.count == 1 })
            let sigma = (Double(n) * value * (1 - value)).squareRoot()
            XCTAssertLessThanOrEqual(abs(Double(dpoSteps) - Double(n) * value), 4 * sigma,
                                     "λ = \(value): \(dpoSteps) DPO steps of \(n)")
        }
    }

    func test_alright_advancesOnlyTheDrawnLoader() throws {
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.4), maxSteps: 30))
        try run.run()
        let sftSteps = run.steps.filter { $0.objectives == [.sft] }.count
        let cursors = run.session.status.cursors
        XCTAssertEqual(cursors.sft.position.index, sftSteps)
        XCTAssertEqual(cursors.dpo.position.index, 30 - sftSteps)
        // Each loader read its batches in order, one per step it was drawn.
        XCTAssertEqual(run.sft.requested.map(\.index), Array(0..<sftSteps))
        XCTAssertEqual(run.dpo.requested.map(\.index), Array(0..<(30 - sftSteps)))
        XCTAssertEqual(run.backend.updates, 30)
        XCTAssertTrue(run.backend.calls.allSatisfy { $0.weight == 1 })
    }

    func test_alright_followsLambdaChangeFromNextStep() throws {
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.3), seed: 3, maxSteps: 400),
                                 sftBatches: 400, dpoBatches: 400)
        run.session.subscribe { [session = run.session] record in
            if case .step(let step) = record.event, step.step == 200 { session.send(.setLambda(lambda(1))) }
        }
        try run.run()
        let before = run.steps.prefix(200), after = run.steps.dropFirst(200)
        XCTAssertTrue(before.allSatisfy { $0.lambda == 0.3 })
        XCTAssertTrue(before.contains { $0.objectives == [.sft] })
        XCTAssertEqual(after.count, 200)
        XCTAssertTrue(after.allSatisfy { $0.lambda == 1 && $0.objectives == [.dpo] }, "λ = 1 draws DPO from step 201 on")

        // The change sits in the log between steps 200 and 201.
        let types = run.events.map(\.type)
        let index200 = run.events.firstIndex { if case .step(let s) = $0 { return s.step == 200 }; return false }!
        XCTAssertEqual(Array(types[(index200 + 1)...(index200 + 3)]), ["command-applied", "lambda-changed", "step"])
        XCTAssertEqual(run.events[index200 + 2], .lambdaChanged(LambdaChanged(step: 200, from: 0.3, to: 1)))
    }

    func test_alright_lambdaChangeSetsTheNewShareFromTheNextStep() throws {
        let n = 2000
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.9), seed: 5, maxSteps: 2 * n),
                                 sftBatches: 2 * n, dpoBatches: 2 * n)
        run.session.subscribe { [session = run.session] record in
            if case .step(let step) = record.event, step.step == n { session.send(.setLambda(lambda(0.2))) }
        }
        try run.run()
        let after = run.steps.dropFirst(n)
        let dpo = after.filter { $0.objectives == [.dpo] }.count
        XCTAssertLessThanOrEqual(abs(Double(dpo) - Double(n) * 0.2), 4 * (Double(n) * 0.2 * 0.8).squareRoot(), "\(dpo)")
    }

    func test_alright_sameSeedDrawsTheSameSequence() throws {
        func draws(_ seed: UInt64) throws -> [[Objective]] {
            let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), seed: seed, maxSteps: 40))
            try run.run()
            return run.steps.map(\.objectives)
        }
        XCTAssertEqual(try draws(9), try draws(9))
        XCTAssertNotEqual(try draws(9), try draws(10))
    }

    func test_alright_lambdaZeroAndOneUseOneObjective() throws {
        for (value, only) in [(0.0, Objective.sft), (1.0, .dpo)] {
            let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(value), maxSteps: 50))
            try run.run()
            XCTAssertTrue(run.steps.allSatisfy { $0.objectives == [only] }, "λ = \(value)")
        }
    }
}
