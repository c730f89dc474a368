import Foundation
import TestSupport
import Text
import XCTest

/// One id, one token: a tokenizer.json in which two tokens share an id is refused naming both; and the byte
/// tokenizer written as a tokenizer.json (what a trained model directory carries) encodes exactly as it does.
final class TokenizerIdentityTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("xright-token-ids") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func write(vocab: [String: Int], added: [[String: Any]]) throws -> URL {
        let root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
            "normalizer": NSNull(), "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false],
            "post_processor": NSNull(), "decoder": ["type": "ByteLevel"],
            "model": ["type": "BPE", "vocab": vocab, "merges": [String]()] as [String: Any],
        ]
        let url = directory.appendingPathComponent("tokenizer.json")
        try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]).write(to: url)
        return url
    }

    func test_twoVocabularyTokensWithOneId_areRefusedNamingBoth() throws {
        let url = try write(vocab: ["a": 1, "b": 1, "c": 2], added: [])
        XCTAssertThrowsError(try BPETokenizer(tokenizerJSON: url)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(url.path), text)
            XCTAssertTrue(text.contains("\"a\"") && text.contains("\"b\""), text)
            XCTAssertTrue(text.contains("an id no other token has"), text)
        }
    }

    func test_addedTokenReusingAnotherTokensId_isRefused() throws {
        let url = try write(vocab: ["a": 0, "b": 1], added: [["id": 1, "content": "<|endoftext|>", "special": true]])
        XCTAssertThrowsError(try BPETokenizer(tokenizerJSON: url)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("added_tokens[0].id"), text)
            XCTAssertTrue(text.contains("\"b\"") && text.contains("<|endoftext|>"), text)
        }
    }

    func test_addedTokenRepeatingItsOwnVocabularyEntry_isAccepted() throws {
        let url = try write(vocab: ["a": 0, "<|endoftext|>": 1], added: [["id": 1, "content": "<|endoftext|>", "special": true]])
        XCTAssertEqual(try BPETokenizer(tokenizerJSON: url).encode("a<|endoftext|>"), [0, 1])
    }

    func test_byteTokenizerAsTokenizerJSON_encodesAsTheByteTokenizer() throws {
        let url = directory.appendingPathComponent("tokenizer.json")
        try ByteTokenizer.tokenizerJSON().write(to: url)
        let loaded = try TokenizerLoader.load(path: directory.path)
        let bytes = ByteTokenizer()
        XCTAssertEqual(loaded.vocabularySize, bytes.vocabularySize)
        XCTAssertEqual(loaded.eosTokenId, bytes.eosTokenId)
        let texts = ["User: 2+2=\nAssistant: 4<|endoftext|>", "  spaces\tand\u{0}control\u{7f}", "naïve café 日本語 🙂",
                     "<|pad|><|endoftext|><|", String((0..<128).map { Character(Unicode.Scalar($0)!) })]
        for text in texts {
            XCTAssertEqual(loaded.encode(text), bytes.encode(text), text.debugDescription)
            XCTAssertEqual(loaded.decode(bytes.encode(text)), text)
        }
    }
}
