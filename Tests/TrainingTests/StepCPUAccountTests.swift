import Training
import XCTest

/// The sweep's CPU column: a step is charged all the CPU time since the previous work-closing event, however many
/// `progress` or `telemetry` events arrive while it runs.
final class StepCPUAccountTests: XCTestCase {
    private func step(_ n: Int, seconds: Double) -> RunEvent {
        .step(StepEvent(step: n, epoch: 0, strategy: .alright, objectives: [.sft], sft: ObjectiveMetrics(loss: 1, tokens: 8),
                        dpo: nil, lambda: 0.5, learningRate: 1e-3, tokens: 8, tokensPerSecond: 8, stepSeconds: seconds,
                        elapsedSeconds: 1, updateApplied: true, gradientNorm: nil, gaps: nil, gapsEvaluated: false))
    }

    private func progress(_ n: Int) -> RunEvent {
        .progress(StepProgress(step: n, activity: .training, phase: .backward, objective: .sft, seconds: 1))
    }

    func test_progressDuringAStep_doesNotCutTheStepsCPUTime() {
        var account = StepCPUAccount(cpuSeconds: 10)
        account.observe(progress(1), cpuSeconds: 12)
        account.observe(progress(1), cpuSeconds: 15)
        account.observe(step(1, seconds: 3), cpuSeconds: 16)
        XCTAssertEqual(account.stepCPUSeconds, 6, accuracy: 1e-12, "10 → 16: the whole step, not 15 → 16")
        XCTAssertEqual(account.stepWallSeconds, 3, accuracy: 1e-12)
    }

    func test_workThatEndsWithItsOwnEvent_isNotChargedToTheNextStep() {
        var account = StepCPUAccount(cpuSeconds: 0)
        account.observe(step(1, seconds: 1), cpuSeconds: 2)
        account.observe(.eval(EvalEvent(step: 1, sft: ObjectiveMetrics(loss: 1, tokens: 4), dpo: nil,
                                         idealDistance: nil, seconds: 5)), cpuSeconds: 7)
        account.observe(progress(2), cpuSeconds: 8)
        account.observe(step(2, seconds: 1), cpuSeconds: 9)
        XCTAssertEqual(account.stepCPUSeconds, 4, accuracy: 1e-12, "2 for step 1, 2 for step 2; the evaluation's 5 apart")
    }
}
