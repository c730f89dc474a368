import Engine
import Foundation
import TestSupport
import XCTest

/// The GPT-NeoX goldens made by scripts/goldens/make_model_goldens.py open, and their names and shapes agree with
/// their config.json, so the model tests can trust them. (Numerical agreement is the model tests' job.)
final class SafeTensorsGoldenFileTests: XCTestCase {
    /// The config.json fields the shapes depend on. transformers ≥ 5 writes the rotary fraction as
    /// `rope_parameters.partial_rotary_factor`; older versions and Pythia snapshots as `rotary_pct`.
    private struct Sizes {
        let hidden, heads, layers, vocab, intermediate: Int
        let rotaryFraction: Double

        init(configAt url: URL) throws {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
            func int(_ key: String) throws -> Int {
                guard let value = object[key] as? Int else {
                    throw SafeTensorsError(file: url.path, message: "expected an integer \(key)")
                }
                return value
            }
            hidden = try int("hidden_size")
            heads = try int("num_attention_heads")
            layers = try int("num_hidden_layers")
            vocab = try int("vocab_size")
            intermediate = try int("intermediate_size")
            let rope = object["rope_parameters"] as? [String: Any]
            rotaryFraction = (rope?["partial_rotary_factor"] as? Double) ?? (object["rotary_pct"] as? Double) ?? 1
        }
    }

    /// GPT-NeoX parameter names and shapes as transformers saves GPTNeoXForCausalLM.
    private func expectedParameters(_ s: Sizes) -> [String: [Int]] {
        var shapes = ["gpt_neox.embed_in.weight": [s.vocab, s.hidden], "embed_out.weight": [s.vocab, s.hidden],
                      "gpt_neox.final_layer_norm.weight": [s.hidden], "gpt_neox.final_layer_norm.bias": [s.hidden]]
        for layer in 0..<s.layers {
            let p = "gpt_neox.layers.\(layer)."
            shapes[p + "input_layernorm.weight"] = [s.hidden]
            shapes[p + "input_layernorm.bias"] = [s.hidden]
            shapes[p + "post_attention_layernorm.weight"] = [s.hidden]
            shapes[p + "post_attention_layernorm.bias"] = [s.hidden]
            shapes[p + "attention.query_key_value.weight"] = [3 * s.hidden, s.hidden]
            shapes[p + "attention.query_key_value.bias"] = [3 * s.hidden]
            shapes[p + "attention.dense.weight"] = [s.hidden, s.hidden]
            shapes[p + "attention.dense.bias"] = [s.hidden]
            shapes[p + "mlp.dense_h_to_4h.weight"] = [s.intermediate, s.hidden]
            shapes[p + "mlp.dense_h_to_4h.bias"] = [s.intermediate]
            shapes[p + "mlp.dense_4h_to_h.weight"] = [s.hidden, s.intermediate]
            shapes[p + "mlp.dense_4h_to_h.bias"] = [s.hidden]
        }
        return shapes
    }

    private func checkGolden(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = TestPaths.fixture("EngineTests", name)
        let sizes = try Sizes(configAt: directory.appendingPathComponent("config.json"))
        XCTAssertEqual(sizes.hidden % sizes.heads, 0, file: file, line: line)
        let rotaryDims = Int(Double(sizes.hidden / sizes.heads) * sizes.rotaryFraction)
        XCTAssertTrue(rotaryDims > 0 && rotaryDims % 2 == 0, "rotary dims \(rotaryDims) must be even", file: file, line: line)

        let model = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
        let parameters = expectedParameters(sizes)
        XCTAssertEqual(Set(model.tensorNames), Set(parameters.keys), "model.safetensors names", file: file, line: line)
        for (parameter, shape) in parameters {
            XCTAssertEqual(model.shape(of: parameter), shape, parameter, file: file, line: line)
            XCTAssertEqual(model.info(parameter)?.dtype, .f32, parameter, file: file, line: line)
        }

        let golden = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("golden.safetensors"))
        let ids = try golden.floats("input_ids")
        guard let batchShape = golden.shape(of: "input_ids"), batchShape.count == 2 else {
            return XCTFail("input_ids must be [B, T]", file: file, line: line)
        }
        let (batch, width, vocab) = (batchShape[0], batchShape[1], sizes.vocab)
        XCTAssertEqual(Set(golden.tensorNames),
                       Set(["input_ids", "attention_mask", "logits", "loss"] + parameters.keys.map { "grad." + $0 }),
                       file: file, line: line)
        for (parameter, shape) in parameters {
            let gradient = try golden.floats("grad." + parameter, expectedShape: shape)
            XCTAssertTrue(gradient.allSatisfy(\.isFinite) && gradient.contains { $0 != 0 }, "grad.\(parameter)",
                          file: file, line: line)
        }

        XCTAssertTrue(ids.allSatisfy { $0 >= 0 && $0 < Float(vocab) && $0 == $0.rounded() }, file: file, line: line)
        let mask = try golden.floats("attention_mask", expectedShape: [batch, width])
        var lengths: [Int] = []
        for row in 0..<batch {
            let rowMask = mask[(row * width)..<((row + 1) * width)]
            let length = rowMask.prefix { $0 == 1 }.count
            XCTAssertTrue(length > 1 && rowMask.dropFirst(length).allSatisfy { $0 == 0 },
                          "row \(row) must be right-padded", file: file, line: line)
            lengths.append(length)
        }
        XCTAssertEqual(Set(lengths).count, batch, "sequences of different lengths", file: file, line: line)

        // The stored loss is the mean next-token cross-entropy of the stored logits over real targets.
        let logits = try golden.floats("logits", expectedShape: [batch, width, vocab])
        let loss = try golden.floats("loss", expectedShape: [1])[0]
        var total = 0.0
        var targets = 0
        for row in 0..<batch {
            for t in 0..<(lengths[row] - 1) {
                let scores = logits[((row * width + t) * vocab)..<((row * width + t + 1) * vocab)].map(Double.init)
                let top = scores.max()!
                let logSumExp = top + log(scores.reduce(0) { $0 + exp($1 - top) })
                total += logSumExp - scores[scores.startIndex + Int(ids[row * width + t + 1])]
                targets += 1
            }
        }
        XCTAssertEqual(Double(loss), total / Double(targets), accuracy: 1e-5, file: file, line: line)
    }

    func test_golden_rot25Parallel_matchesItsConfig() throws { try checkGolden("neox-rot25-parallel") }
    func test_golden_rot100Sequential_matchesItsConfig() throws { try checkGolden("neox-rot100-sequential") }
    func test_golden_rot50ParallelOdd_matchesItsConfig() throws { try checkGolden("neox-rot50-parallel-odd") }
}
