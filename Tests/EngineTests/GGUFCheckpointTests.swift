import Engine
import Foundation
import GGUF
import JSON
import TestSupport
import XCTest

/// Expected values from `transformers` for a GGUF: the config on the first line, then per Hugging Face tensor
/// `name shape sum index=value...` (tiny_llama_*.expected.txt) as written by make_gguf_fixtures.py.
struct TransformersGGUFGolden {
    var config: [String: Any]
    var tensors: [(name: String, shape: [Int], sum: Double, samples: [(Int, Float)])]

    init(_ url: URL) throws {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        config = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        tensors = lines.dropFirst().map { line in
            let fields = line.split(separator: " ")
            let shape = fields[1].split(separator: "x").map { Int($0)! }
            let samples = fields.dropFirst(3).map { pick -> (Int, Float) in
                let parts = pick.split(separator: "=")
                return (Int(parts[0])!, Float(Double(String(parts[1]))!))
            }
            return (String(fields[0]), shape, Double(String(fields[2]))!, samples)
        }
    }
}

/// A GGUF read as a Hugging Face checkpoint, against what `transformers` loads from the same file: the config,
/// the tensor names, and the values (with llama.cpp's Q/K row permutation undone).
final class GGUFCheckpointTests: XCTestCase {
    private func fixture(_ name: String) -> URL { TestPaths.fixture("EngineTests", "gguf/\(name)") }

    func testTiedAndUntiedLlamasAndAQwen2MatchTransformers() throws {
        for label in ["llama_tied", "llama_untied", "qwen2"] {
            let checkpoint = try GGUFCheckpoint(contentsOf: fixture("tiny_\(label).gguf"))
            let golden = try TransformersGGUFGolden(fixture("tiny_\(label).expected.txt"))
            try assertConfig(checkpoint, matches: golden.config)
            XCTAssertEqual(checkpoint.tensorNames, golden.tensors.map(\.name).sorted(), label)
            XCTAssertEqual(checkpoint.tensorNames.contains("lm_head.weight"), label != "llama_tied")
            for tensor in golden.tensors {
                let values = try checkpoint.floats(tensor.name, expectedShape: tensor.shape)
                for (index, expected) in tensor.samples {
                    XCTAssertEqual(values[index].bitPattern, expected.bitPattern, "\(label) \(tensor.name)[\(index)]")
                }
                let sum = values.reduce(0.0) { $0 + Double($1) }
                XCTAssertEqual(sum, tensor.sum, accuracy: 1e-9 * max(1, abs(tensor.sum)), "\(label) \(tensor.name)")
            }
        }
    }

