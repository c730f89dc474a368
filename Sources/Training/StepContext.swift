/// The training sources, one per objective; a strategy that needs a missing one is refused before it starts.
public struct ObjectiveSources {
    public var sft: BatchSource?
    public var dpo: BatchSource?

    public init(sft: BatchSource?, dpo: BatchSource?) {
        self.sft = sft
        self.dpo = dpo
    }

    public subscript(objective: Objective) -> BatchSource? { objective == .sft ? sft : dpo }
}

/// Both loaders' progress (serialized in checkpoints).
public struct ObjectiveCursors: Codable, Equatable, Sendable {
    public var sft: BatchCursor
    public var dpo: BatchCursor

    public subscript(objective: Objective) -> BatchCursor {
        get { objective == .sft ? sft : dpo }
        set { if objective == .sft { sft = newValue } else { dpo = newValue } }
    }
}

/// What a strategy may do within one optimizer step: train on an objective's current batch (accumulating a
/// weighted gradient and advancing its loader), measure it without a gradient, or skip it. The session then
/// applies (or skips) the single update.
final class StepContext {
    let backend: TrainingBackend
    let sources: ObjectiveSources
    var cursors: ObjectiveCursors
    let lambda: Lambda
    /// f* per objective; zero when unknown (the official default `sft_opt = dpo_opt = 0`).
    let optima: Optima
    let stepInEpoch: Int
    let maxEvalSteps: Int?

    private(set) var trained: [Objective: ObjectiveMetrics] = [:]
    private(set) var trainedOrder: [Objective] = []
    private(set) var tokens = 0
    /// Told before each backend call (for the session's in-step progress).
    var willEvaluate: (Objective) -> Void = { _ in }

    init(backend: TrainingBackend, sources: ObjectiveSources, cursors: ObjectiveCursors, lambda: Lambda,
         optima: Optima, stepInEpoch: Int, maxEvalSteps: Int?) {
        self.backend = backend
        self.sources = sources
        self.cursors = cursors
        self.lambda = lambda
        self.optima = optima
        self.stepInEpoch = stepInEpoch
        self.maxEvalSteps = maxEvalSteps
    }

    private func source(_ objective: Objective) throws -> BatchSource {
        guard let source = sources[objective] else { throw SessionError.missingSource(objective) }
        return source
    }

    /// Pre-update metrics of `objective`'s current batch; accumulates weight · ∇loss; advances its loader.
    @discardableResult
    func train(_ objective: Objective, weight: Double) throws -> ObjectiveMetrics {
        let batch = try cursors[objective].current(in: source(objective))
        willEvaluate(objective)
        let metrics = try backend.evaluate(objective, batch: batch, gradientWeight: weight)
        cursors[objective].advance()
        trained[objective] = metrics
        trainedOrder.append(objective)
        tokens += metrics.tokens
        return metrics
    }

    /// Loss of `objective`'s current batch without a gradient; the loader stays put.
    func measure(_ objective: Objective) throws -> ObjectiveMetrics {
        let batch = try cursors[objective].current(in: source(objective))
        willEvaluate(objective)
        let metrics = try backend.evaluate(objective, batch: batch, gradientWeight: nil)
        tokens += metrics.tokens
        return metrics
    }

    /// Advances `objective`'s loader without using its batch.
    func skip(_ objective: Objective) {
        cursors[objective].advance()
    }
}

/// What a strategy reports about its step, beyond what the context recorded.
struct StrategyStepNote {
    var gaps: WeightedGaps? = nil
    var gapsEvaluated: Bool? = nil
}

/// One way of choosing what each optimizer step trains on (docs/DESIGN.md §1).
protocol TrainingStrategy {
    var state: StrategyState { get }
    /// Called at the start of each epoch of the budget; returns the objectives whose loaders begin a new pass.
    /// The first one's source sets the epoch's length.
    mutating func beginEpoch(_ epoch: Int, lambda: Lambda, epochBudget: Int) -> [Objective]
    mutating func step(_ context: StepContext) throws -> StrategyStepNote
    /// Objectives whose data the strategy needs.
    var requiredObjectives: [Objective] { get }
}
