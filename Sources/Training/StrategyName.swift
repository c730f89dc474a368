import Foundation

/// The `--strategy` names (docs/DESIGN.md §1).
public enum StrategyName: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// Draw DPO with probability λ, else SFT; step on that batch.
    case alright
    /// Step on the objective with the larger stale weighted gap to its optimum.
    case maxright
    /// One update from λ·∇f_dpo + (1−λ)·∇f_sft.
    case mix
    /// The epoch budget split by λ: (1−λ)·T SFT epochs, then λ·T DPO epochs.
    case sftThenDPO = "sft-then-dpo"
    /// λ·T DPO epochs, then (1−λ)·T SFT epochs.
    case dpoThenSFT = "dpo-then-sft"
    /// SFT alone (gives f_sft*).
    case sftOnly = "sft-only"
    /// DPO alone (gives f_dpo*).
    case dpoOnly = "dpo-only"

    public var description: String { rawValue }

    public init(parsing text: String) throws {
        guard let name = StrategyName(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw StrategyNameError.unknown(text)
        }
        self = name
    }

    /// Whether the strategy reads both loaders during an epoch (the epoch is then as long as the SFT source, as
    /// in the official trainers); sequential and single-objective strategies read one.
    public var isJoint: Bool {
        switch self {
        case .alright, .maxright, .mix: return true
        case .sftThenDPO, .dpoThenSFT, .sftOnly, .dpoOnly: return false
        }
    }
}

public enum StrategyNameError: Error, Equatable, CustomStringConvertible {
    case unknown(String)

    public var description: String {
        switch self {
        case .unknown(let s):
            return "unknown strategy '\(s)'; expected one of: "
                + StrategyName.allCases.map(\.rawValue).joined(separator: ", ")
        }
    }
}
