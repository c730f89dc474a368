import Foundation
import JSON
import XCTest
import Engine

/// config.json of Llama-family models: HF key names, defaults for optional keys, clear errors naming the field.
final class LlamaConfigTests: XCTestCase {
    private func parse(_ text: String) throws -> LlamaConfig {
        try LlamaConfig(json: JSONValue.parse(text).objectValue!, source: "config.json")
    }

    private let smolLM2 = """
    {"model_type": "llama", "vocab_size": 49152, "hidden_size": 576, "num_hidden_layers": 30,
     "num_attention_heads": 9, "num_key_value_heads": 3, "intermediate_size": 1536, "hidden_act": "silu",
     "rope_theta": 100000, "max_position_embeddings": 8192, "rms_norm_eps": 1e-05, "tie_word_embeddings": true,
     "rope_scaling": null, "bos_token_id": 1, "eos_token_id": 2, "attention_bias": false, "mlp_bias": false}
    """

    func test_smolLM2Config_readsEveryField() throws {
        let c = try parse(smolLM2)
        XCTAssertEqual(c, LlamaConfig(vocabSize: 49152, hiddenSize: 576, numLayers: 30, numHeads: 9, numKVHeads: 3,
                                      intermediateSize: 1536, ropeTheta: 100_000, maxPositions: 8192, rmsNormEps: 1e-5,
                                      tieWordEmbeddings: true))
        XCTAssertEqual(c.headDim, 64)
    }

    func test_optionalKeys_takeTransformersDefaults() throws {
        let c = try parse(#"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4}"#)
        XCTAssertEqual(c.numKVHeads, 2)
        XCTAssertEqual(c.ropeTheta, 10_000)
        XCTAssertEqual(c.rmsNormEps, 1e-6)
        XCTAssertFalse(c.tieWordEmbeddings)
        XCTAssertEqual(c.maxPositions, 2048)
    }

    func test_llama3Scaling_inBothSpellings_andTheWrittenConfigReadsBack() throws {
        let legacy = try parse(#"""
        {"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4,
         "rope_theta": 500000.0, "eos_token_id": [128001, 128009],
         "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 8192}}
        """#)
        XCTAssertEqual(legacy.llama3Scaling, Llama3RopeScaling(factor: 8, lowFreqFactor: 1, highFreqFactor: 4,
                                                               originalMaxPositions: 8192))
        XCTAssertEqual(legacy.ropeTheta, 500_000)
        XCTAssertEqual(legacy.eosTokenId, 128001, "the first of a list of eos ids")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llama-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        try legacy.write(to: url)
        XCTAssertEqual(try LlamaConfig(contentsOf: url), legacy, "rope_parameters (transformers 5) reads back")
    }

    func test_qwen2_hasQKVBiasesAndNoOutputBias() throws {
        let c = try parse(#"{"model_type": "qwen2", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "intermediate_size": 4, "sliding_window": 4096, "use_sliding_window": false, "max_position_embeddings": 32768}"#)
        XCTAssertTrue(c.qkvBias)
        XCTAssertFalse(c.outputBias)
        XCTAssertEqual(c.maxPositions, 32768, "the sliding window is off")
    }

    func test_mistral_slidingWindowCapsTheSequenceLength() throws {
        let c = try parse(#"{"model_type": "mistral", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4, "sliding_window": 4096, "max_position_embeddings": 32768}"#)
        XCTAssertEqual(c.maxPositions, 4096)
    }

    func test_badFields_nameTheFieldAndWhatWasExpected() {
        let base = #""vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "intermediate_size": 4"#
        let cases: [(String, String)] = [
            (#"{\#(base), "num_attention_heads": 4, "num_key_value_heads": 3}"#, "num_key_value_heads"),
            (#"{\#(base), "num_attention_heads": 2, "hidden_act": "gelu"}"#, "hidden_act"),
            (#"{\#(base), "num_attention_heads": 2, "rope_scaling": {"rope_type": "yarn", "factor": 2}}"#, "rope_type"),
            (#"{\#(base), "num_attention_heads": 2, "rope_scaling": {"rope_type": "llama3", "factor": 8}}"#, "low_freq_factor"),
            (#"{\#(base), "num_attention_heads": 2, "mlp_bias": true}"#, "mlp_bias"),
            (#"{\#(base), "num_attention_heads": 2, "tie_word_embeddings": "yes"}"#, "tie_word_embeddings"),
            (#"{\#(base), "num_attention_heads": 2, "model_type": "gemma"}"#, "model_type"),
            (#"{"vocab_size": 10, "hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 4}"#, "num_hidden_layers"),
        ]
        for (text, field) in cases {
            XCTAssertThrowsError(try parse(text), field) { error in
                XCTAssertTrue("\(error)".contains("config.json") && "\(error)".contains(field), "\(error)")
            }
        }
    }
}
