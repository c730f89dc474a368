import Dashboard
import Training
import XCTest

final class DashboardStateTests: XCTestCase {
    func test_state_foldsHeaderIntoControlValues() {
        var state = DashboardState()
        state.apply(Events.header(strategy: .maxright, lambda: 0.25, planned: 40, optima: Optima(sft: 1.5, dpo: 0.06)))
        XCTAssertEqual(state.strategy, .maxright)
        XCTAssertEqual(state.lambda, 0.25)
        XCTAssertEqual(state.plannedSteps, 40)
        XCTAssertEqual(state.maxEpochs, 2)
        XCTAssertEqual(state.beta, 0.1)
        XCTAssertEqual(state.optima, Optima(sft: 1.5, dpo: 0.06))
    }

    func test_steps_buildOneSeriesPerObjectiveAndTheStrip() {
        var state = DashboardState(smoothingWeight: 0)
        state.apply(Events.started())
        state.apply(Events.step(1, sft: 3.0))
        state.apply(Events.step(2, dpo: 0.7))
        state.apply(Events.step(3, sft: 2.0))
        state.apply(Events.step(4, sft: 2.5, dpo: 0.6, strategy: .mix))
        state.apply(Events.step(5, sft: .nan, applied: false))
        XCTAssertEqual(state.sft.steps, [1, 3, 4, 5])
        XCTAssertEqual(state.dpo.raw, [0.7, 0.6])
        XCTAssertEqual(state.sft.minimum, 2.0, "the NaN of step 5 must not become the minimum")
        XCTAssertEqual(state.recentChoices, [.sft, .dpo, .sft, .both, .skipped])
        XCTAssertEqual(state.step, 5)
        XCTAssertEqual(state.dpoShare!, 2.0 / 5.0, accuracy: 1e-12)
        XCTAssertEqual(state.tokensSeen, 5 * 300)
    }

    func test_smoothing_isDebiasedEMA() {
        var state = DashboardState(smoothingWeight: 0.9)
        state.apply(Events.step(1, sft: 2.0))
        state.apply(Events.step(2, sft: 4.0))
        // ema1 = 0.1·2 = 0.2 → /(1−0.9) = 2; ema2 = 0.9·0.2 + 0.1·4 = 0.58 → /(1−0.81) = 3.0526…
        XCTAssertEqual(state.sft.smoothed[0], 2.0, accuracy: 1e-12)
        XCTAssertEqual(state.sft.smoothed[1], 0.58 / 0.19, accuracy: 1e-12)
        state.setSmoothing(0)
        XCTAssertEqual(state.sft.smoothed, [2.0, 4.0], "weight 0 turns smoothing off")
    }

    func test_smoothing_skipsNonFiniteValues() {
        var series = MetricSeries(smoothingWeight: 0.5)
        series.append(step: 1, time: 0, value: 1)
        series.append(step: 2, time: 0, value: .infinity)
        series.append(step: 3, time: 0, value: 1)
        XCTAssertEqual(series.smoothed[1], series.smoothed[0], "a non-finite value carries the last smoothed value")
        XCTAssertEqual(series.smoothed[2], 1, accuracy: 1e-12)
    }

    func test_maxrightGapsAndSequentialPhase_areShown() {
        var state = DashboardState()
        state.apply(Events.step(1, dpo: 0.5, strategy: .maxright, gaps: WeightedGaps(sft: 0.1, dpo: 0.3)))
        XCTAssertEqual(state.gaps, WeightedGaps(sft: 0.1, dpo: 0.3))
        XCTAssertNil(state.phase)
        state.apply(Events.step(2, sft: 2.0, strategy: .sftThenDPO))
        XCTAssertEqual(state.phase, .sft)
    }

