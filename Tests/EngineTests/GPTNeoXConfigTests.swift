import Foundation
import XCTest
import Engine

final class GPTNeoXConfigTests: XCTestCase {
    private func parse(_ json: String) throws -> GPTNeoXConfig {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        return try GPTNeoXConfig(json: object, source: "config.json")
    }

    private let valid = """
        {"model_type": "gpt_neox", "vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2,
         "num_attention_heads": 4, "intermediate_size": 64, "rotary_pct": 0.25, "rotary_emb_base": 10000,
         "max_position_embeddings": 32, "layer_norm_eps": 1e-5, "use_parallel_residual": false}
        """

    func test_parsesHuggingFaceNames() throws {
        let c = try parse(valid)
        XCTAssertEqual(c.headSize, 4)
        XCTAssertFalse(c.useParallelResidual)
        XCTAssertEqual(c.rotaryPct, 0.25)
    }

    func test_acceptsNewerRopeSpellings() throws {
        let c = try parse("""
            {"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
             "intermediate_size": 64, "partial_rotary_factor": 0.5, "rope_theta": 500}
            """)
        XCTAssertEqual(c.rotaryPct, 0.5)
        XCTAssertEqual(c.rotaryBase, 500)
    }

    func test_writtenJSONReadsBack() throws {
        let c = try parse(valid)
        XCTAssertEqual(try GPTNeoXConfig(json: c.json, source: "x"), c)
    }

    func test_errorsNameTheField() {
        let cases: [(String, String)] = [
            (valid.replacingOccurrences(of: "\"vocab_size\": 50,", with: ""), "vocab_size"),
            (valid.replacingOccurrences(of: "\"hidden_size\": 16", with: "\"hidden_size\": \"16\""), "hidden_size"),
            (valid.replacingOccurrences(of: "\"num_attention_heads\": 4", with: "\"num_attention_heads\": 3"), "num_attention_heads"),
            (valid.replacingOccurrences(of: "gpt_neox", with: "llama"), "model_type"),
            (valid.replacingOccurrences(of: "\"rotary_pct\": 0.25", with: "\"rotary_pct\": 1.5"), "rotary_pct"),
            (valid.replacingOccurrences(of: "\"num_hidden_layers\": 2", with: "\"num_hidden_layers\": true"), "num_hidden_layers"),
        ]
        for (json, field) in cases {
            XCTAssertThrowsError(try parse(json), field) { error in
                XCTAssertTrue("\(error)".contains("config.json"), "\(error)")
                XCTAssertTrue("\(error)".contains(field), "\(error) should name \(field)")
            }
        }
    }

    func test_unreadableOrInvalidFile_isAClearError() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/config.json")
        XCTAssertThrowsError(try GPTNeoXConfig(contentsOf: missing)) { XCTAssertTrue("\($0)".contains("/nonexistent/config.json")) }
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-config-\(getpid()).json")
        try Data("{not json".utf8).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        XCTAssertThrowsError(try GPTNeoXConfig(contentsOf: bad)) { XCTAssertTrue("\($0)".contains("invalid JSON"), "\($0)") }
    }
}
