/// Mix (XRIGHT `sft_dpo_mix_trainer.py`): both batches every step and one update from
/// ∇[(1−λ)·f_sft + λ·f_dpo]; both loaders advance.
struct MixStrategy: TrainingStrategy {
    var state: StrategyState { StrategyState(name: .mix) }
    var requiredObjectives: [Objective] { [.sft, .dpo] }

    mutating func beginEpoch(_ epoch: Int, lambda: Lambda, epochBudget: Int) -> [Objective] { [.sft, .dpo] }

    mutating func step(_ context: StepContext) throws -> StrategyStepNote {
        try context.train(.sft, weight: context.lambda.sftWeight)
        try context.train(.dpo, weight: context.lambda.dpoWeight)
        return StrategyStepNote()
    }
}
