/// How each command changes the session; every one is logged as applied or refused (with the reason).
extension TrainingSession {
    func apply(_ command: SessionCommand) {
        if let reason = refusal(of: command) {
            emit(.commandRefused(CommandRefused(step: state.step, command: command, reason: reason)))
            return
        }
        emit(.commandApplied(CommandApplied(step: state.step, command: command)))
        switch command {
        case .setLambda(let lambda):
            let previous = state.lambda
            state.lambda = lambda
            checkpointIsCurrent = false
            emit(.lambdaChanged(LambdaChanged(step: state.step, from: previous, to: lambda)))
        case .pause:
            runState.pause()
            emit(.paused(PauseChange(step: state.step)))
            try? log?.flush()
        case .resume:
            runState.resume()
            emit(.resumed(PauseChange(step: state.step)))
        case .stepOnce:
            runState.grantStep()
        case .evaluateNow:
            evaluateHeldOut()
        case .checkpointNow:
            saveCheckpoint()
        case .stop:
            finish(.stopped, "stopped by command at step \(state.step)")
        case .switchStrategy(let name):
            let previous = strategy.state.name
            strategy = StrategyFactory.make(name, seed: config.seed, step: state.step, epoch: state.epoch,
                                            lambda: state.lambda, epochBudget: config.maxEpochs)
            state.strategy = strategy.state
            checkpointIsCurrent = false
            emit(.strategyChanged(StrategyChanged(step: state.step, from: previous, to: name)))
        case .sampleNow:
            sample(reason: .command)
        }
    }

    private func refusal(of command: SessionCommand) -> String? {
        switch command {
        case .pause where paused: return "already paused"
        case .resume where !paused: return "not paused"
        case .stepOnce where !paused: return "step-once applies while paused; pause first"
        case .sampleNow where probes == nil: return "this run samples no replies (no probe prompts, or --sample-every 0)"
        case .checkpointNow where checkpoints == nil: return "this session has no run directory to write checkpoints to"
        case .switchStrategy(let name):
            if name == strategy.state.name { return "already running \(name)" }
            let probe = StrategyFactory.make(name, seed: 0, step: 0, epoch: 0, lambda: state.lambda, epochBudget: config.maxEpochs)
            if let missing = probe.requiredObjectives.first(where: { sources[$0] == nil }) {
                return "\(name) needs \(missing == .sft ? "SFT" : "preference") training data, which this run does not have"
            }
            return nil
        default: return nil
        }
    }
}
