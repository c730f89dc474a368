import Foundation
import Telemetry
import Training

/// Where the run is, as the dashboard shows it.
public enum RunActivity: Equatable, Sendable {
    case waiting
    case running
    case paused
    /// The dashboard asked the session to stop and waits for it to finish.
    case stopping
    case finished(RunFinished)

    public var label: String {
        switch self {
        case .waiting: return "waiting"
        case .running: return "running"
        case .paused: return "paused"
        case .stopping: return "stopping"
        case .finished: return "finished"
        }
    }

    public var isLive: Bool {
        if case .finished = self { return false }
        return true
    }
}

/// One line for the event line.
public struct DashboardMessage: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case info, acknowledged, refused, warning }
    public var text: String
    public var kind: Kind
    public var step: Int?

    public init(_ text: String, kind: Kind = .info, step: Int? = nil) {
        self.text = text
        self.kind = kind
        self.step = step
    }
}

/// A held-out evaluation point of one objective.
public struct EvalPoint: Equatable, Sendable {
    public var step: Int
    public var time: Double
    public var loss: Double

    public init(step: Int, time: Double, loss: Double) {
        self.step = step
        self.time = time
        self.loss = loss
    }
}

/// Which objectives one step trained, for the objective strip.
public enum StepChoice: Equatable, Sendable {
    case sft, dpo, both, skipped

    init(_ objectives: [Objective], applied: Bool) {
        guard applied else { self = .skipped; return }
        let sft = objectives.contains(.sft), dpo = objectives.contains(.dpo)
        self = sft && dpo ? .both : dpo ? .dpo : sft ? .sft : .skipped
    }
}

/// A `telemetry` event and the run time it was taken at.
public struct RunGPUSample: Equatable, Sendable {
    public var event: TelemetryEvent
    public var time: Double

    public init(event: TelemetryEvent, time: Double) {
        self.event = event
        self.time = time
    }
}

/// Everything the dashboard shows: where the run is comes from `RunProgress` (the one fold of run records, which
/// `status`, `ls` and `report` read too); the series, strip, trajectory and messages drawn from the same records
/// are kept here. No terminal, no tensors, so every panel's numbers can be tested on their own.
public struct DashboardState {
    public static let stripCapacity = 1024
    public static let messageCapacity = 200

    /// The run so far: step, strategy, λ, pause and end, totals over the steps that stand.
    /// Running totals only (no per-step history): a replay may fold a million steps.
    public private(set) var progress = RunProgress(keepsStepHistory: false)
    /// The dashboard asked the run to stop (until it finishes, or a resumed session starts).
    private var stopRequested = false

    public var header: RunHeader? { progress.header }
    public var strategy: StrategyName? { progress.strategy }
    public var lambda: Lambda? { progress.lambda }
    public var beta: Double? { header?.settings["beta"].flatMap(Double.init) }
    /// The newest step's, else the one the header records.
    public var learningRate: Double? {
        progress.learningRate ?? header?.settings["learningRate"].flatMap(Double.init) ?? header?.settings["lr"].flatMap(Double.init)
    }
    public var step: Int { progress.step }
    public var epoch: Int { progress.epoch }
    public var plannedSteps: Int? { header?.plannedSteps }
    public var maxEpochs: Int? { header?.config.maxEpochs }
    /// Wall time at the newest step: the end of the time axis.
    public var elapsedSeconds: Double { progress.elapsedAtStep }
    public var tokensSeen: Int { Int(progress.tokensSeen) }
    /// EMA (w = 0.8) of the steps' tokens/s and seconds per step.
    public private(set) var tokensPerSecond: Double?
    public private(set) var secondsPerStep: Double?
    public var activity: RunActivity {
        if let finished = progress.finished { return .finished(finished) }
        if stopRequested { return .stopping }
        if progress.paused { return .paused }
        return progress.hasStarted ? .running : .waiting
    }

