import Training

/// The latest state of a run as its records tell it: what `status`, `ls` and a text attach show. Fed from the
/// live event stream (server) or from the tail of `run.jsonl` (a finished or crashed run).
public struct RunSnapshot: Equatable, Sendable {
    public var strategy: StrategyName?
    public var plannedSteps: Int?
    /// ISO-8601 from the header.
    public var createdAt: String?
    public var step = 0
    public var epoch = 0
    public var lambda: Double?
    /// Pre-update training losses of the newest step that trained each objective.
    public var sftLoss: Double?
    public var dpoLoss: Double?
    /// The newest held-out evaluation.
    public var lastEval: EvalEvent?
    public var tokensPerSecond: Double?
    public var elapsedSeconds: Double?
    public var paused = false
    public var finished: RunFinished?
    public var lastCheckpoint: String?
    /// Records seen (after the header).
    public var records = 0

    public init() {}

    public mutating func observe(_ record: RunRecord) {
        if case .header = record.event {} else {
            records += 1
            elapsedSeconds = record.time
        }
        switch record.event {
        case .header(let header):
            strategy = header.config.strategy
            plannedSteps = header.plannedSteps
            createdAt = header.createdAt
            lambda = lambda ?? header.config.lambda.value
        case .started(let started):
            step = started.step
            strategy = started.strategy
            lambda = started.lambda
            paused = false
            finished = nil  // a resumed run goes on after its earlier end
        case .step(let event):
            step = event.step
            epoch = event.epoch
            strategy = event.strategy
            lambda = event.lambda
            if let loss = event.sft?.loss { sftLoss = loss }
            if let loss = event.dpo?.loss { dpoLoss = loss }
            tokensPerSecond = event.tokensPerSecond
            elapsedSeconds = event.elapsedSeconds
        case .eval(let event):
            lastEval = event
        case .lambdaChanged(let change):
            lambda = change.to
        case .strategyChanged(let change):
            strategy = change.to
        case .paused:
            paused = true
        case .resumed:
            paused = false
        case .checkpointSaved(let saved):
            lastCheckpoint = saved.path
        case .finished(let end):
            finished = end
            step = end.step
            paused = false
        case .commandApplied, .commandRefused, .warning, .telemetry, .unknown:
            break
        }
    }
}
