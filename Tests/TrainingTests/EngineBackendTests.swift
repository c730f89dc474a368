import Data
import Engine
import Foundation
import Training
import XCTest

/// The engine backend: SFT and DPO losses and their gradients (finite differences through the whole model),
/// the reference cache, and exact state round-trips.
final class EngineBackendTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    private func makeModel(seed: UInt64 = 3) -> GPTNeoX {
        let model = GPTNeoX(config: ModelPreset.tiny.config(vocabSize: 30))
        model.initializeRandomly(seed: seed, std: 0.2)
        return model
    }

    private func example(_ prompt: [Int32], _ response: [Int32]) -> TokenizedExample {
        TokenizedExample(ids: prompt + response, responseStart: prompt.count)
    }

    private var pairs: [TokenizedPair] {
        [TokenizedPair(chosen: example([1, 2, 3], [4, 5, 0]), rejected: example([1, 2, 3], [6, 0])),
         TokenizedPair(chosen: example([7, 8], [9, 10, 11, 0]), rejected: example([7, 8], [12, 13, 0]))]
    }

    private func settings(_ loss: PreferenceLoss = PreferenceLoss(kind: .sigmoid, beta: 0.5, labelSmoothing: 0.1)) -> EngineBackend.Settings {
        EngineBackend.Settings(schedule: LearningRateSchedule(base: 1e-3), maxGradNorm: 0, preference: loss)
    }

    func test_preferenceLoss_matchesTheFormulasAndTheirDerivatives() {
        for loss in [PreferenceLoss(kind: .sigmoid, beta: 0.1), PreferenceLoss(kind: .sigmoid, beta: 0.3, labelSmoothing: 0.2),
                     PreferenceLoss(kind: .ipo, beta: 0.5)] {
            let (l, dz) = loss.loss(policyChosen: -3, policyRejected: -5, referenceChosen: -4, referenceRejected: -4.5)
            let z = 1.5
            let expected: Double
            switch loss.kind {
            case .sigmoid:
                let s = { (x: Double) in 1 / (1 + exp(-x)) }
                expected = -(1 - loss.labelSmoothing) * log(s(loss.beta * z)) - loss.labelSmoothing * log(s(-loss.beta * z))
            case .ipo:
                expected = pow(z - 1 / (2 * loss.beta), 2)
            }
            XCTAssertEqual(l, expected, accuracy: 1e-12)
            let h = 1e-6
            let plus = loss.loss(policyChosen: -3 + h, policyRejected: -5, referenceChosen: -4, referenceRejected: -4.5).loss
            let minus = loss.loss(policyChosen: -3 - h, policyRejected: -5, referenceChosen: -4, referenceRejected: -4.5).loss
            XCTAssertEqual(dz, (plus - minus) / (2 * h), accuracy: 1e-6)
        }
        XCTAssertThrowsError(try PreferenceLoss(beta: 0).validate()) { XCTAssertTrue("\($0)".contains("beta")) }
        XCTAssertThrowsError(try PreferenceLoss(beta: .nan).validate())
    }

    /// At the start the policy equals the reference, so z = 0: loss = log 2, rewards 0.
    func test_dpo_atStartEqualsLog2() throws {
        let backend = try EngineBackend(model: makeModel(), settings: settings(PreferenceLoss(beta: 0.1)))
        let m = try backend.evaluate(.dpo, batch: PreferenceTokenBatch(pairs: pairs, pairIDs: [0, 1]), gradientWeight: nil)
        XCTAssertEqual(m.loss, log(2), accuracy: 1e-6)
        XCTAssertEqual(m.preference?.margin ?? .nan, 0, accuracy: 1e-9)
    }

    /// A tiny Llama (GQA 4:2, tied) with the same vocabulary: the backend drives either architecture.
    private func makeLlama(seed: UInt64 = 3) -> Llama {
        let model = Llama(config: LlamaConfig(vocabSize: 30, hiddenSize: 16, numLayers: 2, numHeads: 4, numKVHeads: 2,
                                              intermediateSize: 24, maxPositions: 64, tieWordEmbeddings: true))
        model.initializeRandomly(seed: seed, std: 0.2)
        return model
    }

    private func checkGradient(_ objective: Objective, _ batch: any TrainingBatch, weight: Double,
                               model: any CausalLanguageModel) throws {
        let backend = try EngineBackend(model: model, settings: settings())
        // Move the policy off the reference so DPO's z ≠ 0 and every term matters.
        var rng = SeededRandom(seed: 11)
        let p = model.parameters
        for i in 0..<p.count { p.values[i] += 0.02 * rng.nextGaussian() }
        p.zeroGradients()
        _ = try backend.evaluate(objective, batch: batch, gradientWeight: weight)
        let grads = p.gradients!.array
        for e in p.entries {
            for i in Set([0, e.count / 3, e.count - 1]) {
                let k = e.offset + i, original = p.values[k], eps: Float = 1e-2
                p.values[k] = original + eps
                let plus = try backend.evaluate(objective, batch: batch, gradientWeight: nil).loss
                p.values[k] = original - eps
                let minus = try backend.evaluate(objective, batch: batch, gradientWeight: nil).loss
                p.values[k] = original
                let numeric = weight * (plus - minus) / Double(2 * eps)
                XCTAssertEqual(Double(grads[k]), numeric, accuracy: 3e-3 * max(1, abs(numeric)) + 3e-4, "\(objective) \(e.name)[\(i)]")
            }
        }
    }

    func test_sftGradient_matchesFiniteDifferences() throws {
        try checkGradient(.sft, SFTTokenBatch(examples: [example([1, 2], [3, 4, 0]), example([5], [6, 7, 8, 0])]), weight: 0.7,
                          model: makeModel())
    }

    func test_dpoGradient_matchesFiniteDifferences() throws {
        try checkGradient(.dpo, PreferenceTokenBatch(pairs: pairs, pairIDs: [0, 1]), weight: 1.3, model: makeModel())
    }

    func test_sftGradient_onLlama_matchesFiniteDifferences() throws {
        try checkGradient(.sft, SFTTokenBatch(examples: [example([1, 2], [3, 4, 0]), example([5], [6, 7, 8, 0])]), weight: 0.7,
                          model: makeLlama())
    }

    func test_dpoGradient_onLlama_matchesFiniteDifferences() throws {
        try checkGradient(.dpo, PreferenceTokenBatch(pairs: pairs, pairIDs: [0, 1]), weight: 1.3, model: makeLlama())
    }

    func test_dpo_onLlamaWithLoRA_startsAtLog2AndTrainsOnlyTheAdapters() throws {
        let model = makeLlama()
        try model.attachAdapters(LoRAConfig(rank: 2, alpha: 4), seed: 5)
        let backend = try EngineBackend(model: model, settings: settings(PreferenceLoss(beta: 0.1)))
        let batch = PreferenceTokenBatch(pairs: pairs, pairIDs: [0, 1])
        let m = try backend.evaluate(.dpo, batch: batch, gradientWeight: 1)
        XCTAssertEqual(m.loss, log(2), accuracy: 1e-6, "the reference is the base model, which the adapters start at")
        let base = model.parameters.values.array
        for _ in 0..<5 {
            _ = try backend.evaluate(.dpo, batch: batch, gradientWeight: 1)
            _ = try backend.applyUpdate()
        }
        XCTAssertEqual(model.parameters.values.array, base, "LoRA leaves the base weights alone")
        XCTAssertLessThan(try backend.evaluate(.dpo, batch: batch, gradientWeight: nil).loss, log(2))
    }

    func test_sftLoss_coversResponseAndEosOnly() throws {
        let model = makeModel()
        let backend = try EngineBackend(model: model, settings: settings())
        let ex = example([1, 2, 3], [4, 0])
        let m = try backend.evaluate(.sft, batch: SFTTokenBatch(examples: [ex]), gradientWeight: nil)
        let lp = model.forward(TokenBatch(sequences: [[1, 2, 3, 4, 0]]))
        // Tokens 4 (predicted at position 2) and eos 0 (at position 3).
        XCTAssertEqual(m.loss, -Double(lp[2] + lp[3]) / 2, accuracy: 1e-6)
    }

    func test_saveAndLoadState_restoresWeightsOptimizerAndReferenceCacheExactly() throws {
        let a = try EngineBackend(model: makeModel(), settings: settings())
        let batch = PreferenceTokenBatch(pairs: pairs, pairIDs: [0, 1])
        for _ in 0..<3 {
            _ = try a.evaluate(.dpo, batch: batch, gradientWeight: 1)
            _ = try a.applyUpdate()
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("backend-state-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try a.saveState(to: dir)
        let b = try EngineBackend(model: makeModel(), settings: settings())
        try b.loadState(from: dir)
        XCTAssertEqual(a.model.parameters.values.array, b.model.parameters.values.array)
        XCTAssertEqual(a.learningRate, b.learningRate)
        _ = try a.evaluate(.dpo, batch: batch, gradientWeight: 1); _ = try a.applyUpdate()
        _ = try b.evaluate(.dpo, batch: batch, gradientWeight: 1); _ = try b.applyUpdate()
        XCTAssertEqual(a.model.parameters.values.array, b.model.parameters.values.array, "the next update is bit-identical")
    }

    func test_nonFiniteGradient_skipsTheUpdateAndLeavesWeights() throws {
        let model = makeModel()
        let backend = try EngineBackend(model: model, settings: settings())
        let before = model.parameters.values.array
        model.parameters.gradients![5] = .nan
        guard case .skippedNonFinite = try backend.applyUpdate() else { return XCTFail("expected a skipped update") }
        XCTAssertEqual(model.parameters.values.array, before)
        XCTAssertEqual(model.parameters.gradients![5], 0, "gradient zeroed after skipping")
    }

    func test_wrongBatchKind_isAClearError() throws {
        let backend = try EngineBackend(model: makeModel(), settings: settings())
        XCTAssertThrowsError(try backend.evaluate(.dpo, batch: SFTTokenBatch(examples: [example([1], [2])]), gradientWeight: nil))
    }

    func test_shuffledBatches_areAFunctionOfThePosition() throws {
        let items = (0..<10).map { example([Int32($0 + 1)], [1]) }
        let source = ShuffledBatches(sft: items, batchSize: 3, seed: 5)
        XCTAssertEqual(source.epochLength, 4)
        let first = try source.batch(at: BatchPosition(epoch: 1, index: 2)) as! SFTTokenBatch
        _ = try source.batch(at: BatchPosition(epoch: 0, index: 0))
        let again = try source.batch(at: BatchPosition(epoch: 1, index: 2)) as! SFTTokenBatch
        XCTAssertEqual(first.examples, again.examples)
        var seen = [TokenizedExample]()
        for i in 0..<4 { seen += (try source.batch(at: BatchPosition(epoch: 3, index: i)) as! SFTTokenBatch).examples }
        XCTAssertEqual(Set(seen), Set(items), "an epoch covers every item once")
        XCTAssertEqual(seen.count, items.count)
        XCTAssertThrowsError(try source.batch(at: BatchPosition(epoch: 0, index: 4)))
    }
}
