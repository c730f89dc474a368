import Telemetry
import Training

/// Turns keys into view changes and session commands, and keeps the dashboard's state. No terminal here:
/// tests drive it with keys and events and look at the state, the view and the commands sent.
public final class DashboardController {
    public enum InputMode: Equatable, Sendable {
        case normal
        /// `l`: the λ typed so far.
        case lambdaEntry(String)
        /// `s`: the strategy under the cursor.
        case strategyChoice(Int)
        /// `q` while a run is live.
        case confirmQuit
    }

    public private(set) var state: DashboardState
    public private(set) var view: ViewSettings
    public private(set) var mode: InputMode = .normal
    /// Set once the dashboard should close.
    public private(set) var wantsExit = false
    /// A viewer attached to a run elsewhere (`xright attach`): `q` and `d` close the view and never stop the run.
    public var isViewer = false
    /// Where commands go: nil in a replay, which has no run to steer.
    private let run: RunEventSource?
    /// There is a run to send commands to (not a replay).
    public var canCommand: Bool { run != nil }
    private let themeCount: Int

    public init(run: RunEventSource?, view: ViewSettings = ViewSettings(), themeCount: Int = 1) {
        self.run = run
        self.view = view
        self.themeCount = max(1, themeCount)
        state = DashboardState(smoothingWeight: view.smoothingWeight)
    }

    public func apply(_ record: RunRecord) {
        state.apply(record)
        if pendingStop, case .finished = state.activity { wantsExit = true }
    }

    public func update(system sample: SystemSample) { state.update(system: sample) }
    public func setSystemUnsampled(_ reason: String) { state.setSystemUnsampled(reason) }
    public func note(_ text: String, kind: DashboardMessage.Kind = .info) { state.note(text, kind: kind) }

    private var pendingStop = false

    private func send(_ command: SessionCommand) {
        state.noteSent(command)
        run?.send(command)
        // Answered at once: a step of a real model takes seconds, and the session applies commands between steps.
        if let boundary = boundaryNote(for: command) { state.note(boundary) }
    }

    /// "λ 0.60 sent: applies at the next step boundary (step 13: sft backward)" while a step is in flight.
    private func boundaryNote(for command: SessionCommand) -> String? {
        guard let inFlight = state.stepProgress?.progress, state.activity == .running else { return nil }
        let what: String
        switch command {
        case .setLambda(let l): what = "\(Glyphs.unicode.lambdaSymbol) \(Format.fixed(l.value, 2))"
        case .pause: what = "pause"
        case .switchStrategy(let name): what = "strategy \(name.rawValue)"
        case .sampleNow: what = "new samples"
        case .evaluateNow: what = "evaluation"
        case .checkpointNow: what = "checkpoint"
        default: return nil
        }
        return "\(what) sent: applies at the next step boundary (now \(inFlight.summary))"
    }

    /// The λ the next ←/→ starts from: the newest one asked for, else the session's.
    private var targetLambda: Double {
        for command in state.pendingCommands.reversed() { if case .setLambda(let l) = command { return l.value } }
        return state.lambda?.value ?? 0.5
    }

    private func requestLambda(_ value: Double) {
        let rounded = Lambda.onKeyGrid(value)
        do {
            send(.setLambda(try Lambda(rounded)))
        } catch {
            state.note("refused: \(Glyphs.unicode.lambdaSymbol) \(Format.fixed(rounded, 2)) is out of range [0, 1]", kind: .refused)
        }
    }

    /// Handles one key; returns true when the screen should be redrawn.
    @discardableResult
    public func handle(_ key: Key) -> Bool {
        if key == .resize { return true }
        switch mode {
        case .normal: return handleNormal(key)
        case .lambdaEntry(let typed): return handleLambdaEntry(key, typed)
        case .strategyChoice(let index): return handleStrategyChoice(key, index)
        case .confirmQuit:
            switch key {
            case .char("y"), .char("Y"):
                mode = .normal
                stopRun()
            case .char("n"), .char("N"), .escape, .char("q"):
                mode = .normal
            default: return false
            }
            return true
        }
    }

