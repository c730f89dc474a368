import Prometheus
import Training

/// A live run's figures as Prometheus metrics, folded from its events: the latest step's losses, λ, learning
/// rate, gradient norm and throughput as gauges; steps per objective, tokens, warnings and commands as counters.
/// Every metric carries `run="<run directory name>"`, so one Prometheus can watch many runs.
public final class RunMetrics: @unchecked Sendable {
    public let registry: PrometheusCollectorRegistry
    private let step, lambda, learningRate, gradientNorm, tokensPerSecond: Gauge
    private let sftLoss, dpoLoss, rewardAccuracy, margin, gapSFT, gapDPO: Gauge
    private let evalSFT, evalDPO, idealDistance, paused, finished: Gauge
    private let sftSteps, dpoSteps, tokens, warnings, commandsApplied, commandsRefused: Counter

    public init(run: String) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        let labels = [("run", run)]
        func gauge(_ name: String, _ help: String, _ extra: [(String, String)] = []) -> Gauge {
            registry.makeGauge(name: "xright_" + name, labels: labels + extra, help: help)
        }
        func counter(_ name: String, _ help: String, _ extra: [(String, String)] = []) -> Counter {
            registry.makeCounter(name: "xright_" + name, labels: labels + extra, help: help)
        }
        step = gauge("step", "Optimizer steps completed.")
        lambda = gauge("lambda", "λ, the weight or probability of DPO.")
        learningRate = gauge("learning_rate", "Learning rate of the latest step.")
        gradientNorm = gauge("gradient_norm", "Global gradient norm of the latest step (before clipping).")
        tokensPerSecond = gauge("tokens_per_second", "Tokens processed per second in the latest step.")
        sftLoss = gauge("loss", "Training loss of the latest step that trained the objective.", [("objective", "sft")])
        dpoLoss = gauge("loss", "Training loss of the latest step that trained the objective.", [("objective", "dpo")])
        rewardAccuracy = gauge("dpo_reward_accuracy", "Share of pairs whose chosen reply got the higher reward (latest DPO step).")
        margin = gauge("dpo_margin", "Mean reward margin, chosen minus rejected (latest DPO step).")
        gapSFT = gauge("maxright_gap", "MAXRIGHT's weighted gap of the objective.", [("objective", "sft")])
        gapDPO = gauge("maxright_gap", "MAXRIGHT's weighted gap of the objective.", [("objective", "dpo")])
        evalSFT = gauge("eval_loss", "Held-out loss at the latest evaluation.", [("objective", "sft")])
        evalDPO = gauge("eval_loss", "Held-out loss at the latest evaluation.", [("objective", "dpo")])
        idealDistance = gauge("eval_ideal_distance", "Distance to the ideal point (f_sft*, f_dpo*) at the latest evaluation.")
        paused = gauge("paused", "1 while the run is paused.")
        finished = gauge("finished", "1 once the run has finished.")
        sftSteps = counter("objective_steps_total", "Steps whose update took the objective's gradient.", [("objective", "sft")])
        dpoSteps = counter("objective_steps_total", "Steps whose update took the objective's gradient.", [("objective", "dpo")])
        tokens = counter("tokens_total", "Tokens processed.")
        warnings = counter("warnings_total", "Warnings (non-finite losses or gradients, failed checkpoints, …).")
        commandsApplied = counter("commands_total", "Commands sent to the run.", [("result", "applied")])
        commandsRefused = counter("commands_total", "Commands sent to the run.", [("result", "refused")])
    }

    /// Called on the training thread for every event; each update is an atomic store.
    public func observe(_ record: RunRecord) {
        switch record.event {
        case .header(let header): lambda.set(to: header.config.lambda.value)
        case .started(let s):
            step.set(to: Double(s.step))
            lambda.set(to: s.lambda.value)
            paused.set(to: 0)
        case .step(let s):
            step.set(to: Double(s.step))
            lambda.set(to: s.lambda.value)
            learningRate.set(to: s.learningRate)
            if let g = s.gradientNorm { gradientNorm.set(to: g) }
            tokensPerSecond.set(to: s.tokensPerSecond)
            tokens.increment(by: Int64(s.tokens))
            if let sft = s.sft { sftLoss.set(to: sft.loss) }
            if let dpo = s.dpo {
                dpoLoss.set(to: dpo.loss)
                if let p = dpo.preference {
                    rewardAccuracy.set(to: p.rewardAccuracy)
                    margin.set(to: p.margin)
                }
            }
            if s.objectives.contains(.sft) { sftSteps.increment() }
            if s.objectives.contains(.dpo) { dpoSteps.increment() }
            if let gaps = s.gaps {
                gapSFT.set(to: gaps.sft)
                gapDPO.set(to: gaps.dpo)
            }
        case .eval(let e):
            if let sft = e.sft { evalSFT.set(to: sft.loss) }
            if let dpo = e.dpo { evalDPO.set(to: dpo.loss) }
            if let d = e.idealDistance { idealDistance.set(to: d) }
        case .lambdaChanged(let c): lambda.set(to: c.to.value)
        case .commandApplied: commandsApplied.increment()
        case .commandRefused: commandsRefused.increment()
        case .warning: warnings.increment()
        case .paused: paused.set(to: 1)
        case .resumed: paused.set(to: 0)
        case .finished(let f):
            step.set(to: Double(f.step))
            finished.set(to: 1)
        case .strategyChanged, .checkpointSaved, .telemetry, .sample, .progress, .unknown: break
        }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    public func exposition() -> String { registry.emitToString() }
}
