import XCTest
import Engine

/// Gradient checkpointing (`ActivationMemory`): recomputing each layer in the backward pass gives exactly the
/// gradients of keeping its activations, and computing the logits in chunks gives them up to float rounding;
/// for Llama and GPT-NeoX (both residual kinds), full fine-tuning and LoRA, with finite differences on top.
final class ActivationMemoryTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    /// Layers recomputed, logits whole: the same arithmetic in the same order as keeping everything.
    static let recomputeOnly = ActivationMemory(recomputeLayers: true, logitChunkTokens: nil)
    /// Layers recomputed, logits three tokens at a time: several chunks in a small batch, some without a target.
    static let smallChunks = ActivationMemory(recomputeLayers: true, logitChunkTokens: 3)

    /// Prompt tokens are not scored (target −1), as in SFT: whole chunks of them have nothing to compute.
    static let batch = TokenBatch(sequences: [[1, 5, 7, 2, 9, 11, 4, 6, 3], [3, 4, 22, 8, 2], [7, 7, 1, 2, 3, 9, 10]],
                                  scoredFrom: [5, 3, 4])

    /// Per-token weights of a loss that is not a plain mean (DPO weighs sequences by sign and size).
    static func dLogProbs(_ batch: TokenBatch) -> [Float] {
        batch.targets.enumerated().map { i, t in t >= 0 ? Float(i % 3 == 0 ? -0.7 : 0.3) / Float(1 + i % 5) : 0 }
    }

    struct Pass { var logProbs: [Float]; var gradients: [Float]; var logits: [Float] }

    static func pass(_ model: any CausalLanguageModel, _ memory: ActivationMemory) -> Pass {
        model.activationMemory = memory
        let trainable = model.trainableParameters
        trainable.zeroGradients()
        let lp = model.forward(batch)
        let logits = model.lastLogits()
        model.backward(dLogProbs: dLogProbs(batch))
        return Pass(logProbs: lp, gradients: trainable.gradients!.array, logits: logits)
    }

    static func llama(tied: Bool = true, bias: Bool = true) -> Llama {
        let model = LlamaModelTests.randomModel(LlamaModelTests.tinyConfig(heads: 4, kvHeads: 2, tied: tied, bias: bias), seed: 5)
        model.parameters.setTrainable(true)
        return model
    }

    static func neox(parallel: Bool) -> GPTNeoX {
        let model = GPTNeoX(config: GPTNeoXModelTests.tinyConfig(parallel: parallel))
        model.initializeRandomly(seed: 5, std: 0.3)
        model.parameters.setTrainable(true)
        return model
    }

    /// LoRA on every layer the architecture can adapt, with B moved off zero so the adapters' gradients flow.
    static func withAdapters<M: CausalLanguageModel>(_ model: M, targets: [String]) throws -> M {
        try model.attachAdapters(LoRAConfig(rank: 2, alpha: 4, targets: targets), seed: 1)
        var rng = SeededRandom(seed: 8)
        for e in model.trainableParameters.entries where e.name.hasSuffix("lora_B.weight") {
            model.trainableParameters.set(e.name, (0..<e.count).map { _ in 0.3 * rng.nextGaussian() })
        }
        return model
    }

    private func assertCheckpointingMatches(_ model: any CausalLanguageModel, _ label: String,
                                            file: StaticString = #filePath, line: UInt = #line) {
        let kept = Self.pass(model, .keepAll)
        XCTAssertTrue(kept.gradients.contains { $0 != 0 }, "\(label): the loss has a gradient", file: file, line: line)
        let recomputed = Self.pass(model, Self.recomputeOnly)
        XCTAssertEqual(recomputed.logProbs, kept.logProbs, "\(label): recomputation, log-probs", file: file, line: line)
        XCTAssertEqual(recomputed.gradients, kept.gradients, "\(label): recomputation gives bit-identical gradients",
                       file: file, line: line)
        for memory in [Self.smallChunks, .gradientCheckpointing] {
            let chunked = Self.pass(model, memory)
            for (a, b) in zip(chunked.logProbs, kept.logProbs) {
                XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b)), "\(label): chunked log-probs", file: file, line: line)
            }
            let scale = kept.gradients.map { abs($0) }.max()!
            for (i, (a, b)) in zip(chunked.gradients, kept.gradients).enumerated() {
                XCTAssertEqual(a, b, accuracy: 1e-6 * scale, "\(label): chunked gradient \(i)", file: file, line: line)
            }
            XCTAssertEqual(chunked.logits.count, kept.logits.count)
            for (a, b) in zip(chunked.logits, kept.logits) {
                XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b)), "\(label): logits recomputed for lastLogits",
                               file: file, line: line)
            }
        }
        // Back to keeping everything: the workspace regrows and the original arithmetic returns.
        XCTAssertEqual(Self.pass(model, .keepAll).gradients, kept.gradients, "\(label): switching back", file: file, line: line)
    }

    func test_llama_fullFineTuning_tiedWithBiases() { assertCheckpointingMatches(Self.llama(), "llama tied") }

    func test_llama_fullFineTuning_untied() { assertCheckpointingMatches(Self.llama(tied: false, bias: false), "llama untied") }

    func test_llama_lora_allSevenProjections() throws {
        assertCheckpointingMatches(try Self.withAdapters(Self.llama(), targets: Llama.adaptableLayers), "llama LoRA")
    }

    func test_neox_fullFineTuning_bothResiduals() {
        assertCheckpointingMatches(Self.neox(parallel: true), "neox parallel")
        assertCheckpointingMatches(Self.neox(parallel: false), "neox sequential")
    }

    func test_neox_lora_everyLayer() throws {
        assertCheckpointingMatches(try Self.withAdapters(Self.neox(parallel: false), targets: GPTNeoX.adaptableLayers),
                                   "neox LoRA")
    }

    func test_aModelCopy_keepsItsActivationMemory() {
        let model = Self.llama()
        model.activationMemory = .gradientCheckpointing
        XCTAssertEqual(model.baseCopy().activationMemory, .gradientCheckpointing, "a DPO reference saves memory too")
    }

    /// Finite differences on the checkpointed model itself: the recomputed backward pass is the true gradient.
    func test_checkpointedGradients_matchFiniteDifferences() {
        for model in [Self.llama(tied: false) as any CausalLanguageModel, Self.neox(parallel: false)] {
            model.activationMemory = Self.smallChunks
            let p = model.parameters, weights = Self.dLogProbs(Self.batch)
            func loss() -> Double {
                zip(model.forward(Self.batch), weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            p.zeroGradients()
            _ = model.forward(Self.batch)
            model.backward(dLogProbs: weights)
            let eps: Float = 1e-2
            for e in p.entries {
                let grad = p.gradientArray(e.name)!, original = p.array(e.name)
                for i in Set((0..<min(4, e.count)).map { ($0 * 7919 + 13) % e.count }) {
                    var v = original
                    v[i] = original[i] + eps; p.set(e.name, v)
                    let plus = loss()
                    v[i] = original[i] - eps; p.set(e.name, v)
                    let minus = loss()
                    p.set(e.name, original)
                    let numeric = (plus - minus) / Double(2 * eps)
                    XCTAssertEqual(Double(grad[i]), numeric, accuracy: 3e-3 * max(1, abs(numeric)) + 2e-4,
                                   "\(type(of: model)) \(e.name)[\(i)]")
                }
            }
        }
    }
}
