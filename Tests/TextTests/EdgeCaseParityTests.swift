import Foundation
import TestSupport
import Text
import XCTest

/// Hand-written hard cases (empty text, whitespace runs, emoji, CJK, combining marks, numbers, contractions,
/// special tokens in text, unusual code points) and decoding of byte sequences that are not UTF-8, each
/// compared with what Python `tokenizers` gives (Fixtures/tokenizer_edge_cases.json).
final class EdgeCaseParityTests: XCTestCase {
    private func cases() throws -> [[String: Any]] {
        let root = try XCTUnwrap(try jsonFixture("tokenizer_edge_cases.json") as? [String: Any])
        return try XCTUnwrap(root["texts"] as? [[String: Any]])
    }

    private func decodeCases() throws -> [[String: Any]] {
        let root = try XCTUnwrap(try jsonFixture("tokenizer_edge_cases.json") as? [String: Any])
        return try XCTUnwrap(root["decode"] as? [[String: Any]])
    }

    private func checkEncoding(_ name: String) throws {
        let tokenizer = try Tokenizers.named(name)
        let cases = try cases()
        XCTAssertGreaterThanOrEqual(cases.count, 30)
        for entry in cases {
            let text = try XCTUnwrap(entry["text"] as? String)
            let expected = try XCTUnwrap(entry[name] as? [Int])
            let expectedText = try XCTUnwrap(entry[name + "_decoded"] as? String)
            let ids = tokenizer.encode(text)
            XCTAssertEqual(ids, expected, "\(name): \"\(scalarsDescription(text))\"")
            let decoded = tokenizer.decode(ids)
            XCTAssertTrue(decoded.utf8.elementsEqual(expectedText.utf8),
                          "\(name): decode gave \"\(scalarsDescription(decoded))\", Python \"\(scalarsDescription(expectedText))\"")
        }
    }

    private func checkDecoding(_ name: String) throws {
        let tokenizer = try Tokenizers.named(name)
        var checked = 0
        for entry in try decodeCases() {
            guard let expected = entry[name] as? [String: Any] else { continue }
            let ids = try XCTUnwrap(expected["ids"] as? [Int])
            let text = try XCTUnwrap(expected["text"] as? String)
            let decoded = tokenizer.decode(ids)
            XCTAssertTrue(decoded.utf8.elementsEqual(text.utf8),
                          "\(name) \(entry["bytes"] ?? "unknown id"): got \"\(scalarsDescription(decoded))\", Python \"\(scalarsDescription(text))\"")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 6)
    }

    func test_tiny_encodesEdgeCasesAsPython() throws { try checkEncoding("tiny") }
    func test_pythia_encodesEdgeCasesAsPython() throws { try checkEncoding("pythia") }
    func test_gpt2_encodesEdgeCasesAsPython() throws { try checkEncoding("gpt2") }

    func test_tiny_decodesInvalidUTF8AndUnknownIdsAsPython() throws { try checkDecoding("tiny") }
    func test_pythia_decodesInvalidUTF8AndUnknownIdsAsPython() throws { try checkDecoding("pythia") }
    func test_gpt2_decodesInvalidUTF8AndUnknownIdsAsPython() throws { try checkDecoding("gpt2") }

    func test_pythia_emptyTextHasNoIds() throws {
        XCTAssertEqual(try Tokenizers.pythia().encode(""), [])
        XCTAssertEqual(try Tokenizers.pythia().decode([]), "")
    }

    func test_pythia_specialTokensInTextMapToTheirIds_andNamesEosAndPad() throws {
        let pythia = try Tokenizers.pythia()
        XCTAssertEqual(pythia.eosTokenId, 0)
        XCTAssertEqual(pythia.padTokenId, 1)
        XCTAssertEqual(pythia.vocabularySize, 50_277)
        let ids = pythia.encode("Hi<|endoftext|>")
        XCTAssertEqual(ids.last, 0)
        XCTAssertEqual(pythia.decode(ids), "Hi<|endoftext|>")
        XCTAssertEqual(pythia.decode(ids, skipSpecialTokens: true), "Hi")
        XCTAssertEqual(pythia.tokenId(for: "Ġthe"), 253)
        XCTAssertEqual(pythia.token(for: 253), "Ġthe")
    }

    func test_gpt2_endOfTextIs50256_andPadsWithIt() throws {
        let gpt2 = try Tokenizers.gpt2()
        XCTAssertEqual(gpt2.eosTokenId, 50_256)
        XCTAssertEqual(gpt2.padTokenId, 50_256)
        XCTAssertEqual(gpt2.vocabularySize, 50_257)
        XCTAssertEqual(gpt2.encode("<|endoftext|>"), [50_256])
    }

    /// Pythia matches runs of 2 to 24 spaces as added tokens before BPE (leftmost-longest).
    func test_pythia_spaceRunsBecomeAddedTokens() throws {
        let pythia = try Tokenizers.pythia()
        XCTAssertEqual(pythia.encode("a  b"), [66, 50_276, 67])
        XCTAssertEqual(pythia.encode(String(repeating: " ", count: 30)), [50_254, 50_272])
    }
}
