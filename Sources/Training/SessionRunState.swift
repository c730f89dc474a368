/// Where the training thread stands between optimizer steps. The only transitions:
///
///     running      ── pause ──────────► paused(0)
///     paused(n)    ── step-once ──────► paused(n + 1)
///     paused(n>0)  ── a step taken ───► paused(n − 1)
///     paused(n)    ── resume ─────────► running
///     running, paused ── finish(r) ───► finishing(r)    (nothing leaves finishing: the first reason wins)
///
/// Commands that would not change the state (pause while paused, …) are refused before they get here.
enum SessionRunState: Equatable, Sendable {
    case running
    /// Paused with `stepsGranted` single steps still to take (step-once).
    case paused(stepsGranted: Int)
    /// The run ends before another step, for this reason.
    case finishing(RunFinished)

    var isPaused: Bool {
        if case .paused = self { return true }
        return false
    }

    /// Whether the loop may take a step now.
    var mayStep: Bool {
        switch self {
        case .running: return true
        case .paused(let granted): return granted > 0
        case .finishing: return false
        }
    }

    var finished: RunFinished? {
        if case .finishing(let finished) = self { return finished }
        return nil
    }

    mutating func pause() {
        if case .running = self { self = .paused(stepsGranted: 0) }
    }

    mutating func resume() {
        if case .paused = self { self = .running }
    }

    mutating func grantStep() {
        if case .paused(let granted) = self { self = .paused(stepsGranted: granted + 1) }
    }

    /// A step was taken: a granted single step is used up.
    mutating func stepTaken() {
        if case .paused(let granted) = self, granted > 0 { self = .paused(stepsGranted: granted - 1) }
    }

    mutating func finish(_ finished: RunFinished) {
        if case .finishing = self { return }
        self = .finishing(finished)
    }
}

/// The names shells and users know signals by, for messages and the run log.
public enum SignalName {
    public static func of(_ signal: Int32) -> String {
        switch signal {
        case 1: return "SIGHUP"
        case 2: return "SIGINT"
        case 9: return "SIGKILL"
        case 15: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }
}