    public private(set) var sft: MetricSeries
    public private(set) var dpo: MetricSeries
    public private(set) var sftEvals: [EvalPoint] = []
    public private(set) var dpoEvals: [EvalPoint] = []
    public var lastEval: EvalEvent? { progress.lastEval }
    /// The newest evaluation that scored the run's `--eval-suite`: its step and figures.
    public private(set) var lastMultipleChoice: (step: Int, figures: MultipleChoiceFigures)?

    /// The most recent steps' choices, oldest first (at most `stripCapacity`).
    public private(set) var recentChoices: [StepChoice] = []
    public var stepsTaken: Int { progress.stepsTaken }
    public var dpoStepsTaken: Int { progress.dpoStepsTaken }
    /// (step, λ) at the start and at every change.
    public private(set) var lambdaHistory: [(step: Int, lambda: Lambda)] = []
    public private(set) var gaps: WeightedGaps?
    /// Sequential and single-objective runs: the objective of the current epoch.
    public private(set) var phase: Objective?
    public var optima: Optima? { header?.config.optima }
    /// Trade-off trajectory: after each step, how many points each series had; the point is then the smoothed
    /// (SFT, DPO) pair at those counts, so a smoothing change needs no recomputation here.
    public private(set) var trajectory: [(sft: Int32, dpo: Int32)] = []

    /// Probe replies: first and newest per probe (the Samples panel).
    public private(set) var samples = SampleBook()
    /// What the training thread is doing inside the current step (or evaluation, or sampling), and the
    /// dashboard's uptime when it was told; nil between steps. Never in a replay (the log has no progress).
    public private(set) var stepProgress: (progress: StepProgress, receivedAt: Double)?

    public private(set) var messages: [DashboardMessage] = []
    /// Commands sent from the keyboard that the session has not yet answered.
    public private(set) var pendingCommands: [SessionCommand] = []
    public private(set) var system: SystemSample?
    /// The run's own GPUs from its newest `telemetry` event (a bridge run), nil until the run sends one: the
    /// panel then shows these, the devices training runs on, instead of the machine the dashboard runs on.
    public private(set) var runGPUs: RunGPUSample?
    /// Every `telemetry` event so far (bounded): the run's machine over time, drawn as curves.
    public private(set) var machine = MachineHistory()
    /// `time` of the newest record: the run's clock, which a GPU sample's age is measured against (so a replay
    /// shows the age the sample had at that moment of the run).
    public var runClock: Double { progress.clock }
    /// Bumped on every change, so the UI redraws only when something moved.
    public private(set) var revision = 0

    public init(smoothingWeight: Double = 0.9) {
        sft = MetricSeries(smoothingWeight: smoothingWeight)
        dpo = MetricSeries(smoothingWeight: smoothingWeight)
    }

    public func series(_ objective: Objective) -> MetricSeries { objective == .sft ? sft : dpo }
    public func evals(_ objective: Objective) -> [EvalPoint] { objective == .sft ? sftEvals : dpoEvals }

    /// Share of steps that trained DPO (mix steps count for both).
    public var dpoShare: Double? { stepsTaken > 0 ? Double(dpoStepsTaken) / Double(stepsTaken) : nil }

    /// Seconds left at the recent pace, when the planned length is known.
    public var etaSeconds: Double? {
        guard let planned = plannedSteps, let pace = secondsPerStep, activity.isLive else { return nil }
        return Double(max(0, planned - step)) * pace
    }

    public var latestMessage: DashboardMessage? { messages.last }

    /// Run seconds since the newest GPU sample was taken.
    public var runGPUSampleAge: Double? { runGPUs.map { max(0, runClock - $0.time) } }

    /// The (SFT, DPO) smoothed point of trajectory entry `i`.
    public func trajectoryPoint(_ i: Int) -> (sft: Double, dpo: Double)? {
        let entry = trajectory[i]
        guard entry.sft > 0, entry.dpo > 0 else { return nil }
        return (sft.smoothed[Int(entry.sft) - 1], dpo.smoothed[Int(entry.dpo) - 1])
    }

