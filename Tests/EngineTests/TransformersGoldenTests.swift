import Foundation
import XCTest
import Engine
import TestSupport

/// The model against Python `transformers` (GPTNeoXForCausalLM in float64), fixtures made by
/// scripts/goldens/make_model_goldens.py: logits within 1e-4 relative, every parameter gradient of the mean
/// next-token loss within 1e-3 relative; and weights written by xright read back identically.
final class TransformersGoldenTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    static let goldenNames = ["neox-rot25-parallel", "neox-rot100-sequential", "neox-rot50-parallel-odd"]

    struct Golden {
        let model: GPTNeoX
        let batch: TokenBatch
        let lengths: [Int]
        let logits: [Float]   // [B, T, V]
        let loss: Float
        let file: SafeTensorsFile
        let T: Int
    }

    static func loadGolden(_ name: String) throws -> Golden {
        let dir = TestPaths.fixture("EngineTests", name)
        let model = try ModelDirectory.load(dir, as: GPTNeoX.self)
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

    func test_logits_matchTransformers() throws {
        for name in Self.goldenNames {
            let g = try Self.loadGolden(name)
            g.model.forward(g.batch)
            let ours = g.model.lastLogits(), V = g.model.config.vocabSize
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
            XCTAssertLessThan(worst, 1e-4, "\(name): worst relative logit error")
        }
    }

    func test_lossAndEveryParameterGradient_matchTransformers() throws {
        for name in Self.goldenNames {
            let g = try Self.loadGolden(name)
            try assertLossAndGradientsMatchGolden(g.model, batch: g.batch, loss: g.loss, file: g.file, name: name)
        }
    }

    func test_saveThenLoad_givesIdenticalWeightsAndConfig() throws {
        let g = try Self.loadGolden(Self.goldenNames[0])
        let dir = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try ModelDirectory.save(g.model, to: dir)
        let back = try ModelDirectory.load(dir, as: GPTNeoX.self)
        XCTAssertEqual(back.config, g.model.config)
        for e in g.model.parameters.entries { XCTAssertEqual(back.parameters.array(e.name), g.model.parameters.array(e.name)) }
    }

    /// A model written by xright, read by transformers, gives the golden logits (runs the committed generator
    /// script in check mode; skips when Python transformers is not installed).
    func test_modelWrittenByXright_loadsInTransformersWithSameLogits() throws {
        try assertTransformersLoadsSavedGoldens(script: "make_model_goldens.py", models: try Self.goldenNames.map { (name: $0, model: try Self.loadGolden($0).model) })
    }

    func test_load_reportsMissingAndMisshapenTensors() throws {
        let g = try Self.loadGolden(Self.goldenNames[0])
        let dir = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try ModelDirectory.save(g.model, to: dir)
        // Config says one more layer than the weights hold: layer 2's tensors are missing.
        var bigger = g.model.config
        bigger.numLayers += 1
        try bigger.write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try ModelDirectory.load(dir)) { XCTAssertTrue("\($0)".contains("layers.\(bigger.numLayers - 1)"), "\($0)") }
        // Config with a wider MLP: shapes no longer fit.
        var wider = g.model.config
        wider.intermediateSize += 4
        try wider.write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try ModelDirectory.load(dir)) { XCTAssertTrue("\($0)".contains("dense_h_to_4h"), "\($0)") }
    }
}
