/// The two objectives trained jointly: supervised fine-tuning and direct preference optimisation.
public enum Objective: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    case sft
    case dpo

    public var description: String { rawValue }
    public var other: Objective { self == .sft ? .dpo : .sft }
}

/// What one evaluation of an objective on a batch (or on the held-out set) measured.
public struct ObjectiveMetrics: Codable, Equatable, Sendable {
    /// f_sft (mean response-token cross-entropy) or f_dpo (mean preference loss) on the batch.
    public var loss: Double
    /// Tokens the evaluation processed (prompt and response, both sides of a pair for DPO).
    public var tokens: Int
    /// DPO only: rewards, accuracy and margin (docs/DESIGN.md §1).
    public var preference: PreferenceMetrics?

    public init(loss: Double, tokens: Int, preference: PreferenceMetrics? = nil) {
        self.loss = loss
        self.tokens = tokens
        self.preference = preference
    }
}

/// DPO's implicit rewards β(log π − log π_ref), averaged over the batch's pairs.
public struct PreferenceMetrics: Codable, Equatable, Sendable {
    public var chosenReward: Double
    public var rejectedReward: Double
    /// Share of pairs whose chosen reward exceeds the rejected one.
    public var rewardAccuracy: Double
    /// Mean of chosen − rejected reward.
    public var margin: Double

    public init(chosenReward: Double, rejectedReward: Double, rewardAccuracy: Double, margin: Double) {
        self.chosenReward = chosenReward
        self.rejectedReward = rejectedReward
        self.rewardAccuracy = rewardAccuracy
        self.margin = margin
    }
}

/// The optima f_sft* and f_dpo* (from `sft-only` / `dpo-only` runs): MAXRIGHT's gaps and the ideal point.
public struct Optima: Codable, Equatable, Sendable {
    public var sft: Double
    public var dpo: Double

    public init(sft: Double, dpo: Double) {
        self.sft = sft
        self.dpo = dpo
    }

    public subscript(objective: Objective) -> Double { objective == .sft ? sft : dpo }

    /// ‖(f_sft − f_sft*, f_dpo − f_dpo*)‖₂, the paper's ideal distance.
    public func idealDistance(sftLoss: Double, dpoLoss: Double) -> Double {
        let ds = sftLoss - sft, dd = dpoLoss - dpo
        return (ds * ds + dd * dd).squareRoot()
    }
}