    func test_lambdaChange_isRecordedInHistoryAndAcknowledged() {
        var state = DashboardState()
        state.apply(Events.started(lambda: 0.5))
        let command = SessionCommand.setLambda(try! Lambda(0.55))
        state.noteSent(command)
        XCTAssertEqual(state.pendingCommands, [command])
        state.apply(Events.applied(command, step: 12))
        state.apply(Events.lambdaChanged(step: 12, from: 0.5, to: 0.55))
        XCTAssertEqual(state.pendingCommands, [])
        XCTAssertEqual(state.lambda, 0.55)
        XCTAssertEqual(state.lambdaHistory.map(\.lambda), [0.5, 0.55])
        XCTAssertEqual(state.latestMessage?.kind, .acknowledged)
        XCTAssertEqual(state.latestMessage?.text, "λ 0.50 → 0.55 at step 12")
    }

    func test_refusal_isShownWithItsReason() {
        var state = DashboardState()
        state.noteSent(.checkpointNow)
        state.apply(Events.refused(.checkpointNow, step: 3, reason: "this session has no run directory"))
        XCTAssertEqual(state.pendingCommands, [])
        XCTAssertEqual(state.latestMessage?.kind, .refused)
        XCTAssertEqual(state.latestMessage?.text, "refused: checkpoint-now: this session has no run directory")
    }

    func test_pauseResumeAndFinish_changeActivity() {
        var state = DashboardState()
        state.apply(Events.started())
        XCTAssertEqual(state.activity, .running)
        state.apply(Events.paused(step: 4))
        XCTAssertEqual(state.activity, .paused)
        state.apply(Events.resumed(step: 4))
        XCTAssertEqual(state.activity, .running)
        state.noteSent(.stop)
        XCTAssertEqual(state.activity, .stopping)
        let record = Events.finished(step: 4)
        let finished = Events.finishedPayload(record)
        state.apply(record)
        XCTAssertEqual(state.activity, .finished(finished))
        XCTAssertFalse(state.activity.isLive)
    }

    func test_evalEvents_becomeEvalPoints() {
        var state = DashboardState()
        state.apply(Events.eval(step: 10, sft: 2.2, dpo: 0.4, idealDistance: 0.9, time: 3))
        XCTAssertEqual(state.sftEvals, [EvalPoint(step: 10, time: 3, loss: 2.2)])
        XCTAssertEqual(state.dpoEvals, [EvalPoint(step: 10, time: 3, loss: 0.4)])
        XCTAssertEqual(state.lastEval?.idealDistance, 0.9)
    }

    func test_trajectory_pairsLatestSmoothedLossesOfBothObjectives() {
        var state = DashboardState(smoothingWeight: 0)
        state.apply(Events.step(1, sft: 3.0))
        state.apply(Events.step(2, dpo: 0.7))
        state.apply(Events.step(3, sft: 2.0))
        XCTAssertNil(state.trajectoryPoint(0), "no point until both objectives have a loss")
        XCTAssertEqual(state.trajectoryPoint(1)?.sft, 3.0)
        XCTAssertEqual(state.trajectoryPoint(1)?.dpo, 0.7)
        XCTAssertEqual(state.trajectoryPoint(2)?.sft, 2.0)
    }

    func test_resume_dropsStepsAfterTheCheckpoint() {
        var state = DashboardState()
        for n in 1...10 { state.apply(Events.step(n, sft: Double(n))) }
        state.apply(Events.started(step: 6))
        XCTAssertEqual(state.sft.steps.last, 6)
        XCTAssertEqual(state.trajectory.count, 6)
        state.apply(Events.step(7, sft: 1))
        XCTAssertEqual(state.sft.count, 7)
    }

    func test_etaUsesPlannedStepsAndRecentPace() {
        var state = DashboardState()
        state.apply(Events.header(planned: 100))
        state.apply(Events.started())
        state.apply(Events.step(1, sft: 1))
        XCTAssertEqual(state.etaSeconds!, 99 * 0.1, accuracy: 1e-9)
    }

    func test_revision_changesOnlyWhenSomethingChanged() {
        var state = DashboardState()
        let before = state.revision
        state.apply(Events.unknown())
        XCTAssertEqual(state.revision, before)
        state.apply(Events.step(1, sft: 1))
        XCTAssertNotEqual(state.revision, before)
    }
}
