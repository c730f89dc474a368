import Engine
import Foundation
import TestSupport
import XCTest

/// `.gguf` files load through `ModelDirectory.load` into the Llama engine: a tiny fixture always, and
/// SmolLM2-135M-Instruct (Q4_1) against transformers' logits for the same file when the model can be had.
final class LlamaGGUFTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    func test_tinyGGUF_loadsAsLlamaWithTheCheckpointsTensors() throws {
        let url = TestPaths.fixture("EngineTests", "gguf/tiny_llama_tied.gguf")
        let model = try XCTUnwrap(try ModelDirectory.load(url) as? Llama)
        XCTAssertEqual(model.config.hiddenSize, 64)
        XCTAssertEqual(model.config.numKVHeads, 2)
        XCTAssertTrue(model.config.tieWordEmbeddings)
        let checkpoint = try GGUFCheckpoint(contentsOf: url)
        for e in model.parameters.entries {
            XCTAssertEqual(model.parameters.array(e.name), try checkpoint.floats(e.name, expectedShape: e.shape), e.name)
        }
        let logProbs = model.forward(TokenBatch(sequences: [[1, 5, 9, 3, 2]]))
        XCTAssertTrue(logProbs.allSatisfy(\.isFinite))
    }

    func test_aFileNamedGGUFThatIsNot_isRefusedNamingIt() throws {
        let dir = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bogus = dir.appendingPathComponent("model.gguf")
        try Data("not a gguf file at all".utf8).write(to: bogus)
        XCTAssertThrowsError(try ModelDirectory.load(bogus)) { XCTAssertTrue("\($0)".contains(bogus.path), "\($0)") }
    }

    /// Logits of SmolLM2-135M-Instruct on three chat prompts within 1e-3 (relative, or absolute below 1) of
    /// transformers on the same GGUF (Fixtures/gguf/smollm2_logits.json, scripts/goldens/make_llama_gguf_goldens.py).
    func test_smolLM2_logitsMatchTransformersOnTheSameGGUF() throws {
        let url = try SmolLM2File.url()
        let start = Date()
        let model = try XCTUnwrap(try ModelDirectory.load(url) as? Llama)
        print("loaded \(url.lastPathComponent) into a trainable float32 Llama in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        XCTAssertEqual(model.config.numLayers, 30)
        XCTAssertEqual(model.config.numKVHeads, 3)
        let fixture = TestPaths.fixture("EngineTests", "gguf/smollm2_logits.json")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as? [String: Any])
        let sample = try XCTUnwrap(json["sample_ids"] as? [Int])
        let cases = try XCTUnwrap(json["cases"] as? [[String: Any]])
        let V = model.config.vocabSize
        for c in cases {
            let ids = try XCTUnwrap(c["ids"] as? [Int])
            let expected = try XCTUnwrap(c["sample_logits"] as? [[Double]])
            let argmax = try XCTUnwrap(c["argmax"] as? [Int])
            let nextLogProbs = try XCTUnwrap(c["next_log_probs"] as? [Double])
            let logProbs = model.forward(TokenBatch(sequences: [ids]))
            let logits = model.lastLogits()
            var worst = 0.0
            for t in 0..<ids.count {
                for (k, v) in sample.enumerated() {
                    let got = Double(logits[t * V + v]), ref = expected[t][k]
                    worst = max(worst, abs(got - ref) / max(1, abs(ref)))
                }
                // transformers' top token is ours too (up to a near-tie within the tolerance).
                let row = logits[(t * V)..<((t + 1) * V)]
                XCTAssertGreaterThanOrEqual(row[t * V + argmax[t]], row.max()! - 1e-3, "\(c["prompt"]!) position \(t)")
                if t + 1 < ids.count { XCTAssertEqual(Double(logProbs[t]), nextLogProbs[t], accuracy: 1e-3) }
            }
            XCTAssertLessThan(worst, 1e-3, "\(c["prompt"]!): worst relative logit error")
        }
    }
}
