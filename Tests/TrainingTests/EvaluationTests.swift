import Foundation
import Training
import XCTest

final class EvaluationTests: XCTestCase {
    func test_heldOutEvaluation_atStepOneAndEveryN_withTheIdealDistance() throws {
        let optima = Optima(sft: 0.5, dpo: 0.25)
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 12, evalEvery: 5, optima: optima))
        try run.run()
        XCTAssertEqual(run.evals.map(\.step), [1, 5, 10])
        for eval in run.evals {
            let sft = try XCTUnwrap(eval.sft?.loss), dpo = try XCTUnwrap(eval.dpo?.loss)
            XCTAssertEqual(eval.idealDistance, ((sft - 0.5) * (sft - 0.5) + (dpo - 0.25) * (dpo - 0.25)).squareRoot())
        }
    }

    func test_heldOutEvaluation_withoutOptima_hasNoIdealDistance() throws {
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 2, evalEvery: 1))
        try run.run()
        XCTAssertEqual(run.evals.count, 2)
        XCTAssertTrue(run.evals.allSatisfy { $0.idealDistance == nil })
    }

    func test_stopRule_endsTheRunAtTheFirstEvaluationWithinEpsilonOfAnOptimum() throws {
        let rule = OptimalityStopRule(epsilon: 1.0)
        let run = try StandInRun(TrainingConfig(strategy: .sftOnly, lambda: lambda(0), maxEpochs: 100, maxSteps: 5000,
                                                evalEvery: 10, optima: Optima(sft: 0, dpo: -100), stopRule: rule), sftBatches: 20)
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .optimumReached)
        let last = try XCTUnwrap(run.evals.last)
        XCTAssertEqual(finished.step, last.step)
        XCTAssertLessThanOrEqual(last.sft!.loss, 1.0)
        XCTAssertTrue(run.evals.dropLast().allSatisfy { $0.sft!.loss > 1.0 }, "no earlier evaluation qualified")
        XCTAssertGreaterThan(finished.step, 1)
    }

    func test_stopRule_referenceFrontNeedsBothLossesWithinEpsilon() {
        let rule = OptimalityStopRule(epsilon: 1e-4, referenceFront: [Optima(sft: 1.5889, dpo: 0.3331)])
        let optima = Optima(sft: 1.4980, dpo: 0.0647)
        XCTAssertTrue(rule.isSatisfied(sftLoss: 1.58895, dpoLoss: 0.3331, optima: optima))
        XCTAssertFalse(rule.isSatisfied(sftLoss: 1.58895, dpoLoss: 0.3340, optima: optima))
        XCTAssertTrue(rule.isSatisfied(sftLoss: 1.49805, dpoLoss: 0.9, optima: optima), "within ε of f_sft* alone")
        XCTAssertTrue(rule.isSatisfied(sftLoss: 2.0, dpoLoss: 0.0647, optima: optima), "within ε of f_dpo* alone")
        XCTAssertFalse(rule.isSatisfied(sftLoss: 1.6, dpoLoss: 0.2, optima: optima))
    }

    func test_evaluateNow_whilePaused_evaluatesWithoutStepping() throws {
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 3))
        run.session.send(.pause)
        run.session.send(.evaluateNow)
        run.session.send(.stop)
        try run.run()
        XCTAssertEqual(run.evals.map(\.step), [0])
        XCTAssertEqual(run.steps.count, 0)
    }
}

final class ProgressTests: XCTestCase {
    func test_progressLine_showsStepLossesLambdaThroughputAndETA() {
        let line = HeadlessProgress.format(step: 120, plannedSteps: 1000, objectives: [.dpo], sftLoss: 1.23456,
                                           dpoLoss: 0.693147, lambda: 0.5, tokensPerSecond: 1234.4, etaSeconds: 192)
        XCTAssertEqual(line, "step 120/1000 (12.0%)  dpo  f_sft 1.2346  f_dpo 0.6931  λ 0.50  1234 tok/s  ETA 3m12s")
        let early = HeadlessProgress.format(step: 1, plannedSteps: nil, objectives: [.sft, .dpo], sftLoss: nil,
                                            dpoLoss: nil, lambda: 0.25, tokensPerSecond: 0, etaSeconds: nil)
        XCTAssertEqual(early, "step 1  sft+dpo  f_sft -  f_dpo -  λ 0.25  0 tok/s  ETA -")
    }

    func test_duration_formats() {
        XCTAssertEqual(HeadlessProgress.duration(45), "45s")
        XCTAssertEqual(HeadlessProgress.duration(192), "3m12s")
        XCTAssertEqual(HeadlessProgress.duration(7500), "2h05m")
        XCTAssertEqual(HeadlessProgress.duration(.nan), "-")
    }

    func test_headlessProgress_printsAtMostOneLinePerSecond_andAFinalLine() throws {
        var lines: [String] = []
        let progress = HeadlessProgress { lines.append($0) }
        let header = RunHeader(programVersion: "t", createdAt: "", seed: 1,
                               config: TrainingConfig(strategy: .alright, lambda: lambda(0.5)), modelFingerprint: "",
                               dataFingerprints: [:], plannedSteps: 40)
        progress.observe(RunRecord(time: 0, event: .header(header)))
        progress.observe(RunRecord(time: 0, event: .started(SessionStarted(step: 0, strategy: .alright, lambda: 0.5, resumedFrom: nil))))
        for n in 1...31 {
            // One step every 0.1 s, 100 tokens each: 1000 tok/s.
            progress.observe(RunRecord(time: Double(n) / 10, event: .step(StepEvent(
                step: n, epoch: 0, strategy: .alright, objectives: [n % 2 == 0 ? .dpo : .sft],
                sft: n % 2 == 1 ? ObjectiveMetrics(loss: 2, tokens: 100) : nil,
                dpo: n % 2 == 0 ? ObjectiveMetrics(loss: 0.5, tokens: 100) : nil, lambda: 0.5, learningRate: 1e-3,
                tokens: 100, tokensPerSecond: 1000, stepSeconds: 0.1, elapsedSeconds: Double(n) / 10,
                updateApplied: true, gradientNorm: 1, gaps: nil, gapsEvaluated: nil))))
        }
        progress.observe(RunRecord(time: 3.1, event: .finished(RunFinished(step: 31, reason: .maxSteps, message: "done"))))
        XCTAssertEqual(lines.count, 5, lines.joined(separator: "\n"))
        XCTAssertEqual(lines[0], "step 10/40 (25.0%)  dpo  f_sft 2.0000  f_dpo 0.5000  λ 0.50  1000 tok/s  ETA 3s")
        XCTAssertTrue(lines[2].hasPrefix("step 30/40"), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("step 31/40"), lines[3])
        XCTAssertEqual(lines[4], "finished at step 31: max-steps — done")
    }
}