    /// Qwen2 files are written unpermuted (llama.cpp permutes only Llama), and carry q/k/v biases.
    func testQwen2TensorsPassThroughWithBiases() throws {
        let checkpoint = try GGUFCheckpoint(contentsOf: fixture("tiny_qwen2.gguf"))
        XCTAssertEqual(checkpoint.architecture, "qwen2")
        XCTAssertEqual(try checkpoint.floats("model.layers.0.self_attn.q_proj.weight"),
                       try checkpoint.file.floats("blk.0.attn_q.weight"))
        XCTAssertEqual(checkpoint.shape(of: "model.layers.1.self_attn.k_proj.bias"), [32])
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: checkpoint.configJSON) as? [String: Any])
        XCTAssertEqual(config["architectures"] as? [String], ["Qwen2ForCausalLM"])
        XCTAssertEqual(config["attention_bias"] as? Bool, true)
    }

    /// Q and K rows come back in Hugging Face order: within each head, GGUF row 2i + p is row p · half + i.
    func testQueryAndKeyRowsAreUnpermutedPerHead() throws {
        let checkpoint = try GGUFCheckpoint(contentsOf: fixture("tiny_llama_tied.gguf"))
        let file = checkpoint.file
        for (hf, gguf, heads) in [("model.layers.1.self_attn.q_proj.weight", "blk.1.attn_q.weight", 4),
                                  ("model.layers.1.self_attn.k_proj.weight", "blk.1.attn_k.weight", 2)] {
            let stored = try file.floats(gguf)
            let mapped = try checkpoint.floats(hf)
            let shape = try XCTUnwrap(checkpoint.shape(of: hf))
            let (rows, columns) = (shape[0], shape[1])
            let half = rows / heads / 2
            for h in 0..<heads {
                for i in 0..<half {
                    for p in 0..<2 {
                        let from = (h * 2 * half + 2 * i + p) * columns
                        let to = (h * 2 * half + p * half + i) * columns
                        XCTAssertEqual(Array(mapped[to..<(to + columns)]), Array(stored[from..<(from + columns)]))
                    }
                }
            }
            XCTAssertNotEqual(mapped, stored, "the fixture's heads must actually be permuted")
        }
        // Other tensors are passed through unchanged.
        XCTAssertEqual(try checkpoint.floats("model.layers.0.self_attn.v_proj.weight"),
                       try file.floats("blk.0.attn_v.weight"))
    }

    func testConfigJSONDecodesWithJSONSerialization() throws {
        let checkpoint = try GGUFCheckpoint(contentsOf: fixture("tiny_llama_untied.gguf"))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: checkpoint.configJSON) as? [String: Any])
        XCTAssertEqual(object["model_type"] as? String, "llama")
        XCTAssertEqual(object["architectures"] as? [String], ["LlamaForCausalLM"])
        XCTAssertEqual(object["hidden_act"] as? String, "silu")
        XCTAssertEqual(object["tie_word_embeddings"] as? Bool, false)
        XCTAssertEqual(object["attention_bias"] as? Bool, false)
        XCTAssertEqual(object["rms_norm_eps"] as? Double, 1e-5)
        XCTAssertEqual(object["rope_theta"] as? Int, 500_000)
        XCTAssertEqual(try JSONValue.parse(String(decoding: checkpoint.configJSON, as: UTF8.self)), checkpoint.config)
    }

    func testNameMappingCoversEveryLlamaTensor() {
        let cases = [
            ("token_embd.weight", "model.embed_tokens.weight"), ("output_norm.weight", "model.norm.weight"),
            ("output.weight", "lm_head.weight"),
            ("blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight"),
            ("blk.12.ffn_norm.weight", "model.layers.12.post_attention_layernorm.weight"),
            ("blk.3.attn_q.weight", "model.layers.3.self_attn.q_proj.weight"),
            ("blk.3.attn_q.bias", "model.layers.3.self_attn.q_proj.bias"),
            ("blk.3.attn_k.weight", "model.layers.3.self_attn.k_proj.weight"),
            ("blk.3.attn_v.weight", "model.layers.3.self_attn.v_proj.weight"),
            ("blk.3.attn_output.weight", "model.layers.3.self_attn.o_proj.weight"),
            ("blk.29.ffn_gate.weight", "model.layers.29.mlp.gate_proj.weight"),
            ("blk.29.ffn_up.weight", "model.layers.29.mlp.up_proj.weight"),
            ("blk.29.ffn_down.weight", "model.layers.29.mlp.down_proj.weight"),
        ]
        for (gguf, hf) in cases { XCTAssertEqual(GGUFTensorNames.huggingFaceName(of: gguf), hf, gguf) }
        for unmapped in ["rope_freqs.weight", "blk.x.attn_q.weight", "blk.01.attn_q.weight", "blk.1.attn_q.scale",
                         "blk.1.attn_q", "blk.-1.attn_q.weight"] {
            XCTAssertNil(GGUFTensorNames.huggingFaceName(of: unmapped), unmapped)
        }
    }

    func testWrongShapeMissingTensorAndUnsupportedFilesAreNamed() throws {
        let url = fixture("tiny_llama_tied.gguf")
        let checkpoint = try GGUFCheckpoint(contentsOf: url)
        XCTAssertThrowsError(try checkpoint.floats("model.layers.0.mlp.up_proj.weight", expectedShape: [64, 96])) {
            XCTAssertEqual("\($0)", "\(url.path): tensor 'model.layers.0.mlp.up_proj.weight' ('blk.0.ffn_up.weight') "
                + "has shape [96, 64], expected [64, 96]")
        }
        XCTAssertThrowsError(try checkpoint.floats("model.layers.7.mlp.up_proj.weight")) {
            XCTAssertTrue("\($0)".contains("missing tensor 'model.layers.7.mlp.up_proj.weight' (GGUF name "
                + "'blk.7.ffn_up.weight'; the file has 20 mapped tensors"), "\($0)")
        }
        XCTAssertThrowsError(try checkpoint.floats("lm_head.weight")) {
            XCTAssertTrue("\($0)".contains("GGUF name 'output.weight'"), "\($0)")
        }
        // The types fixture says llama but has none of a model's metadata.
        XCTAssertThrowsError(try GGUFCheckpoint(contentsOf: fixture("types_v3.gguf"))) {
            XCTAssertTrue("\($0)".hasSuffix("missing metadata 'llama.embedding_length' (an integer)"), "\($0)")
        }
        var b = GGUFValidationTests.Builder()
        b.add("general.architecture", string: "gpt2")
        let directory = try TestPaths.temporaryDirectory("gguf-checkpoint")
        defer { try? FileManager.default.removeItem(at: directory) }
        let other = directory.appendingPathComponent("gpt2.gguf")
        try Data(b.bytes()).write(to: other)
        XCTAssertThrowsError(try GGUFCheckpoint(contentsOf: other)) {
            XCTAssertEqual("\($0)", "\(other.path): metadata 'general.architecture' is \"gpt2\"; supported: llama, qwen2")
        }
        b = GGUFValidationTests.Builder()
        b.add("general.architecture", string: "llama")
        for key in ["embedding_length", "block_count", "feed_forward_length"] { b.add("llama.\(key)", u32: 8) }
        b.add("llama.attention.head_count", u32: 4)
        b.add("llama.attention.head_count_kv", u32: 3)
        try Data(b.bytes()).write(to: other)
        XCTAssertThrowsError(try GGUFCheckpoint(contentsOf: other)) {
            XCTAssertTrue("\($0)".hasSuffix("metadata 'llama.attention.head_count_kv' is 3: expected a positive "
                + "divisor of the head count 4"), "\($0)")
        }
        b.metadata.removeLast(2)  // both head counts: 3 heads, KV heads defaulting to 3
        b.add("llama.attention.head_count", u32: 3)
        try Data(b.bytes()).write(to: other)
        XCTAssertThrowsError(try GGUFCheckpoint(contentsOf: other)) {
            XCTAssertTrue("\($0)".hasSuffix("metadata 'llama.embedding_length' 8 is not a multiple of "
                + "'llama.attention.head_count' 3, and no 'llama.attention.key_length' gives the head size"), "\($0)")
        }
    }

    /// Keys transformers does not map are still kept: llama.cpp's rope scaling, and tensors without a
    /// Hugging Face name are listed rather than dropped silently.
    func testRopeScalingAndUnmappedTensors() throws {
        var b = GGUFValidationTests.Builder()
        b.add("general.architecture", string: "llama")
        for key in ["embedding_length", "feed_forward_length"] { b.add("llama.\(key)", u32: 8) }
        b.add("llama.block_count", u32: 1)
        b.add("llama.attention.head_count", u32: 2)
        b.add("llama.rope.scaling.type", string: "linear")
        b.metadata.append(("llama.rope.scaling.factor", 6, GGUFValidationTests.Builder.le(Float(2).bitPattern)))
        b.addF32("token_embd.weight", [8, 3], values: (0..<24).map(Float.init))
        b.addF32("rope_freqs.weight", [2], values: [1, 4])
        let directory = try TestPaths.temporaryDirectory("gguf-checkpoint")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("scaled.gguf")
        try Data(b.bytes()).write(to: url)
        let checkpoint = try GGUFCheckpoint(contentsOf: url)
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: checkpoint.configJSON) as? [String: Any])
        let rope = try XCTUnwrap(config["rope_scaling"] as? [String: Any])
        XCTAssertEqual(rope["rope_type"] as? String, "linear")
        XCTAssertEqual(rope["factor"] as? Int, 2)
        XCTAssertEqual(config["vocab_size"] as? Int, 3)  // from the embedding when no vocab_size or token list
        XCTAssertEqual(config["head_dim"] as? Int, 4)
        XCTAssertEqual(checkpoint.tensorNames, ["model.embed_tokens.weight"])
        XCTAssertEqual(checkpoint.unmappedTensorNames, ["rope_freqs.weight"])
    }

    private func assertConfig(_ checkpoint: GGUFCheckpoint, matches expected: [String: Any],
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let ours = try XCTUnwrap(try JSONSerialization.jsonObject(with: checkpoint.configJSON) as? [String: Any])
        for (key, value) in expected {
            switch value {
            case let flag as Bool where key == "tie_word_embeddings":
                XCTAssertEqual(ours[key] as? Bool, flag, key, file: file, line: line)
            case let text as String:
                XCTAssertEqual(ours[key] as? String, text, key, file: file, line: line)
            case let number as NSNumber:
                // transformers widens float32 metadata (1e-5f → 9.99999974738e-06); we keep the decimal the
                // float32 was written from (1e-05). Both are the same Float, which is what the model computes in.
                let mine = try XCTUnwrap(ours[key] as? NSNumber, key, file: file, line: line)
                XCTAssertEqual(Float(mine.doubleValue), Float(number.doubleValue), key, file: file, line: line)
            default:
                XCTFail("unexpected golden value for \(key): \(value)", file: file, line: line)
            }
        }
    }
}
