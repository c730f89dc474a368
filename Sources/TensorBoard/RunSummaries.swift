import Training

/// What a run-log record shows in TensorBoard: scalars (losses, evaluation figures, λ, learning rate, gradient norm,
/// tokens/s, the objective choice) and text (the run's settings, commands, warnings, how it ended). Tags are
/// grouped by prefix, which TensorBoard turns into sections; the table is in docs/TENSORBOARD.md.
public enum RunSummaries {
    public enum Value: Equatable {
        case scalar(Double)
        case text(String)
    }

    public struct Item: Equatable {
        public var tag: String
        public var value: Value

        public init(tag: String, value: Value) {
            self.tag = tag
            self.value = value
        }
    }

    /// The items of one record, at `step`; empty for records TensorBoard has nothing to show for.
    public static func items(_ event: RunEvent) -> (step: Int, items: [Item])? {
        switch event {
        case .header(let header): return (0, [Item(tag: "run/settings", value: .text(settingsText(header)))])
        case .started(let s):
            var text = "started at step \(s.step): \(s.strategy.rawValue), λ = \(s.lambda)"
            if let from = s.resumedFrom { text += ", resumed from \(from)" }
            return (s.step, [Item(tag: "run/events", value: .text(text))])
        case .step(let s): return (s.step, stepItems(s))
        case .eval(let e):
            var items = [Item]()
            if let sft = e.sft { items.append(Item(tag: "eval/sft_loss", value: .scalar(sft.loss))) }
            if let dpo = e.dpo { items.append(Item(tag: "eval/dpo_loss", value: .scalar(dpo.loss))) }
            if let d = e.idealDistance { items.append(Item(tag: "eval/ideal_distance", value: .scalar(d))) }
            return (e.step, items)
        case .commandApplied(let c):
            return (c.step, [Item(tag: "run/commands", value: .text("applied: \(c.command.description)"))])
        case .commandRefused(let c):
            return (c.step, [Item(tag: "run/commands", value: .text("refused: \(c.command.description) (\(c.reason))"))])
        case .strategyChanged(let c):
            return (c.step, [Item(tag: "run/events", value: .text("strategy \(c.from.rawValue) → \(c.to.rawValue)"))])
        case .warning(let w):
            return (w.step, [Item(tag: "run/warnings", value: .text("\(w.kind.rawValue): \(w.message)"))])
        case .telemetry(let t):
            var items = [Item]()
            for gpu in t.gpus {
                let prefix = "gpu/\(gpu.host)-\(gpu.index)"
                if let u = gpu.utilization { items.append(Item(tag: "\(prefix)/utilization", value: .scalar(u))) }
                if let m = gpu.memoryUsedBytes { items.append(Item(tag: "\(prefix)/memory_used_bytes", value: .scalar(Double(m)))) }
                if let c = gpu.temperatureC { items.append(Item(tag: "\(prefix)/temperature_c", value: .scalar(c))) }
                if let p = gpu.powerWatts { items.append(Item(tag: "\(prefix)/power_watts", value: .scalar(p))) }
            }
            return (t.step, items)
        case .finished(let f):
            let text = "finished at step \(f.step): \(f.reason.rawValue)" + (f.message.isEmpty ? "" : " (\(f.message))")
            return (f.step, [Item(tag: "run/events", value: .text(text))])
        case .sample(let s):
            // TensorBoard's text tab: the probe's reply at each step it was sampled.
            return (s.step, [Item(tag: "samples/probe_\(s.probe)", value: .text("\(s.prompt)\n\n→ \(s.reply)"))])
        case .lambdaChanged, .paused, .resumed, .checkpointSaved, .progress, .unknown:
            // λ is a scalar of every step; pauses and checkpoints are the run's business, not a curve's.
            return nil
        }
    }

    static func stepItems(_ s: StepEvent) -> [Item] {
        var items = [Item]()
        func scalar(_ tag: String, _ value: Double) { items.append(Item(tag: tag, value: .scalar(value))) }
        if let sft = s.sft { scalar("sft/loss", sft.loss) }
        if let dpo = s.dpo {
            scalar("dpo/loss", dpo.loss)
            if let p = dpo.preference {
                scalar("dpo/chosen_reward", p.chosenReward)
                scalar("dpo/rejected_reward", p.rejectedReward)
                scalar("dpo/reward_accuracy", p.rewardAccuracy)
                scalar("dpo/margin", p.margin)
            }
        }
        scalar("train/lambda", s.lambda.value)
        scalar("train/learning_rate", s.learningRate)
        if let g = s.gradientNorm { scalar("train/gradient_norm", g) }
        scalar("train/tokens_per_second", s.tokensPerSecond)
        // The objective choice: 1 when that objective's gradient went into the update (both for mix).
        scalar("objective/sft", s.objectives.contains(.sft) ? 1 : 0)
        scalar("objective/dpo", s.objectives.contains(.dpo) ? 1 : 0)
        if let gaps = s.gaps {
            scalar("maxright/gap_sft", gaps.sft)
            scalar("maxright/gap_dpo", gaps.dpo)
        }
        return items
    }

    static func settingsText(_ header: RunHeader) -> String {
        var lines = ["strategy: \(header.config.strategy.rawValue)", "λ: \(header.config.lambda)",
                     "seed: \(header.seed)", "model: \(header.modelFingerprint)", "program: \(header.programVersion)"]
        for (key, value) in header.settings.sorted(by: { $0.key < $1.key }) { lines.append("\(key): \(value)") }
        return lines.joined(separator: "\n")
    }
}
