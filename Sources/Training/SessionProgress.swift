import Foundation

/// Where the training thread is inside a step (or an evaluation, or sampling), and when it last told observers.
struct ProgressClock {
    var activity: StepProgress.Activity?
    var started: UInt64 = 0
    /// Backend calls so far in this activity.
    var pass = 0
    var objective: Objective?
    var lastSent: UInt64 = 0
    /// Seconds the previous step took: a slow run reports every phase change.
    var previousStepSeconds = 0.0

    /// Phase changes are told at once when steps are slow, at most four a second otherwise (after the activity
    /// has gone on for a quarter second: a fast run's steps never produce one).
    static let quiet = 0.25

    mutating func begin(_ activity: StepProgress.Activity) {
        self.activity = activity
        started = DispatchTime.now().uptimeNanoseconds
        pass = 0
        objective = nil
    }

    mutating func end() { activity = nil }

    func seconds(at now: UInt64) -> Double { Double(now &- started) / 1e9 }

    func shouldSend(at now: UInt64) -> Bool {
        if previousStepSeconds >= Self.quiet { return true }
        return seconds(at: now) >= Self.quiet && Double(now &- lastSent) / 1e9 >= Self.quiet
    }
}

/// `progress` records: observers only (the dashboard, attached viewers), never the run log — a slow step's
/// phases would otherwise add lines the log does not need once the step's own event is written.
extension TrainingSession {
    /// Wires the backend's phase reports (when it gives them) to `progress` records.
    func observeBackendPhases() {
        guard let reporting = backend as? PhaseReporting else { return }
        // A step counts its micro-batches, held-out evaluation its chunks.
        reporting.phaseObserver = { [unowned self] phase, part, parts in reportPhase(phase, part: part, parts: parts) }
    }

    /// A backend call begins (one objective's forward and backward, or a gap evaluation).
    func noteBackendCall(_ objective: Objective) {
        progressClock.pass += 1
        progressClock.objective = objective
    }

    func reportPhase(_ phase: StepProgress.Phase, part: Int, parts: Int?) {
        guard let activity = progressClock.activity else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard progressClock.shouldSend(at: now) else { return }
        progressClock.lastSent = now
        notify(RunRecord(time: elapsedSeconds, event: .progress(StepProgress(
            step: state.step, activity: activity, phase: phase, objective: progressClock.objective,
            part: max(1, part), parts: parts, seconds: progressClock.seconds(at: now)))))
    }
}
