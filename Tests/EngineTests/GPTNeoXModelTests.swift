import XCTest
import Engine

/// The whole model: gradients by finite differences, packing/padding invariance, LoRA.
final class GPTNeoXModelTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    static func tinyConfig(parallel: Bool, rotaryPct: Double = 0.5) -> GPTNeoXConfig {
        GPTNeoXConfig(vocabSize: 23, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 24,
                      rotaryPct: rotaryPct, maxPositions: 32, useParallelResidual: parallel)
    }

    /// Mean next-token cross-entropy, and its per-token gradient for `backward`.
    static func meanLoss(_ model: GPTNeoX, _ batch: TokenBatch) -> (loss: Double, dLogProbs: [Float]) {
        let lp = model.forward(batch)
        let scored = batch.targets.filter { $0 >= 0 }.count
        let loss = -zip(lp, batch.targets).reduce(0.0) { $0 + ($1.1 >= 0 ? Double($1.0) : 0) } / Double(scored)
        return (loss, batch.targets.map { $0 >= 0 ? -1 / Float(scored) : 0 })
    }

    private func checkModelGradients(parallel: Bool) {
        let model = GPTNeoX(config: Self.tinyConfig(parallel: parallel))
        model.initializeRandomly(seed: 7, std: 0.3)
        // Non-trivial LayerNorm parameters and biases so every term of the backward pass is exercised.
        var rng = SeededRandom(seed: 99)
        for e in model.parameters.entries where e.name.contains("norm") || e.name.hasSuffix(".bias") {
            model.parameters.set(e.name, (0..<e.count).map { _ in 1 + 0.3 * rng.nextGaussian() })
        }
        model.parameters.setTrainable(true)
        let batch = TokenBatch(sequences: [[1, 5, 7, 2, 9, 11], [3, 4, 22, 8]])
        model.parameters.zeroGradients()
        let (_, d) = Self.meanLoss(model, batch)
        model.backward(dLogProbs: d)
        let eps: Float = 1e-2
        for e in model.parameters.entries {
            let grad = model.parameters.gradientArray(e.name)!
            let original = model.parameters.array(e.name)
            // A spread of coordinates per tensor keeps the test fast while touching every tensor.
            let picks = Set((0..<min(6, e.count)).map { ($0 * 7919 + 13) % e.count })
            for i in picks {
                var v = original
                v[i] = original[i] + eps; model.parameters.set(e.name, v)
                let plus = Self.meanLoss(model, batch).loss
                v[i] = original[i] - eps; model.parameters.set(e.name, v)
                let minus = Self.meanLoss(model, batch).loss
                model.parameters.set(e.name, original)
                let numeric = (plus - minus) / Double(2 * eps)
                XCTAssertEqual(Double(grad[i]), numeric, accuracy: 3e-3 * max(1, abs(numeric)) + 2e-4,
                               "\(e.name)[\(i)] (parallel: \(parallel))")
            }
        }
    }

    func test_modelGradients_matchFiniteDifferences_parallelResidual() { checkModelGradients(parallel: true) }

    func test_modelGradients_matchFiniteDifferences_sequentialResidual() { checkModelGradients(parallel: false) }

    func test_packingSequencesTogether_doesNotChangeAnyResult() {
        let model = GPTNeoX(config: Self.tinyConfig(parallel: true))
        model.initializeRandomly(seed: 3, std: 0.2)
        let a = [1, 2, 3, 4, 5, 6, 7], b = [9, 8, 7]
        let alone = model.forward(TokenBatch(sequences: [a]))
        let together = model.forward(TokenBatch(sequences: [b, a, b]))
        for (x, y) in zip(alone, together[3..<10]) { XCTAssertEqual(x, y, accuracy: 1e-5) }
    }

    func test_scoredFrom_masksPromptTokens() {
        let batch = TokenBatch(sequences: [[4, 5, 6, 7]], scoredFrom: [2])
        // Position t predicts token t+1; tokens 2 and 3 are scored, at positions 1 and 2.
        XCTAssertEqual(batch.targets, [-1, 6, 7, -1])
    }

    func test_lora_startsAtTheBaseModelAndHasCorrectGradients() throws {
        let model = GPTNeoX(config: Self.tinyConfig(parallel: false))
        model.initializeRandomly(seed: 5, std: 0.3)
        let batch = TokenBatch(sequences: [[1, 2, 3, 4, 5], [6, 7, 8]])
        let before = model.forward(batch)
        try model.attachAdapters(LoRAConfig(rank: 2, alpha: 4, targets: ["query_key_value", "dense_4h_to_h"]), seed: 1)
        XCTAssertFalse(model.parameters.isTrainable, "base weights are frozen under LoRA")
        XCTAssertEqual(model.forward(batch), before, "B = 0 makes the adapted model equal the base")
        let lora = model.trainableParameters
        // Move B off zero so A's gradient is non-zero too.
        var rng = SeededRandom(seed: 8)
        for e in lora.entries where e.name.hasSuffix("lora_B.weight") {
            lora.set(e.name, (0..<e.count).map { _ in 0.3 * rng.nextGaussian() })
        }
        lora.zeroGradients()
        let (_, d) = Self.meanLoss(model, batch)
        model.backward(dLogProbs: d)
        let eps: Float = 1e-2
        for e in lora.entries {
            let grad = lora.gradientArray(e.name)!, original = lora.array(e.name)
            for i in Set([0, e.count / 2, e.count - 1]) {
                var v = original
                v[i] += eps; lora.set(e.name, v)
                let plus = Self.meanLoss(model, batch).loss
                v[i] = original[i] - eps; lora.set(e.name, v)
                let minus = Self.meanLoss(model, batch).loss
                lora.set(e.name, original)
                let numeric = (plus - minus) / Double(2 * eps)
                XCTAssertEqual(Double(grad[i]), numeric, accuracy: 3e-3 * max(1, abs(numeric)) + 2e-4, "\(e.name)[\(i)]")
            }
        }
    }

    func test_lora_rejectsUnknownTargetAndBadRank() {
        let model = GPTNeoX(config: Self.tinyConfig(parallel: true))
        XCTAssertThrowsError(try model.attachAdapters(LoRAConfig(rank: 2, alpha: 4, targets: ["q_proj"]), seed: 1)) {
            XCTAssertTrue("\($0)".contains("q_proj"))
        }
        XCTAssertThrowsError(try model.attachAdapters(LoRAConfig(rank: 0, alpha: 4), seed: 1))
    }
}
