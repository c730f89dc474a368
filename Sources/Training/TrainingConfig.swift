/// Everything that decides what a run does, recorded whole in the run header.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var strategy: StrategyName
    public var lambda: Lambda
    /// Seeds ALRIGHT's draws (data shuffles are seeded by their sources).
    public var seed: UInt64
    /// The epoch budget T. Joint strategies run T epochs; sequential ones split T by λ (docs/DESIGN.md §1).
    public var maxEpochs: Int
    /// Stop after this many optimizer steps (nil: only the epoch budget bounds the run).
    public var maxSteps: Int?
    /// MAXRIGHT's k (`max_eval_steps`, default 10): recompute both gaps every k steps of an epoch.
    /// nil is the official −1: never after the first batch.
    public var maxEvalSteps: Int?
    /// Held-out evaluation at step 1 and every N steps (nil: never).
    public var evalEvery: Int?
    /// Checkpoint every N steps (nil: only on finish).
    public var checkpointEvery: Int?
    /// Write a checkpoint when the run ends normally or is stopped (never after non-finite updates).
    public var checkpointOnFinish: Bool
    /// Keep only the newest N checkpoints (nil: all). The newest — the one a resume starts from — is never
    /// removed: older ones go only after a new one is complete.
    public var keepCheckpoints: Int?
    /// f_sft*, f_dpo*: MAXRIGHT's gaps use them (0 when unknown, as the official default); the ideal distance
    /// and the stop rule need them.
    public var optima: Optima?
    /// The official scripts' stop rule, checked at each held-out evaluation.
    public var stopRule: OptimalityStopRule?
    /// Non-finite updates in a row that end the run.
    public var maxConsecutiveNonFinite: Int

    public init(strategy: StrategyName, lambda: Lambda, seed: UInt64 = 42, maxEpochs: Int = 1,
                maxSteps: Int? = nil, maxEvalSteps: Int? = 10, evalEvery: Int? = nil,
                checkpointEvery: Int? = nil, checkpointOnFinish: Bool = true, keepCheckpoints: Int? = nil,
                optima: Optima? = nil, stopRule: OptimalityStopRule? = nil, maxConsecutiveNonFinite: Int = 3) {
        self.strategy = strategy
        self.lambda = lambda
        self.seed = seed
        self.maxEpochs = maxEpochs
        self.maxSteps = maxSteps
        self.maxEvalSteps = maxEvalSteps
        self.evalEvery = evalEvery
        self.checkpointEvery = checkpointEvery
        self.checkpointOnFinish = checkpointOnFinish
        self.keepCheckpoints = keepCheckpoints
        self.optima = optima
        self.stopRule = stopRule
        self.maxConsecutiveNonFinite = maxConsecutiveNonFinite
    }

    /// Rejects settings that cannot run, naming the field, what it needs and what it got.
    public func validate() throws {
        func positive(_ value: Int?, _ field: String) throws {
            if let v = value, v < 1 { throw TrainingConfigError.invalid(field: field, expected: "an integer ≥ 1", found: String(v)) }
        }
        try positive(maxEpochs, "maxEpochs")
        try positive(maxSteps, "maxSteps")
        try positive(maxEvalSteps, "maxEvalSteps")
        try positive(evalEvery, "evalEvery")
        try positive(checkpointEvery, "checkpointEvery")
        try positive(keepCheckpoints, "keepCheckpoints")
        try positive(maxConsecutiveNonFinite, "maxConsecutiveNonFinite")
        if let o = optima, !(o.sft.isFinite && o.dpo.isFinite) {
            throw TrainingConfigError.invalid(field: "optima", expected: "finite f_sft* and f_dpo*", found: "\(o.sft), \(o.dpo)")
        }
        if let rule = stopRule {
            guard optima != nil else {
                throw TrainingConfigError.invalid(field: "stopRule", expected: "optima (f_sft*, f_dpo*) to compare against", found: "no optima")
            }
            guard evalEvery != nil else {
                throw TrainingConfigError.invalid(field: "stopRule", expected: "evalEvery (the rule is checked at evaluations)", found: "no evalEvery")
            }
            guard rule.epsilon.isFinite, rule.epsilon >= 0 else {
                throw TrainingConfigError.invalid(field: "stopRule.epsilon", expected: "a finite number ≥ 0", found: String(rule.epsilon))
            }
        }
    }
}

public enum TrainingConfigError: Error, Equatable, CustomStringConvertible {
    case invalid(field: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .invalid(field, expected, found): return "training setting \(field): expected \(expected); got \(found)"
        }
    }
}

/// Stop when an evaluation comes within ε of an optimum, or of a reference Pareto point on both losses
/// (XRIGHT trainers: `sft_eval − sft_opt ≤ ε or dpo_eval − dpo_opt ≤ ε`, else any front point within ε on both).
public struct OptimalityStopRule: Codable, Equatable, Sendable {
    public var epsilon: Double
    /// (f_sft, f_dpo) points of a reference front; empty for none.
    public var referenceFront: [Optima]

    public init(epsilon: Double = 1e-4, referenceFront: [Optima] = []) {
        self.epsilon = epsilon
        self.referenceFront = referenceFront
    }

    public func isSatisfied(sftLoss: Double, dpoLoss: Double, optima: Optima) -> Bool {
        if sftLoss - optima.sft <= epsilon || dpoLoss - optima.dpo <= epsilon { return true }
        return referenceFront.contains { sftLoss - $0.sft <= epsilon && dpoLoss - $0.dpo <= epsilon }
    }
}
