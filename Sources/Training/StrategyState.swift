import Engine

/// A strategy's memory between steps, stored in checkpoints so a resumed run makes the same choices.
public struct StrategyState: Codable, Equatable, Sendable {
    public var name: StrategyName
    /// ALRIGHT: the generator of the objective draws.
    public var rng: SeededRandom?
    /// MAXRIGHT: f − f* of each objective as last measured (gap evaluation or the stepped batch's
    /// pre-update loss). The λ weighting is applied when choosing, so a λ change acts from the next step.
    public var staleExcess: LossExcess?
    /// Sequential and single-objective strategies: the objective of the current epoch.
    public var phase: Objective?

    public init(name: StrategyName, rng: SeededRandom? = nil, staleExcess: LossExcess? = nil, phase: Objective? = nil) {
        self.name = name
        self.rng = rng
        self.staleExcess = staleExcess
        self.phase = phase
    }

    /// MAXRIGHT's weighted gaps under `lambda`: g_sft = (1−λ)(f_sft − f_sft*), g_dpo = λ(f_dpo − f_dpo*).
    public func weightedGaps(lambda: Lambda) -> WeightedGaps? {
        staleExcess.map { WeightedGaps(sft: lambda.sftWeight * $0.sft, dpo: lambda.dpoWeight * $0.dpo) }
    }
}

/// f − f* per objective.
public struct LossExcess: Codable, Equatable, Sendable {
    public var sft: Double
    public var dpo: Double

    public init(sft: Double, dpo: Double) {
        self.sft = sft
        self.dpo = dpo
    }

    public subscript(objective: Objective) -> Double {
        get { objective == .sft ? sft : dpo }
        set { if objective == .sft { sft = newValue } else { dpo = newValue } }
    }
}

/// The sequential baselines' plan: the epoch budget T split by λ — round(λT) DPO epochs and T − round(λT) SFT
/// epochs (T = 4, λ = 0.25 → 3 SFT then 1 DPO), in the strategy's order.
public struct SequentialSchedule: Equatable, Sendable {
    public var sftEpochs: Int
    public var dpoEpochs: Int
    public var first: Objective

    public init(first: Objective, lambda: Lambda, epochBudget: Int) {
        dpoEpochs = Int((lambda.value * Double(epochBudget)).rounded())
        sftEpochs = epochBudget - dpoEpochs
        self.first = first
    }

    public func objective(forEpoch epoch: Int) -> Objective {
        let firstEpochs = first == .sft ? sftEpochs : dpoEpochs
        return epoch < firstEpochs ? first : first.other
    }

    /// Epochs are whole, so a small budget can leave a phase empty (T = 1 at λ = 0.5 is one DPO epoch and no SFT):
    /// the run is then a single-objective run, not a sequential baseline. Says so, with the fix, for a
    /// sequential `strategy`; nil when both phases have epochs or λ asks for one objective only (0 or 1).
    public static func emptyPhaseNote(strategy: StrategyName, lambda: Lambda, epochBudget: Int) -> String? {
        guard strategy == .sftThenDPO || strategy == .dpoThenSFT, lambda.value > 0, lambda.value < 1 else { return nil }
        let schedule = SequentialSchedule(first: strategy == .sftThenDPO ? .sft : .dpo, lambda: lambda, epochBudget: epochBudget)
        guard schedule.sftEpochs == 0 || schedule.dpoEpochs == 0 else { return nil }
        let only = schedule.sftEpochs == 0 ? "DPO" : "SFT"
        let needed = Int((1 / min(lambda.value, 1 - lambda.value)).rounded(.up))
        return "\(strategy) at λ \(lambda.value) with an epoch budget of \(epochBudget): the split gives \(schedule.sftEpochs) SFT "
            + "and \(schedule.dpoEpochs) DPO epoch(s), so this run trains \(only) only; use --epochs \(max(2, needed)) or more for a sequential baseline"
    }
}
