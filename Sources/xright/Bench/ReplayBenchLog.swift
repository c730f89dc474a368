import Engine
import Foundation
import Training

/// A long run log for `xright bench replay`, written with the real writer so its lines are byte-for-byte what
/// a run writes: an ALRIGHT run whose losses fall with noise, a held-out eval every 1,000 steps, a λ change
/// (command-applied + lambda-changed) every 20,000, a pause and resume every 100,000, a checkpoint every 50,000,
/// and a finish. Seeded: the same count gives the same file.
enum ReplayBenchLog {
    static func write(to url: URL, events: Int, progress: (Int) -> Void) throws {
        let config = TrainingConfig(strategy: .alright, lambda: try Lambda(0.5), seed: 7, maxEpochs: 1,
                                    evalEvery: 1000, checkpointEvery: 50_000)
        let header = RunHeader(programVersion: XRightVersion.string, createdAt: "2026-11-26T00:00:00Z", seed: 7,
                               config: config, modelFingerprint: "bench-replay", dataFingerprints: ["sft": "synthetic", "dpo": "synthetic"],
                               settings: ["model": "synthetic (bench replay)"], plannedSteps: events)
        let writer = try RunLogWriter(creating: url, header: header)
        var random = SeededRandom(seed: 7)
        var written = 1, step = 0, time = 0.0, lambda: Lambda = 0.5
        func emit(_ event: RunEvent) throws {
            try writer.append(RunRecord(time: time, event: event))
            written += 1
            if written % 50_000 == 0 { progress(written) }
        }
        try emit(.started(SessionStarted(step: 0, strategy: .alright, lambda: lambda)))
        // Leave room for the finish line.
        while written < events - 1 {
            step += 1
            let stepSeconds = 0.09 + 0.02 * random.nextUnitDouble()
            time += stepSeconds
            let dpo = random.nextUnitDouble() < lambda.value
            let decay = exp(-Double(step) / 200_000)
            let metrics = ObjectiveMetrics(loss: (dpo ? 0.35 + 0.34 * decay : 1.2 + 4.5 * decay) + 0.05 * (random.nextUnitDouble() - 0.5),
                                           tokens: 700 + Int(random.nextUnitDouble() * 40),
                                           preference: dpo ? PreferenceMetrics(chosenReward: 0.4, rejectedReward: 0.1, rewardAccuracy: 0.75, margin: 0.3) : nil)
            try emit(.step(StepEvent(step: step, epoch: 0, strategy: .alright, objectives: [dpo ? .dpo : .sft],
                                     sft: dpo ? nil : metrics, dpo: dpo ? metrics : nil, lambda: lambda,
                                     learningRate: 1e-3, tokens: metrics.tokens, tokensPerSecond: Double(metrics.tokens) / stepSeconds,
                                     stepSeconds: stepSeconds, elapsedSeconds: time, updateApplied: true,
                                     gradientNorm: 0.5 + random.nextUnitDouble())))
            guard written < events - 1 else { break }
            if step % 1000 == 0 {
                time += 0.3
                try emit(.eval(EvalEvent(step: step, sft: ObjectiveMetrics(loss: 1.3 + 4.4 * decay, tokens: 1800),
                                         dpo: ObjectiveMetrics(loss: 0.4 + 0.3 * decay, tokens: 3700), seconds: 0.3)))
            }
            if step % 20_000 == 0, written < events - 3 {
                let next: Lambda = lambda == 0.5 ? 0.7 : 0.5
                try emit(.commandApplied(CommandApplied(step: step, command: .setLambda(next))))
                try emit(.lambdaChanged(LambdaChanged(step: step, from: lambda, to: next)))
                lambda = next
            }
            if step % 50_000 == 0, written < events - 2 {
                try emit(.checkpointSaved(CheckpointSaved(step: step, path: "checkpoints/step-\(step)", seconds: 0.2)))
            }
            if step % 100_000 == 0, written < events - 3 {
                try emit(.paused(PauseChange(step: step)))
                time += 5
                try emit(.resumed(PauseChange(step: step)))
            }
        }
        try emit(.finished(RunFinished(step: step, reason: .maxSteps, message: "synthetic run for bench replay")))
        try writer.close()
    }
}
