import Foundation
import TestSupport
import Training
import XCTest

final class SessionCommandTests: XCTestCase {
    func test_commands_applyBetweenSteps_andAppearInTheLog() throws {
        let dir = RunDirectory(try TestPaths.temporaryDirectory("xright-commands"))
        defer { try? FileManager.default.removeItem(at: dir.url) }
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.3), maxSteps: 6), runDirectory: dir)
        run.session.subscribe { [session = run.session] record in
            guard case .step(let step) = record.event, step.step == 3 else { return }
            session.send(.setLambda(lambda(0.7)))
            session.send(.switchStrategy(.mix))
            session.send(.evaluateNow)
            session.send(.checkpointNow)
        }
        try run.run()

        let log = try RunLogReader.read(dir.log)
        let events = log.records.map(\.event)
        XCTAssertEqual(events, run.events.filter { $0.type != "header" }, "the log holds every event the observers saw")
        let afterStep3 = events.drop { if case .step(let s) = $0 { return s.step != 3 }; return true }.dropFirst()
        XCTAssertEqual(afterStep3.prefix(8).map(\.type), [
            "command-applied", "lambda-changed", "command-applied", "strategy-changed",
            "command-applied", "eval", "command-applied", "checkpoint-saved",
        ])
        XCTAssertEqual(Array(afterStep3.prefix(4)), [
            .commandApplied(CommandApplied(step: 3, command: .setLambda(lambda(0.7)))),
            .lambdaChanged(LambdaChanged(step: 3, from: 0.3, to: 0.7)),
            .commandApplied(CommandApplied(step: 3, command: .switchStrategy(.mix))),
            .strategyChanged(StrategyChanged(step: 3, from: .alright, to: .mix)),
        ])
        guard case .step(let step4)? = afterStep3.dropFirst(8).first else { return XCTFail("step 4 follows the commands") }
        XCTAssertEqual(step4.step, 4)
        XCTAssertEqual(step4.strategy, .mix)
        XCTAssertEqual(step4.lambda, 0.7)
        XCTAssertEqual(step4.objectives, [.sft, .dpo])
        XCTAssertEqual(try CheckpointStore(directory: dir.checkpoints).list().map(\.step), [3, 6])
    }

    func test_commands_thatDoNotApply_areRefusedWithAReason() throws {
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 3))
        for command in [SessionCommand.resume, .stepOnce, .switchStrategy(.alright), .checkpointNow] { run.session.send(command) }
        try run.run()
        let refusals = run.events.compactMap { if case .commandRefused(let r) = $0 { return r } else { return nil } }
        XCTAssertEqual(refusals.map(\.command), [.resume, .stepOnce, .switchStrategy(.alright), .checkpointNow])
        XCTAssertEqual(refusals.map(\.step), [0, 0, 0, 0], "commands sent before the start apply before step 1")
        XCTAssertEqual(refusals[0].reason, "not paused")
        XCTAssertTrue(refusals[1].reason.contains("pause first"))
        XCTAssertTrue(refusals[2].reason.contains("already running alright"))
        XCTAssertTrue(refusals[3].reason.contains("no run directory"))
        XCTAssertEqual(run.steps.count, 3)
    }

    func test_switchStrategy_toOneWithoutItsData_isRefused() throws {
        let run = try StandInRun(TrainingConfig(strategy: .sftOnly, lambda: lambda(0.5), maxSteps: 2), withDPO: false)
        run.session.send(.switchStrategy(.maxright))
        try run.run()
        guard case .commandRefused(let refusal)? = run.events.first(where: { $0.type == "command-refused" }) else {
            return XCTFail("refused")
        }
        XCTAssertTrue(refusal.reason.contains("preference training data"), refusal.reason)
        XCTAssertTrue(run.steps.allSatisfy { $0.strategy == .sftOnly })
    }

    func test_session_runsOnItsOwnThread_andAppliesCommandsSentBeforeItStarts() throws {
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 5))
        let observedOnMainThread = Locked<Bool?>(nil)
        run.session.subscribe { _ in observedOnMainThread.set(Thread.isMainThread) }
        XCTAssertTrue(Thread.isMainThread)
        run.session.send(.pause)
        try run.session.start()
        XCTAssertThrowsError(try run.session.start()) { XCTAssertEqual($0 as? SessionError, .alreadyStarted) }
        XCTAssertTrue(waitFor { run.session.status.paused })
        XCTAssertEqual(run.session.status.step, 0)
        XCTAssertEqual(observedOnMainThread.value, false, "events come from the session's own thread")
        run.session.send(.resume)
        let finished = run.session.waitUntilFinished(timeout: 10)
        XCTAssertEqual(finished?.reason, .maxSteps)
    }

    func test_pause_stopsStepping_stepOnceTakesOneStep_resumeContinues() throws {
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxEpochs: 1000, maxSteps: 200_000),
                                 sftBatches: 1000, dpoBatches: 1000)
        run.session.subscribe { [session = run.session] record in
            if case .step(let step) = record.event, step.step == 5 { session.send(.pause) }
        }
        try run.session.start()
        XCTAssertTrue(waitFor { run.session.status.paused })
        XCTAssertEqual(run.session.status.step, 5, "the pause applies right after step 5")

        let cpuBefore = processCPUSeconds()
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertLessThan(processCPUSeconds() - cpuBefore, 0.25, "a paused session waits; it does not spin")
        XCTAssertEqual(run.steps.count, 5)
        XCTAssertEqual(run.backend.updates, 5)

        run.session.send(.stepOnce)
        XCTAssertTrue(waitFor { run.steps.count == 6 })
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(run.steps.count, 6, "step-once takes exactly one step")
        XCTAssertTrue(run.session.status.paused)

        run.session.send(.resume)
        XCTAssertTrue(waitFor { run.steps.count > 50 })
        run.session.send(.stop)
        let finished = try XCTUnwrap(run.session.waitUntilFinished(timeout: 10))
        XCTAssertEqual(finished.reason, .stopped)
        let types = run.events.map(\.type)
        XCTAssertTrue(types.contains("paused") && types.contains("resumed"))
    }

    func test_stop_whilePaused_endsTheRun() throws {
        let dir = RunDirectory(try TestPaths.temporaryDirectory("xright-stop"))
        defer { try? FileManager.default.removeItem(at: dir.url) }
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 100), runDirectory: dir)
        run.session.subscribe { [session = run.session] record in
            if case .step(let step) = record.event, step.step == 4 { session.send(.pause) }
        }
        try run.session.start()
        XCTAssertTrue(waitFor { run.session.status.paused })
        run.session.send(.stop)
        let finished = try XCTUnwrap(run.session.waitUntilFinished(timeout: 10))
        XCTAssertEqual(finished.reason, .stopped)
        XCTAssertEqual(finished.step, 4)
        XCTAssertEqual(try CheckpointStore(directory: dir.checkpoints).latest()?.step, 4, "a stopped run is checkpointed to resume")
        let log = try RunLogReader.read(dir.log)
        guard case .finished(let logged)? = log.records.last?.event else { return XCTFail("finished is the last line") }
        XCTAssertEqual(logged, finished)
    }
}

/// A value shared with the training thread.
final class Locked<Value> {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.lock(); defer { lock.unlock() }; return stored }
    func set(_ value: Value) { lock.lock(); stored = value; lock.unlock() }
}

/// Polls `condition` for up to `timeout` seconds.
func waitFor(timeout: TimeInterval = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.005)
    }
    return condition()
}

/// User + system CPU time of this process.
func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
