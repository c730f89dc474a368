import Foundation
import Training

/// A CPU-bound stand-in for the engine, for `xright bench tui` only: each evaluation does a fixed amount of
/// arithmetic per token (calibrated once), so a dashboard that steals CPU from training shows up as lost
/// tokens/s, and the losses follow smooth decaying curves with seeded noise so the charts have something to
/// draw. It trains nothing; `xright bench tui` says so in its output. Replace with the engine backend when the
/// demo model lands (`BenchTUILoad.makeSession`).
final class SyntheticLoadBackend: TrainingBackend {
    struct Batch: TrainingBatch { let tokenCount: Int; let position: BatchPosition }

    private let iterationsPerToken: Int
    private var updates: [Objective: Int] = [.sft: 0, .dpo: 0]
    private var noise = SplitMix(seed: 7)
    private var scratch = [Float](repeating: 1, count: 256)
    var learningRate: Double { 5e-5 }

    init(iterationsPerToken: Int) {
        self.iterationsPerToken = iterationsPerToken
    }

    /// Iterations of `burn` that take about `seconds` on this machine.
    static func calibrate(tokensPerStep: Int, secondsPerStep: Double) -> Int {
        let probe = SyntheticLoadBackend(iterationsPerToken: 1)
        let trial = 200_000
        let start = DispatchTime.now().uptimeNanoseconds
        probe.burn(trial)
        let seconds = max(1e-6, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        return max(1, Int(Double(trial) / seconds * secondsPerStep / Double(tokensPerStep)))
    }

    /// Dependent multiply-adds over a small buffer: the compiler cannot drop them, the cache holds them.
    func burn(_ iterations: Int) {
        scratch.withUnsafeMutableBufferPointer { b in
            var acc: Float = 1
            for i in 0..<iterations {
                let j = i & 255
                acc = acc * 0.999_9 + b[j] * 1e-4
                b[j] = acc
            }
        }
    }

    private func loss(_ objective: Objective) -> Double {
        let t = Double(updates[objective] ?? 0)
        let (floor, start, rate) = objective == .sft ? (1.9, 4.5, 0.004) : (0.25, 0.6931, 0.006)
        return floor + (start - floor) * exp(-rate * t) + 0.08 * (noise.nextUnit() - 0.5) * (objective == .sft ? 1 : 0.5)
    }

    func evaluate(_ objective: Objective, batch: any TrainingBatch, gradientWeight: Double?) throws -> ObjectiveMetrics {
        burn(batch.tokenCount * iterationsPerToken)
        if gradientWeight != nil { updates[objective, default: 0] += 1 }
        let value = loss(objective)
        if objective == .dpo {
            let margin = max(0, 0.6931 - value) * 4
            return ObjectiveMetrics(loss: value, tokens: batch.tokenCount,
                                    preference: PreferenceMetrics(chosenReward: margin / 2, rejectedReward: -margin / 2,
                                                                  rewardAccuracy: min(1, 0.5 + margin / 4), margin: margin))
        }
        return ObjectiveMetrics(loss: value, tokens: batch.tokenCount)
    }

    func applyUpdate() throws -> UpdateOutcome { .applied(gradientNorm: 1) }
    func discardGradients() {}

    func evaluateHeldOut(_ objective: Objective) throws -> ObjectiveMetrics {
        ObjectiveMetrics(loss: loss(objective) + 0.05, tokens: 0)
    }

    func saveState(to directory: URL) throws {
        let text = "\(updates[.sft] ?? 0) \(updates[.dpo] ?? 0)"
        try Data(text.utf8).write(to: directory.appendingPathComponent("synthetic-load.txt"))
    }

    func loadState(from directory: URL) throws {
        let text = try String(contentsOf: directory.appendingPathComponent("synthetic-load.txt"), encoding: .utf8)
        let parts = text.split(separator: " ").compactMap { Int($0) }
        guard parts.count == 2 else { throw CocoaError(.fileReadCorruptFile) }
        updates = [.sft: parts[0], .dpo: parts[1]]
    }
}

final class SyntheticBatchSource: BatchSource {
    let epochLength: Int
    let shuffleSeed: UInt64
    let tokensPerBatch: Int

    init(epochLength: Int, shuffleSeed: UInt64, tokensPerBatch: Int) {
        self.epochLength = epochLength
        self.shuffleSeed = shuffleSeed
        self.tokensPerBatch = tokensPerBatch
    }

    func batch(at position: BatchPosition) throws -> any TrainingBatch {
        SyntheticLoadBackend.Batch(tokenCount: tokensPerBatch, position: position)
    }
}

/// SplitMix64 (Steele et al. 2014): a tiny seeded generator for the stand-in's noise.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

enum BenchTUILoad {
    /// A session on the synthetic load: `steps` steps of about `secondsPerStep` each.
    static func makeSession(strategy: StrategyName = .alright, lambda: Double = 0.5, steps: Int,
                            secondsPerStep: Double, tokensPerBatch: Int = 512, runDirectory: URL? = nil,
                            iterationsPerToken: Int? = nil) throws -> (TrainingSession, Int) {
        let iterations = iterationsPerToken
            ?? SyntheticLoadBackend.calibrate(tokensPerStep: tokensPerBatch, secondsPerStep: secondsPerStep)
        let config = TrainingConfig(strategy: strategy, lambda: try Lambda(lambda), maxEpochs: 1, maxSteps: steps,
                                    evalEvery: max(1, steps / 20), optima: Optima(sft: 1.9, dpo: 0.25))
        let sources = ObjectiveSources(
            sft: SyntheticBatchSource(epochLength: steps, shuffleSeed: 1, tokensPerBatch: tokensPerBatch),
            dpo: SyntheticBatchSource(epochLength: steps, shuffleSeed: 2, tokensPerBatch: tokensPerBatch))
        let session = try TrainingSession(
            config: config, backend: SyntheticLoadBackend(iterationsPerToken: iterations), sources: sources,
            runDirectory: runDirectory.map(RunDirectory.init),
            identity: RunIdentity(programVersion: XRightVersion.string, modelFingerprint: "synthetic-load",
                                  settings: ["beta": "0.1", "backend": "synthetic-load"]))
        return (session, iterations)
    }
}
