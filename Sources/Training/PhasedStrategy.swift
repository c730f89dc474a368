import Engine

/// One objective per epoch: the sequential baselines (`sft-then-dpo`, `dpo-then-sft`: the budget split by λ,
/// see `SequentialSchedule`) and the single-objective runs (`sft-only`, `dpo-only`) that give f*.
/// Each step trains the epoch's objective with weight 1.
struct PhasedStrategy: TrainingStrategy {
    let name: StrategyName
    private var phase: Objective?

    init(name: StrategyName, phase: Objective?) {
        self.name = name
        self.phase = phase
    }

    var state: StrategyState { StrategyState(name: name, phase: phase) }

    var requiredObjectives: [Objective] {
        switch name {
        case .sftOnly: return [.sft]
        case .dpoOnly: return [.dpo]
        default: return [.sft, .dpo]
        }
    }

    func objective(forEpoch epoch: Int, lambda: Lambda, epochBudget: Int) -> Objective {
        switch name {
        case .sftOnly: return .sft
        case .dpoOnly: return .dpo
        case .dpoThenSFT: return SequentialSchedule(first: .dpo, lambda: lambda, epochBudget: epochBudget).objective(forEpoch: epoch)
        default: return SequentialSchedule(first: .sft, lambda: lambda, epochBudget: epochBudget).objective(forEpoch: epoch)
        }
    }

    mutating func beginEpoch(_ epoch: Int, lambda: Lambda, epochBudget: Int) -> [Objective] {
        let objective = objective(forEpoch: epoch, lambda: lambda, epochBudget: epochBudget)
        phase = objective
        return [objective]
    }

    /// A strategy switched to mid-epoch takes the objective its schedule gives the current epoch.
    mutating func adopt(epoch: Int, lambda: Lambda, epochBudget: Int) {
        phase = objective(forEpoch: epoch, lambda: lambda, epochBudget: epochBudget)
    }

    mutating func step(_ context: StepContext) throws -> StrategyStepNote {
        guard let phase else { throw SessionError.internalInconsistency("\(name) stepped before its epoch began") }
        try context.train(phase, weight: 1)
        return StrategyStepNote()
    }
}

/// Builds strategies fresh or from a checkpoint's state.
enum StrategyFactory {
    /// A new strategy starting at `step` of epoch `epoch` (the run's start, or a switch mid-run).
    static func make(_ name: StrategyName, seed: UInt64, step: Int, epoch: Int, lambda: Lambda,
                     epochBudget: Int) -> TrainingStrategy {
        switch name {
        case .alright:
            // A fresh, reproducible stream per start point: the same switch at the same step draws the same.
            return AlrightStrategy(rng: SeededRandom(seed: seed, stream: 0xA1_0000 &+ UInt64(step)))
        case .maxright:
            return MaxrightStrategy(staleExcess: nil)
        case .mix:
            return MixStrategy()
        case .sftThenDPO, .dpoThenSFT, .sftOnly, .dpoOnly:
            var phased = PhasedStrategy(name: name, phase: nil)
            phased.adopt(epoch: epoch, lambda: lambda, epochBudget: epochBudget)
            return phased
        }
    }

    static func restore(_ state: StrategyState, file: String) throws -> TrainingStrategy {
        switch state.name {
        case .alright:
            guard let rng = state.rng else {
                throw CheckpointError.incompatible(file: file, field: "strategy.rng", expected: "ALRIGHT's RNG state", found: "none")
            }
            return AlrightStrategy(rng: rng)
        case .maxright: return MaxrightStrategy(staleExcess: state.staleExcess)
        case .mix: return MixStrategy()
        case .sftThenDPO, .dpoThenSFT, .sftOnly, .dpoOnly: return PhasedStrategy(name: state.name, phase: state.phase)
        }
    }
}