    private func handleNormal(_ key: Key) -> Bool {
        if view.showHelp, key == .escape { view.showHelp = false; return true }
        guard let action = KeyTable.action(for: key) else { return false }
        switch action {
        case .lambdaDown: requestLambda(targetLambda - Lambda.keyStep)
        case .lambdaUp: requestLambda(targetLambda + Lambda.keyStep)
        case .typeLambda: mode = .lambdaEntry("")
        case .togglePause: send(state.activity == .paused ? .resume : .pause)
        case .stepOnce: send(.stepOnce)
        case .evaluateNow: send(.evaluateNow)
        case .checkpointNow: send(.checkpointNow)
        case .switchStrategy:
            mode = .strategyChoice(StrategyName.allCases.firstIndex(of: state.strategy ?? .alright) ?? 0)
        case .toggleLogScale:
            view.logScale.toggle()
            state.note("loss charts: \(view.logScale ? "log" : "linear") scale")
        case .smoothingDown, .smoothingUp:
            let next = view.smoothingIndex + (action == .smoothingUp ? 1 : -1)
            view.smoothingIndex = min(max(next, 0), ViewSettings.smoothingWeights.count - 1)
            state.setSmoothing(view.smoothingWeight)
            state.note(view.smoothingWeight == 0 ? "smoothing off" : "smoothing: EMA weight \(view.smoothingWeight)")
        case .toggleAxis:
            view.axis = view.axis == .step ? .time : .step
            state.note("x axis: \(view.axis == .step ? "step" : "wall time")")
        case .cycleZoom:
            view.zoomIndex = (view.zoomIndex + 1) % ViewSettings.zoomLevels.count
        case .nextTheme:
            view.themeIndex = (view.themeIndex + 1) % themeCount
        case .toggleHelp:
            view.showHelp.toggle()
        case .toggleSamples:
            view.showSamples.toggle()
        case .compareSamples:
            view.compareSamples.toggle()
            state.note(view.compareSamples ? "samples: first reply beside the newest" : "samples: newest replies")
        case .sampleNow:
            if run == nil { return false }
            send(.sampleNow)
        case .detach:
            if isViewer { wantsExit = true } else {
                state.note("d detaches viewers (xright attach); this run lives in this terminal: q stops it, closing the terminal leaves it going")
            }
        case .quit:
            if isViewer { wantsExit = true; return true }
            if state.activity == .stopping || !state.activity.isLive || (state.activity == .waiting && state.header == nil) {
                wantsExit = true
            } else {
                mode = .confirmQuit
            }
        }
        return true
    }

    private func handleLambdaEntry(_ key: Key, _ typed: String) -> Bool {
        switch key {
        case .escape: mode = .normal
        case .enter:
            mode = .normal
            do {
                send(.setLambda(try Lambda(parsing: typed)))
            } catch {
                state.note("refused: \(error)", kind: .refused)
            }
        case .backspace: mode = .lambdaEntry(String(typed.dropLast()))
        // Every printable key is kept (not only digits), so a refusal shows exactly what was typed.
        case .char(let c) where !c.isNewline && typed.count < 12:
            mode = .lambdaEntry(typed + String(c))
        default: return false
        }
        return true
    }

    private func handleStrategyChoice(_ key: Key, _ index: Int) -> Bool {
        let all = StrategyName.allCases
        switch key {
        case .escape: mode = .normal
        case .left, .up: mode = .strategyChoice((index + all.count - 1) % all.count)
        case .right, .down, .char("s"): mode = .strategyChoice((index + 1) % all.count)
        case .enter:
            mode = .normal
            send(.switchStrategy(all[index]))
        default: return false
        }
        return true
    }

    /// Checkpoint, then stop; the dashboard closes when the session reports it finished. `stop` replaces the
    /// plain stop command when the caller has its own stop path (a signal's stop names the signal).
    public func stopRun(_ stop: (() -> Void)? = nil) {
        pendingStop = true
        send(.checkpointNow)
        if let stop { stop() } else { send(.stop) }
    }
}
