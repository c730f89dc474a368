import Foundation
import XCTest
import Engine
import TestSupport

/// The Llama model against Python `transformers` (LlamaForCausalLM in float64), fixtures made by
/// scripts/goldens/make_llama_goldens.py: GQA 4:2 and 6:1, tied and untied, attention biases, llama3 rope
/// scaling. Logits within 1e-4 relative, every parameter gradient within 1e-3; saving round-trips and loads in
/// transformers with the same logits.
final class LlamaGoldenTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    static let goldenNames = ["llama-gqa4x2-untied", "llama-gqa6x1-tied-bias", "llama-gqa4x2-llama3-tied"]

    struct Golden {
        let model: Llama
        let batch: TokenBatch
        let lengths: [Int]
        let logits: [Float]
        let loss: Float
        let file: SafeTensorsFile
        let T: Int
    }

    static func loadGolden(_ name: String) throws -> Golden {
        let dir = TestPaths.fixture("EngineTests", name)
        let model = try XCTUnwrap(try ModelDirectory.load(dir) as? Llama, "config.json's model_type llama gives a Llama")
        let file = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("golden.safetensors"))
        let shape = try XCTUnwrap(file.shape(of: "input_ids"))
        let (B, T) = (shape[0], shape[1])
        let ids = try file.floats("input_ids"), mask = try file.floats("attention_mask")
        var sequences = [[Int]](), lengths = [Int]()
        for b in 0..<B {
            let length = Int(mask[(b * T)..<((b + 1) * T)].reduce(0, +))
            lengths.append(length)
            sequences.append((0..<length).map { Int(ids[b * T + $0]) })
        }
        return Golden(model: model, batch: TokenBatch(sequences: sequences), lengths: lengths,
                      logits: try file.floats("logits"), loss: try file.floats("loss")[0], file: file, T: T)
    }

    /// Worst relative difference between the model's logits now and the golden's, over real positions.
    static func worstLogitError(_ g: Golden, _ model: Llama) -> Double {
        model.forward(g.batch)
        let ours = model.lastLogits(), V = model.config.vocabSize
        var worst = 0.0, offset = 0
        for (b, length) in g.lengths.enumerated() {
            for t in 0..<length {
                for v in 0..<V {
                    let ref = Double(g.logits[(b * g.T + t) * V + v]), got = Double(ours[(offset + t) * V + v])
                    worst = max(worst, abs(got - ref) / max(1, abs(ref)))
                }
            }
            offset += length
        }
        return worst
    }

    func test_fixturesCoverTheFeatures() throws {
        let configs = try Self.goldenNames.map { try Self.loadGolden($0).model.config }
        XCTAssertEqual(Set(configs.map { "\($0.numHeads):\($0.numKVHeads)" }), ["4:2", "6:1"])
        XCTAssertEqual(Set(configs.map(\.tieWordEmbeddings)), [true, false])
        XCTAssertEqual(Set(configs.map(\.qkvBias)), [true, false])
        XCTAssertTrue(configs.contains { $0.llama3Scaling != nil })
    }

    func test_logits_matchTransformers() throws {
        for name in Self.goldenNames {
            let g = try Self.loadGolden(name)
            XCTAssertLessThan(Self.worstLogitError(g, g.model), 1e-4, "\(name): worst relative logit error")
        }
    }

    func test_lossAndEveryParameterGradient_matchTransformers() throws {
        for name in Self.goldenNames {
            let g = try Self.loadGolden(name)
            try assertLossAndGradientsMatchGolden(g.model, batch: g.batch, loss: g.loss, file: g.file, name: name)
        }
    }

    func test_saveThenLoad_givesIdenticalWeightsAndConfig() throws {
        for name in Self.goldenNames {
            let g = try Self.loadGolden(name)
            let dir = try TestPaths.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            try ModelDirectory.save(g.model, to: dir)
            let back = try ModelDirectory.load(dir, as: Llama.self)
            XCTAssertEqual(back.config, g.model.config, name)
            XCTAssertEqual(back.parameters.values.array, g.model.parameters.values.array, name)
        }
    }

    func test_loraMergedIntoTheSavedWeights_givesTheAdaptedModel() throws {
        let g = try Self.loadGolden("llama-gqa6x1-tied-bias")
        try g.model.attachAdapters(LoRAConfig(rank: 2, alpha: 8), seed: 3)
        var rng = SeededRandom(seed: 4)
        let lora = g.model.trainableParameters
        for e in lora.entries where e.name.hasSuffix("lora_B.weight") {
            lora.set(e.name, (0..<e.count).map { _ in 0.2 * rng.nextGaussian() })
        }
        let adapted = g.model.forward(g.batch)
        let dir = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try ModelDirectory.save(g.model, to: dir, mergeAdapters: true)
        let merged = try ModelDirectory.load(dir, as: Llama.self)
        XCTAssertNil(merged.adapters)
        for (a, b) in zip(merged.forward(g.batch), adapted) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        // PEFT-style adapters load back onto the base.
        let peft = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: peft) }
        try ModelDirectory.saveAdapters(g.model, to: peft)
        let base = try Self.loadGolden("llama-gqa6x1-tied-bias").model
        try ModelDirectory.loadAdapters(into: base, from: peft)
        XCTAssertEqual(base.forward(g.batch), adapted)
    }

    /// A model written by xright, read by transformers as LlamaForCausalLM, gives the golden logits (runs the
    /// committed generator script in check mode; skips when Python transformers is not installed).
    func test_modelWrittenByXright_loadsInTransformersWithSameLogits() throws {
        try assertTransformersLoadsSavedGoldens(script: "make_llama_goldens.py", models: try Self.goldenNames.map { (name: $0, model: try Self.loadGolden($0).model) })
    }
}
