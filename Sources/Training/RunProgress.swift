/// The state of a run so far, folded from its records: where it is (step, epoch, strategy, λ, paused, finished),
/// its newest losses, evaluation and checkpoint, and running totals over the steps that stand. The one fold every
/// viewer reads: the dashboard (live, attached and replayed), `status`/`ls`, and `xright report`.
///
/// A resumed run re-runs the steps after its checkpoint (docs/RUNLOG.md); those supersede the earlier ones, so the
/// totals and evaluations after the resume point are cut back on a `started` at an earlier step, or on a step
/// number seen again. For that the fold keeps one small entry per step record (`keepsStepHistory`, the default:
/// `report`, `ls`); memory follows the number of records, never the step numbers they carry (a log edited to say
/// step 10¹² costs one entry). A dashboard, which may hold a million-step replay, keeps running totals only: they
/// count every step it was shown, a resume's re-run steps included.
public struct RunProgress: Equatable, Sendable {
    public private(set) var header: RunHeader?
    public private(set) var strategy: StrategyName?
    public private(set) var lambda: Lambda?
    /// The newest step number: of a step, or where a session started or finished.
    public private(set) var step = 0
    public private(set) var epoch = 0
    /// A session began stepping (`started`).
    public private(set) var hasStarted = false
    public private(set) var paused = false
    /// The run's end; cleared when a resumed session starts again.
    public private(set) var finished: RunFinished?
    /// The newest step's learning rate.
    public private(set) var learningRate: Double?
    /// Pre-update training losses of the newest step that trained each objective.
    public private(set) var sftLoss: Double?
    public private(set) var dpoLoss: Double?
    /// The newest step's throughput.
    public private(set) var tokensPerSecond: Double?
    /// Wall time since the run began at its newest step (0 before one).
    public private(set) var elapsedAtStep = 0.0
    /// `time` of the newest record after the header: the run's clock.
    public private(set) var clock = 0.0
    /// The latest `time` of any record.
    public private(set) var lastTime = 0.0
    /// The newest held-out evaluation, and those of the steps that stand.
    public private(set) var lastEval: EvalEvent?
    public private(set) var evals: [EvalEvent] = []
    public private(set) var lastCheckpoint: String?
    /// Records seen after the header.
    public private(set) var records = 0
    private var totals: [StepTotals] = []
    public let keepsStepHistory: Bool

    /// Counts over the steps that stand, after each step record.
    struct StepTotals: Equatable, Sendable {
        var step: Int
        var steps: Int
        var dpoSteps: Int
        var tokens: Int64
        var stepSeconds: Double
    }

    public init(keepsStepHistory: Bool = true) {
        self.keepsStepHistory = keepsStepHistory
    }

    /// Step records that stand (a gap in the numbering, lines lost to corruption, counts only what is there).
    public var stepsTaken: Int { totals.last?.steps ?? 0 }
    /// Of those, steps whose update included DPO (mix steps count).
    public var dpoStepsTaken: Int { totals.last?.dpoSteps ?? 0 }
    /// Tokens of the steps that stand.
    public var tokensSeen: Int64 { totals.last?.tokens ?? 0 }
    /// Seconds the steps that stand took themselves (evaluations and pauses excluded).
    public var stepSeconds: Double { totals.last?.stepSeconds ?? 0 }
    /// Wall time since the run began: the newest step's, else the newest record's (nil before any).
    public var elapsedSeconds: Double? { records == 0 ? nil : elapsedAtStepOrClock }
    private var elapsedAtStepOrClock = 0.0

    public mutating func apply(_ record: RunRecord) {
        if case .header(let h) = record.event {
            header = h
            strategy = h.config.strategy
            lambda = lambda ?? h.config.lambda
            return
        }
        records += 1
        clock = record.time
        lastTime = max(lastTime, record.time)
        elapsedAtStepOrClock = record.time
        switch record.event {
        case .started(let s):
            if s.step < step { cut(after: s.step) }
            hasStarted = true
            step = s.step
            strategy = s.strategy
            lambda = s.lambda
            paused = false
            finished = nil
        case .step(let e):
            fold(step: e)
        case .eval(let e):
            lastEval = e
            evals.append(e)
        case .lambdaChanged(let c): lambda = c.to
        case .strategyChanged(let c): strategy = c.to
        case .paused: paused = true
        case .resumed: paused = false
        case .checkpointSaved(let c): lastCheckpoint = c.path
        case .finished(let f):
            finished = f
            step = f.step
            paused = false
        case .header, .commandApplied, .commandRefused, .warning, .telemetry, .sample, .progress, .unknown:
            break
        }
    }

    /// A step record: the same as `apply(RunRecord(time: time, event: .step(e)))` without matching the event
    /// again (a replay folds a million of them).
    public mutating func apply(step e: StepEvent, time: Double) {
        records += 1
        clock = time
        lastTime = max(lastTime, time)
        fold(step: e)
    }

    private mutating func fold(step e: StepEvent) {
        if let last = totals.last, e.step <= last.step { cut(after: e.step - 1) }
        let last = totals.last ?? StepTotals(step: 0, steps: 0, dpoSteps: 0, tokens: 0, stepSeconds: 0)
        let next = StepTotals(step: e.step, steps: last.steps + 1,
                              dpoSteps: last.dpoSteps + (e.objectives.contains(.dpo) ? 1 : 0),
                              tokens: last.tokens + Int64(e.tokens),
                              stepSeconds: last.stepSeconds + (e.stepSeconds.isFinite ? max(0, e.stepSeconds) : 0))
        if keepsStepHistory || totals.isEmpty { totals.append(next) } else { totals[0] = next }
        step = e.step
        epoch = e.epoch
        strategy = e.strategy
        lambda = e.lambda
        learningRate = e.learningRate
        if let loss = e.sft?.loss { sftLoss = loss }
        if let loss = e.dpo?.loss { dpoLoss = loss }
        tokensPerSecond = e.tokensPerSecond
        elapsedAtStep = e.elapsedSeconds
        elapsedAtStepOrClock = e.elapsedSeconds
    }

    /// Drops what came after `step`: a resumed session re-runs those steps.
    private mutating func cut(after step: Int) {
        // Step numbers only grow between cuts, so the superseded ones are a suffix.
        while keepsStepHistory, let last = totals.last, last.step > step { totals.removeLast() }
        evals.removeAll { $0.step > step }
    }
}
