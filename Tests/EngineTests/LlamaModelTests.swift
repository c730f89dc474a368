import XCTest
import Engine

/// The Llama model as a whole: gradients by finite differences (GQA, tied and untied, biases, llama3 rope),
/// packing invariance, LoRA on every projection.
final class LlamaModelTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    static func tinyConfig(heads: Int = 4, kvHeads: Int = 2, tied: Bool = false, bias: Bool = false,
                           llama3: Bool = false) -> LlamaConfig {
        LlamaConfig(vocabSize: 23, hiddenSize: 16, numLayers: 2, numHeads: heads, numKVHeads: kvHeads,
                    headDim: 16 / heads % 2 == 0 ? 16 / heads : 4, intermediateSize: 20, ropeTheta: 500,
                    llama3Scaling: llama3 ? Llama3RopeScaling(factor: 4, lowFreqFactor: 1, highFreqFactor: 4,
                                                              originalMaxPositions: 16) : nil,
                    maxPositions: 32, rmsNormEps: 1e-5, tieWordEmbeddings: tied, qkvBias: bias, outputBias: bias)
    }

    /// Mean next-token cross-entropy, and its per-token gradient for `backward`.
    static func meanLoss(_ model: Llama, _ batch: TokenBatch) -> (loss: Double, dLogProbs: [Float]) {
        let lp = model.forward(batch)
        let scored = batch.targets.filter { $0 >= 0 }.count
        let loss = -zip(lp, batch.targets).reduce(0.0) { $0 + ($1.1 >= 0 ? Double($1.0) : 0) } / Double(scored)
        return (loss, batch.targets.map { $0 >= 0 ? -1 / Float(scored) : 0 })
    }

    static func randomModel(_ config: LlamaConfig, seed: UInt64) -> Llama {
        let model = Llama(config: config)
        model.initializeRandomly(seed: seed, std: 0.3)
        // Non-trivial norm weights and biases so every term of the backward pass is exercised.
        var rng = SeededRandom(seed: seed &+ 99)
        for e in model.parameters.entries where e.name.contains("norm") || e.name.hasSuffix(".bias") {
            model.parameters.set(e.name, (0..<e.count).map { _ in 1 + 0.3 * rng.nextGaussian() })
        }
        return model
    }

    /// Central differences on a spread of coordinates of every tensor in `parameters`.
    private func checkGradients(_ model: Llama, _ parameters: ParameterSet, _ label: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        let batch = TokenBatch(sequences: [[1, 5, 7, 2, 9, 11, 4], [3, 4, 22, 8]])
        parameters.zeroGradients()
        let (_, d) = Self.meanLoss(model, batch)
        model.backward(dLogProbs: d)
        let eps: Float = 1e-2
        for e in parameters.entries {
            let grad = parameters.gradientArray(e.name)!, original = parameters.array(e.name)
            for i in Set((0..<min(5, e.count)).map { ($0 * 7919 + 13) % e.count }) {
                var v = original
                v[i] = original[i] + eps; parameters.set(e.name, v)
                let plus = Self.meanLoss(model, batch).loss
                v[i] = original[i] - eps; parameters.set(e.name, v)
                let minus = Self.meanLoss(model, batch).loss
                parameters.set(e.name, original)
                let numeric = (plus - minus) / Double(2 * eps)
                XCTAssertEqual(Double(grad[i]), numeric, accuracy: 3e-3 * max(1, abs(numeric)) + 2e-4,
                               "\(label): \(e.name)[\(i)]", file: file, line: line)
            }
        }
    }

    private func checkModel(_ config: LlamaConfig, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let model = Self.randomModel(config, seed: 7)
        model.parameters.setTrainable(true)
        checkGradients(model, model.parameters, label, file: file, line: line)
    }

    func test_gradients_GQA4to2_untied() { checkModel(Self.tinyConfig(heads: 4, kvHeads: 2), "4:2 untied") }

    func test_gradients_GQA4to1_tied_withBiases() {
        checkModel(Self.tinyConfig(heads: 4, kvHeads: 1, tied: true, bias: true), "4:1 tied biases")
    }

    func test_gradients_multiHead_llama3Rope() {
        checkModel(Self.tinyConfig(heads: 2, kvHeads: 2, llama3: true), "2:2 llama3")
    }

    func test_parameterNames_followHuggingFace() {
        let untied = Llama(config: Self.tinyConfig(bias: true))
        let names = Set(untied.parameters.entries.map(\.name))
        for n in ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
                  "model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.q_proj.bias",
                  "model.layers.0.self_attn.o_proj.bias", "model.layers.0.mlp.gate_proj.weight",
                  "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight"] {
            XCTAssertTrue(names.contains(n), n)
        }
        XCTAssertEqual(untied.parameters.entry("model.layers.0.self_attn.k_proj.weight")?.shape, [8, 16], "2 kv heads × 4")
        let tied = Llama(config: Self.tinyConfig(tied: true))
        XCTAssertNil(tied.parameters.entry("lm_head.weight"), "tied: the output layer is the embedding")
        XCTAssertNil(tied.parameters.entry("model.layers.0.self_attn.q_proj.bias"))
    }

    func test_packingSequencesTogether_doesNotChangeAnyResult() {
        let model = Self.randomModel(Self.tinyConfig(heads: 4, kvHeads: 1), seed: 3)
        let a = [1, 2, 3, 4, 5, 6, 7], b = [9, 8, 7]
        let alone = model.forward(TokenBatch(sequences: [a]))
        let together = model.forward(TokenBatch(sequences: [b, a, b]))
        for (x, y) in zip(alone, together[3..<10]) { XCTAssertEqual(x, y, accuracy: 1e-5) }
    }

    func test_lora_onEveryProjection_startsAtTheBaseAndHasCorrectGradients() throws {
        let model = Self.randomModel(Self.tinyConfig(heads: 4, kvHeads: 2, bias: true), seed: 5)
        let batch = TokenBatch(sequences: [[1, 2, 3, 4, 5], [6, 7, 8]])
        let before = model.forward(batch)
        try model.attachAdapters(LoRAConfig(rank: 2, alpha: 4), seed: 1)
        XCTAssertEqual(model.adapters?.config.targets, Llama.adaptableLayers, "the default adapts all seven projections")
        XCTAssertFalse(model.parameters.isTrainable, "base weights are frozen under LoRA")
        XCTAssertEqual(model.forward(batch), before, "B = 0 makes the adapted model equal the base")
        let lora = model.trainableParameters
        XCTAssertEqual(lora.entries.count, 2 * 7 * 2, "A and B for 7 projections in 2 layers")
        var rng = SeededRandom(seed: 8)
        for e in lora.entries where e.name.hasSuffix("lora_B.weight") {
            lora.set(e.name, (0..<e.count).map { _ in 0.3 * rng.nextGaussian() })
        }
        checkGradients(model, lora, "lora")
    }

    func test_lora_rejectsTargetsOfAnotherArchitecture() {
        let model = Llama(config: Self.tinyConfig())
        XCTAssertThrowsError(try model.attachAdapters(LoRAConfig(rank: 2, alpha: 4, targets: ["query_key_value"]), seed: 1)) {
            XCTAssertTrue("\($0)".contains("query_key_value") && "\($0)".contains("q_proj"), "\($0)")
        }
    }

    func test_trainingSteps_reduceTheLoss() {
        // A few plain gradient steps on one batch: forward and backward agree well enough to learn.
        let model = Self.randomModel(Self.tinyConfig(heads: 4, kvHeads: 2, tied: true), seed: 11)
        model.parameters.setTrainable(true)
        let batch = TokenBatch(sequences: [[1, 2, 3, 4, 5, 6, 7, 8], [8, 7, 6, 5]])
        let first = Self.meanLoss(model, batch).loss
        for _ in 0..<20 {
            model.parameters.zeroGradients()
            let (_, d) = Self.meanLoss(model, batch)
            model.backward(dLogProbs: d)
            let p = model.parameters.values.pointer, g = model.parameters.gradients!.pointer
            for i in 0..<model.parameters.count { p[i] -= 0.05 * g[i] }
        }
        XCTAssertLessThan(Self.meanLoss(model, batch).loss, first * 0.8)
    }
}
