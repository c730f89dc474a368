import Engine

/// ALRIGHT (XRIGHT `sft_dpo_alright_trainer.py`): each step draws DPO with probability λ, else SFT, and steps on
/// that objective's next batch; only the drawn loader advances.
struct AlrightStrategy: TrainingStrategy {
    private var rng: SeededRandom

    init(rng: SeededRandom) {
        self.rng = rng
    }

    var state: StrategyState { StrategyState(name: .alright, rng: rng) }
    var requiredObjectives: [Objective] { [.sft, .dpo] }

    mutating func beginEpoch(_ epoch: Int, lambda: Lambda, epochBudget: Int) -> [Objective] { [.sft, .dpo] }

    mutating func step(_ context: StepContext) throws -> StrategyStepNote {
        // u ∈ [0,1): λ = 0 never draws DPO, λ = 1 always does.
        let objective: Objective = rng.nextUnitDouble() < context.lambda.value ? .dpo : .sft
        try context.train(objective, weight: 1)
        return StrategyStepNote()
    }
}
