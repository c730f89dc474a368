import CBLAS
import Foundation

/// Measures the engine on this machine: training and forward-only throughput of a preset, and the sgemm peak
/// measured in the same run, so MFU compares like with like.
public struct EngineBenchmarkResult: Codable, Sendable {
    public var preset: String
    /// LoRA rank and targets when the adapters were trained instead of the whole model (nil: full fine-tuning).
    public var loraRank: Int?
    public var loraTargets: [String]?
    /// Layers recomputed in the backward pass and logits computed in chunks (`--gradient-checkpointing`).
    public var gradientCheckpointing: Bool
    public var threads: Int
    public var parameters: Int
    public var batchSize: Int
    public var sequenceLength: Int
    public var steps: Int
    /// Median training tokens/s (forward + backward + clipping + AdamW).
    public var trainTokensPerSecond: Double
    public var forwardTokensPerSecond: Double
    /// Achieved training GFLOP/s counted as 6 · parameters · tokens (the convention of the PyTorch figure).
    public var trainGflops: Double
    /// sgemm GFLOP/s at 2048³, best of several runs before and after the training steps.
    public var sgemmGflops: Double
    public var mfu: Double
    /// GFLOP/s of the matrix products actually executed (linear layers, LM head, attention; forward + backward).
    public var executedGflops: Double
    /// executedGflops / sgemmGflops: how close the whole step runs to the machine's matrix-product peak.
    public var executedMfu: Double
    public var peakRSSMegabytes: Double
    public var stepSecondsMedian: Double
    public var stepSecondsMin: Double
}

public enum EngineBenchmark {
    public static func sgemmPeak(size: Int = 2048, repeats: Int = 5) -> Double {
        let a = FloatBuffer(count: size * size), b = FloatBuffer(count: size * size), c = FloatBuffer(count: size * size)
        var rng = SeededRandom(seed: 1)
        for i in 0..<(size * size) { a[i] = rng.nextUnitFloat() - 0.5; b[i] = rng.nextUnitFloat() - 0.5 }
        var best = 0.0
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(size), Int32(size), Int32(size), 1,
                        a.pointer, Int32(size), b.pointer, Int32(size), 0, c.pointer, Int32(size))
            let s = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = max(best, 2 * Double(size * size * size) / s / 1e9)
        }
        return best
    }

    /// Runs `steps` timed training steps after `warmup` untimed ones; `progress` gets a line per phase/step.
    /// With `lora`, the base model is frozen and only the adapters train (targets empty: the architecture's default).
    /// `activationMemory` is what the model keeps between forward and backward (peak RSS depends on it).
    public static func run(preset: ModelPreset, lora: LoRAConfig? = nil,
                           activationMemory: ActivationMemory = .keepAll, steps: Int = 10, warmup: Int = 2,
                           progress: (String) -> Void = { _ in }) throws -> EngineBenchmarkResult {
        let (T, B) = preset.benchShape
        progress("measuring sgemm peak (2048³)…")
        let peakBefore = sgemmPeak()
        let model = preset.makeModel()
        model.activationMemory = activationMemory
        model.initializeRandomly(seed: 42)
        if let lora { try model.attachAdapters(lora, seed: 43) } else { model.parameters.setTrainable(true) }
        let trainable = model.trainableParameters
        let optimizer = AdamW(config: AdamWConfig(), parameterCount: trainable.count)
        let vocab = model.config.vocabSize
        var rng = SeededRandom(seed: 7)
        let batch = TokenBatch(sequences: (0..<B).map { _ in (0..<T).map { _ in Int(rng.next() % UInt64(vocab)) } })
        let tokens = Double(B * T)
        let dLogProbs = batch.targets.map { $0 >= 0 ? -1 / Float(tokens) : 0 }

        func trainStep() -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            trainable.zeroGradients()
            model.forward(batch)
            model.backward(dLogProbs: dLogProbs)
            Gradients.clip(trainable, maxNorm: 1)
            optimizer.step(trainable, lr: 1e-4)
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
        for i in 0..<warmup {
            progress("warm-up step \(i + 1)/\(warmup)")
            _ = trainStep()
        }
        var times = [Double]()
        for i in 0..<steps {
            let t = trainStep()
            times.append(t)
            progress(String(format: "training step %d/%d: %.3f s, %.0f tokens/s", i + 1, steps, t, tokens / t))
        }
        var forwardTimes = [Double]()
        for i in 0..<max(3, steps / 2) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            model.forward(batch)
            let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            forwardTimes.append(t)
            progress(String(format: "forward %d: %.3f s", i + 1, t))
        }
        // A second peak measurement after the steps: one disturbed measurement must not inflate MFU.
        progress("measuring sgemm peak again…")
        let peak = max(peakBefore, sgemmPeak())
        let median = Self.median(times), forwardMedian = Self.median(forwardTimes)
        let params = Double(model.parameters.scalarCount)
        let gflops = 6 * params * tokens / median / 1e9
        let executed = executedTrainingFlops(model, batch.sequences, frozenBase: lora != nil) / median / 1e9
        return EngineBenchmarkResult(
            preset: preset.rawValue, loraRank: lora?.rank, loraTargets: model.adapters?.config.targets,
            gradientCheckpointing: activationMemory.recomputeLayers, threads: EngineThreads.count,
            parameters: Int(params), batchSize: B,
            sequenceLength: T, steps: steps, trainTokensPerSecond: tokens / median,
            forwardTokensPerSecond: tokens / forwardMedian, trainGflops: gflops, sgemmGflops: peak,
            mfu: gflops / peak, executedGflops: executed, executedMfu: executed / peak, peakRSSMegabytes: peakResidentMegabytes(), stepSecondsMedian: median,
            stepSecondsMin: times.min() ?? median)
    }

    /// FLOPs of one training step's matrix products: forward 2·tokens·(block matrices + LM head) plus attention
    /// 4·L²·width per layer and sequence (scores and weighted sum, full square); backward does twice the forward,
    /// or once with a frozen base (LoRA: no weight gradients; the adapters' small products are not counted).
    /// Gradient checkpointing runs the forward pass once more (all layers but the last, and the LM head).
    public static func executedTrainingFlops(_ model: some CausalLanguageModel, _ seqs: PackedSequences,
                                             frozenBase: Bool = false) -> Double {
        let c = model.config
        let blockMatrices = model.parameters.entries.filter { $0.shape.count == 2 && $0.name.contains("layers.") }
            .reduce(0.0) { $0 + Double($1.count) }
        let linear = blockMatrices + Double(c.vocabSize * c.hiddenSize)
        let attention = Double(c.numLayers) * seqs.lengths.reduce(0.0) { $0 + 4 * Double($1 * $1) * Double(c.hiddenSize) }
        let forward = 2 * Double(seqs.tokenCount) * linear + attention
        var recomputed = 0.0
        if model.activationMemory.recomputeLayers, c.numLayers > 0 {
            recomputed += (2 * Double(seqs.tokenCount) * blockMatrices + attention) * Double(c.numLayers - 1) / Double(c.numLayers)
        }
        if model.activationMemory.logitChunkTokens != nil {
            recomputed += 2 * Double(seqs.tokenCount) * Double(c.vocabSize * c.hiddenSize)
        }
        return (frozenBase ? 2 : 3) * forward + recomputed
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
    }

    /// Peak resident set size of this process (getrusage; kilobytes on Linux).
    public static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
