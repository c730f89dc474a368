import Training
import XCTest

/// The CPU time a sweep charges to optimizer steps (`xright sweep`'s train_cpu_s, `bench strategies`): all the
/// work between the previous closing event and a step event, also when a slow step reports its phases in
/// `progress` (or `telemetry`) records along the way; evaluations are not charged.
final class StepCPUTimeTests: XCTestCase {
    /// A CPU clock the test advances by hand.
    private final class Clock {
        var seconds = 0.0
    }

    private func step(_ n: Int, _ objective: Objective, seconds: Double) -> RunRecord {
        RunRecord(time: 0, event: .step(StepEvent(step: n, epoch: 0, strategy: .alright, objectives: [objective],
                                                  sft: nil, dpo: nil, lambda: 0.5, learningRate: 1e-3, tokens: 10,
                                                  tokensPerSecond: 1, stepSeconds: seconds, elapsedSeconds: 0,
                                                  updateApplied: true)))
    }

    private func progress(_ n: Int) -> RunRecord {
        RunRecord(time: 0, event: .progress(StepProgress(step: n, activity: .training, phase: .backward, seconds: 1)))
    }

    func test_progressRecordsInsideAStep_doNotRestartItsCPUCount() {
        let clock = Clock()
        let collector = EventCollector(cpuClock: { clock.seconds })
        clock.seconds += 3          // step 1's forward
        collector.observe(progress(0))
        clock.seconds += 4          // its backward
        collector.observe(progress(0))
        clock.seconds += 1          // its update
        collector.observe(step(1, .sft, seconds: 5))
        XCTAssertEqual(collector.trainCPUSeconds, 8, accuracy: 1e-12, "the whole step, not its last second")
        XCTAssertEqual(collector.trainSeconds, 5, accuracy: 1e-12)

        clock.seconds += 10         // a held-out evaluation: charged to no step
        collector.observe(RunRecord(time: 0, event: .eval(EvalEvent(step: 1, seconds: 10))))
        clock.seconds += 2
        collector.observe(progress(1))
        clock.seconds += 2
        collector.observe(step(2, .dpo, seconds: 4))
        XCTAssertEqual(collector.trainCPUSeconds, 12, accuracy: 1e-12)
        XCTAssertEqual(collector.sftSteps, 1)
        XCTAssertEqual(collector.dpoSteps, 1)
    }
}