    // MARK: - Folding events

    public mutating func apply(_ record: RunRecord) {
        revision &+= 1
        // Nearly every record is a step: match it once.
        if case .progress(let p) = record.event {
            stepProgress = (p, Self.uptime())
            return
        }
        // Any other record ends what a progress record described (a step, an evaluation, a sample came in).
        stepProgress = nil
        if case .step(let e) = record.event {
            progress.apply(step: e, time: record.time)
            fold(step: e, time: record.time)
            return
        }
        let stepBefore = progress.step
        progress.apply(record)
        switch record.event {
        case .header:
            break
        case .started(let s):
            stopRequested = false
            if s.step < stepBefore { truncate(after: s.step); samples.truncate(after: s.step) }
            if s.resumedFrom != nil { machine.truncate(after: record.time) }
            lambdaHistory.append((s.step, s.lambda))
            note(s.resumedFrom.map { "resumed from \($0) at step \(s.step)" } ?? "started \(s.strategy) at \(Self.lambdaText(s.lambda))",
                 step: s.step)
        case .step:
            break  // handled above
        case .eval(let e):
            if let m = e.sft { sftEvals.append(EvalPoint(step: e.step, time: record.time, loss: m.loss)) }
            if let m = e.dpo { dpoEvals.append(EvalPoint(step: e.step, time: record.time, loss: m.loss)) }
            var parts: [String] = []
            if let m = e.sft { parts.append("SFT \(Format.loss(m.loss))") }
            if let m = e.dpo { parts.append("DPO \(Format.loss(m.loss))") }
            if let d = e.idealDistance { parts.append("ideal distance \(Format.loss(d))") }
            if let m = e.multipleChoice {
                lastMultipleChoice = (e.step, m)
                parts.append("MC acc \(Format.fixed(100 * m.acc, 1))% (norm \(Format.fixed(100 * m.accNorm, 1))%)")
            }
            note("eval at step \(e.step): " + parts.joined(separator: ", "), step: e.step)
        case .commandApplied(let c):
            let fromKeyboard = resolvePending(c.command)
            // λ, pause and strategy changes get their own, more telling line below.
            switch c.command {
            case .setLambda, .pause, .resume, .switchStrategy: break
            default: note("applied: \(c.command) at step \(c.step)", kind: fromKeyboard ? .acknowledged : .info, step: c.step)
            }
        case .commandRefused(let c):
            _ = resolvePending(c.command)
            note("refused: \(c.command): \(c.reason)", kind: .refused, step: c.step)
        case .lambdaChanged(let c):
            lambdaHistory.append((c.step, c.to))
            note("\(Glyphs.unicode.lambdaSymbol) \(Format.fixed(c.from.value, 2)) → \(Format.fixed(c.to.value, 2)) at step \(c.step)",
                 kind: .acknowledged, step: c.step)
        case .strategyChanged(let c):
            phase = nil
            gaps = nil
            note("strategy \(c.from) → \(c.to) at step \(c.step)", kind: .acknowledged, step: c.step)
        case .paused(let p):
            note("paused after step \(p.step)", kind: .acknowledged, step: p.step)
        case .resumed(let p):
            note("resumed at step \(p.step)", kind: .acknowledged, step: p.step)
        case .checkpointSaved(let c):
            note("checkpoint saved at step \(c.step): \(c.path)", kind: .acknowledged, step: c.step)
        case .warning(let w):
            note("warning: \(w.message)", kind: .warning, step: w.step)
        case .finished(let f):
            stopRequested = false
            pendingCommands.removeAll()
            note("finished at step \(f.step) (\(f.reason.rawValue)): \(f.message)",
                 kind: f.reason == .failed || f.reason == .nonFinite ? .warning : .info, step: f.step)
        case .telemetry(let t):
            runGPUs = RunGPUSample(event: t, time: record.time)
            machine.append(t, time: record.time)
        case .sample(let s):
            samples.add(s)
        case .progress:
            break  // handled above
        case .unknown:
            revision &-= 1
        }
    }

