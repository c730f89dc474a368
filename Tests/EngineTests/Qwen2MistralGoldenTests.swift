import Foundation
import XCTest
import Engine
import TestSupport

/// Qwen2 (q/k/v biases, no o_proj bias) and Mistral (no biases, a sliding window) run on the Llama model: against
/// transformers' Qwen2ForCausalLM and MistralForCausalLM in float64 (fixtures by
/// scripts/goldens/make_qwen2_mistral_goldens.py), logits within 1e-4 relative and every gradient within 1e-3;
/// saved directories load back in transformers as the same class with the same logits. xright has no sliding
/// window: a Mistral model is limited to the window's length instead.
final class Qwen2MistralGoldenTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    static let goldenNames = ["qwen2-gqa4x2-bias", "mistral-gqa4x1-window"]

    func test_configs_keepEachArchitecturesShape() throws {
        let qwen = try LlamaGoldenTests.loadGolden("qwen2-gqa4x2-bias").model.config
        XCTAssertEqual(qwen.modelType, "qwen2")
        XCTAssertTrue(qwen.qkvBias)
        XCTAssertFalse(qwen.outputBias)
        XCTAssertEqual("\(qwen.numHeads):\(qwen.numKVHeads)", "4:2")
        let mistral = try LlamaGoldenTests.loadGolden("mistral-gqa4x1-window").model.config
        XCTAssertEqual(mistral.modelType, "mistral")
        XCTAssertFalse(mistral.qkvBias || mistral.outputBias)
        XCTAssertEqual(mistral.maxPositions, 16, "positions are limited to the sliding window (16 of 64)")
    }

    func test_logitsLossAndGradients_matchTransformers() throws {
        for name in Self.goldenNames {
            let g = try LlamaGoldenTests.loadGolden(name)
            XCTAssertLessThan(LlamaGoldenTests.worstLogitError(g, g.model), 1e-4, "\(name): worst relative logit error")
            try assertLossAndGradientsMatchGolden(g.model, batch: g.batch, loss: g.loss, file: g.file, name: name)
        }
    }

    /// Runs the generator script in check mode; skips when Python transformers is not installed.
    func test_savedModels_loadInTransformersAsTheSameClass() throws {
        try assertTransformersLoadsSavedGoldens(script: "make_qwen2_mistral_goldens.py", models: try Self.goldenNames.map { (name: $0, model: try LlamaGoldenTests.loadGolden($0).model) })
    }
}
