/// MAXRIGHT (XRIGHT `sft_dpo_maxright_trainer.py`): keep stale weighted gaps g_sft = (1−λ)(f_sft − f_sft*) and
/// g_dpo = λ(f_dpo − f_dpo*); recompute both, without gradient, on the current batches at the first step and
/// every k-th step of an epoch; step on argmax g (SFT on a tie, as `np.argmax`); then refresh the stepped
/// objective's gap with that step's pre-update loss. Both loaders advance every step.
struct MaxrightStrategy: TrainingStrategy {
    private var staleExcess: LossExcess?

    init(staleExcess: LossExcess?) {
        self.staleExcess = staleExcess
    }

    var state: StrategyState { StrategyState(name: .maxright, staleExcess: staleExcess) }
    var requiredObjectives: [Objective] { [.sft, .dpo] }

    mutating func beginEpoch(_ epoch: Int, lambda: Lambda, epochBudget: Int) -> [Objective] { [.sft, .dpo] }

    mutating func step(_ context: StepContext) throws -> StrategyStepNote {
        let periodic = context.maxEvalSteps.map { context.stepInEpoch % $0 == 0 } ?? false
        let evaluate = staleExcess == nil || periodic
        if evaluate {
            let sft = try context.measure(.sft).loss - context.optima.sft
            let dpo = try context.measure(.dpo).loss - context.optima.dpo
            staleExcess = LossExcess(sft: sft, dpo: dpo)
        }
        let gaps = state.weightedGaps(lambda: context.lambda)!
        let chosen: Objective = gaps.dpo > gaps.sft ? .dpo : .sft
        let metrics = try context.train(chosen, weight: 1)
        context.skip(chosen.other)
        // A non-finite loss would poison every later argmax; the stale value stays until a finite one arrives.
        if metrics.loss.isFinite {
            staleExcess![chosen] = metrics.loss - context.optima[chosen]
        }
        return StrategyStepNote(gaps: gaps, gapsEvaluated: evaluate)
    }
}