    private mutating func fold(step e: StepEvent, time: Double) {
        if e.tokensPerSecond.isFinite, e.tokensPerSecond > 0 {
            tokensPerSecond = tokensPerSecond.map { 0.8 * $0 + 0.2 * e.tokensPerSecond } ?? e.tokensPerSecond
        }
        if e.stepSeconds.isFinite, e.stepSeconds >= 0 {
            secondsPerStep = secondsPerStep.map { 0.8 * $0 + 0.2 * e.stepSeconds } ?? e.stepSeconds
        }
        if let m = e.sft { sft.append(step: e.step, time: e.elapsedSeconds, value: m.loss) }
        if let m = e.dpo { dpo.append(step: e.step, time: e.elapsedSeconds, value: m.loss) }
        trajectory.append((Int32(sft.count), Int32(dpo.count)))

        let choice = StepChoice(e.objectives, applied: e.updateApplied)
        recentChoices.append(choice)
        if recentChoices.count > Self.stripCapacity { recentChoices.removeFirst(recentChoices.count - Self.stripCapacity) }
        if e.gaps != nil { gaps = e.gaps }
        phase = e.strategy.isJoint ? nil : e.objectives.first
    }

    private mutating func truncate(after step: Int) {
        sft.truncate(after: step)
        dpo.truncate(after: step)
        sftEvals.removeAll { $0.step > step }
        dpoEvals.removeAll { $0.step > step }
        if let mc = lastMultipleChoice, mc.step > step {
            lastMultipleChoice = progress.evals.last { $0.multipleChoice != nil }.map { ($0.step, $0.multipleChoice!) }
        }
        trajectory = trajectory.map { (min($0.sft, Int32(sft.count)), min($0.dpo, Int32(dpo.count))) }
        trajectory.removeLast(max(0, trajectory.count - step))
    }

    private mutating func resolvePending(_ command: SessionCommand) -> Bool {
        guard let i = pendingCommands.firstIndex(of: command) else { return false }
        pendingCommands.remove(at: i)
        return true
    }

    // MARK: - From the keyboard and the sampler

    /// A command the dashboard sent; its answer (applied or refused) clears it.
    public mutating func noteSent(_ command: SessionCommand) {
        revision &+= 1
        pendingCommands.append(command)
        if case .stop = command, activity.isLive { stopRequested = true }
    }

    public mutating func note(_ text: String, kind: DashboardMessage.Kind = .info, step: Int? = nil) {
        revision &+= 1
        messages.append(DashboardMessage(text, kind: kind, step: step))
        if messages.count > Self.messageCapacity { messages.removeFirst(messages.count - Self.messageCapacity) }
    }

    public mutating func setSmoothing(_ weight: Double) {
        revision &+= 1
        sft.setSmoothing(weight)
        dpo.setSmoothing(weight)
    }

    public mutating func update(system sample: SystemSample) {
        revision &+= 1
        system = sample
    }

    /// No machine is sampled for this view (a replay: the log holds only what the run itself recorded); the System
    /// panel says why instead of waiting for a sample.
    public private(set) var systemUnsampled: String?

    public mutating func setSystemUnsampled(_ reason: String) {
        revision &+= 1
        systemUnsampled = reason
    }

    /// Seconds since boot: progress records are aged against it (the run's clock stands still inside a step).
    public static func uptime() -> Double { ProcessInfo.processInfo.systemUptime }

    /// Seconds the activity in `stepProgress` has been going, as of `now` (an uptime).
    public func progressSeconds(now: Double = DashboardState.uptime()) -> Double? {
        stepProgress.map { $0.progress.seconds + max(0, now - $0.receivedAt) }
    }

    static func lambdaText(_ lambda: Lambda) -> String { "λ = \(Format.fixed(lambda.value, 2))" }
}
