import Foundation
import XCTest
import Engine
import TestSupport

/// The KV-cache decoder computes what the training forward computes: at every position, the logits of a
/// prompt fed at once and then token by token equal `CausalLanguageModel.forward` over the whole sequence, on
/// the random Llama (GQA, llama3 rope, tied/untied, biases) and GPT-NeoX (partial rotary, parallel and
/// sequential residual) fixtures.
final class KVCacheDecoderTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    static let fixtures = ["llama-gqa4x2-untied", "llama-gqa6x1-tied-bias", "llama-gqa4x2-llama3-tied",
                           "neox-rot25-parallel", "neox-rot50-parallel-odd", "neox-rot100-sequential"]

    func sequence(vocab: Int, length: Int) -> [Int] { (0..<length).map { ($0 * 37 + 5) % vocab } }

    func test_decoderLogits_equalFullForward_atEveryPosition() throws {
        for name in Self.fixtures {
            let model = try ModelDirectory.load(TestPaths.fixture("EngineTests", name))
            let V = model.config.vocabSize, ids = sequence(vocab: V, length: 20)
            model.forward(TokenBatch(sequences: [ids]))
            let expected = model.lastLogits()
            let decoder = try Decoders.make(for: model, capacity: ids.count)
            var got = decoder.feed(Array(ids[0..<7]), allPositions: true)
            for id in ids[7...] { got += decoder.feed([id]) }
            XCTAssertEqual(got.count, expected.count, name)
            let scale = expected.map(abs).max()!
            let worst = zip(got, expected).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-5 * max(1, scale), "\(name): largest logit difference \(worst)")
            XCTAssertEqual(decoder.cache.count, ids.count, name)
        }
    }

    func test_cacheLayout_isPositionsByKVHeadsByHeadDim() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("EngineTests", "llama-gqa6x1-tied-bias"))
        let decoder = try Decoders.make(for: model, capacity: 9)
        XCTAssertEqual(decoder.cache.layers, model.config.numLayers)
        let llama = try XCTUnwrap(model as? Llama)
        XCTAssertEqual(decoder.cache.kvHeads, llama.config.numKVHeads)
        XCTAssertEqual(decoder.cache.headDim, llama.config.headDim)
        XCTAssertEqual(decoder.cache.capacity, 9)
    }

    func test_resetCache_decodesTheSameAgain() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("EngineTests", "neox-rot25-parallel"))
        let decoder = try Decoders.make(for: model, capacity: 8)
        let ids = sequence(vocab: model.config.vocabSize, length: 8)
        let first = decoder.feed(ids)
        decoder.cache.reset()
        XCTAssertEqual(decoder.feed(ids), first)
    }

    func test_capacityBeyondTheModelsPositions_isRefused() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("EngineTests", "llama-gqa4x2-untied"))
        XCTAssertThrowsError(try Decoders.make(for: model, capacity: model.config.maxPositions + 1)) { error in
            XCTAssertEqual(error as? InferenceError,
                           .contextFull(capacity: model.config.maxPositions, needed: model.config.maxPositions + 1))
        }
    }

    func test_adaptersAreDecodedMergedIn() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("EngineTests", "llama-gqa4x2-untied"))
        try model.attachAdapters(LoRAConfig(rank: 2, alpha: 4, targets: []), seed: 3)
        // Give the B matrices weight so the adapters change the output.
        let adapters = try XCTUnwrap(model.adapters)
        for e in adapters.parameters.entries where e.name.contains("lora_B") {
            let p = adapters.parameters.values.pointer + e.offset
            for i in 0..<e.count { p[i] = Float((i % 7) - 3) * 0.05 }
        }
        let ids = sequence(vocab: model.config.vocabSize, length: 10)
        model.forward(TokenBatch(sequences: [ids]))
        let expected = model.lastLogits()
        let decoder = try Decoders.make(for: model, capacity: ids.count)
        let got = decoder.feed(ids, allPositions: true)
        let worst = zip(got, expected).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-5, "largest logit difference with LoRA \(worst)")
    }
}
