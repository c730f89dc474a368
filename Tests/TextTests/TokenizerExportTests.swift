import Foundation
import GGUF
import TestSupport
import Text
import XCTest

/// A tokenizer written back out — as tokenizer.json + tokenizer_config.json, or as GGUF metadata — reads back as
/// a tokenizer giving the ids transformers gives for the original (the tiny GGUF's goldens), with its special
/// tokens and chat template (docs/GGUF.md, "Saving" and "Export"). transformers' own reading of the written files
/// is checked by CLITests/ModelExportTests.
final class TokenizerExportTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("tokenizer-export") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private var tinyGGUF: URL { TestPaths.fixture("TextTests", "gguf/tiny_tokenizer.gguf") }

    private func tinyCases() throws -> [(String, [Int])] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.fixture("TextTests", "gguf/gguf_tokenizer_cases.json")))
        let list = try XCTUnwrap((object as? [String: Any])?["tiny"] as? [[Any]])
        return list.map { ($0[0] as! String, ($0[1] as! [NSNumber]).map(\.intValue)) }
    }

    func test_ggufTokenizer_writtenAsTokenizerJSON_givesTheSameIds_andTheConfigNamesItsTokens() throws {
        let original = try BPETokenizer(ggufFile: tinyGGUF)
        try HuggingFaceTokenizerFiles.write(original, source: tinyGGUF.path, to: directory, modelMaxLength: 64)
        let written = try BPETokenizer(tokenizerJSON: directory.appendingPathComponent("tokenizer.json"))
        for (text, ids) in try tinyCases() { XCTAssertEqual(written.encode(text), ids, text.debugDescription) }
        XCTAssertEqual(written.addedTokens.map(\.id).sorted(), original.addedTokens.map(\.id).sorted())

        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("tokenizer_config.json"))) as? [String: Any])
        let info = try GGUFTokenizerInfo(file: try GGUFFile(contentsOf: tinyGGUF))
        XCTAssertEqual(config["tokenizer_class"] as? String, "PreTrainedTokenizerFast")
        XCTAssertEqual(config["eos_token"] as? String, original.token(for: original.eosTokenId))
        XCTAssertEqual(config["chat_template"] as? String, info.chatTemplate)
        XCTAssertEqual(config["add_bos_token"] as? Bool, info.addsBOSToken)
        XCTAssertEqual(config["model_max_length"] as? Int, 64)
        XCTAssertEqual((config["added_tokens_decoder"] as? [String: Any])?.count, Set(original.addedTokens.map(\.id)).count)
    }

    func test_tokenizerFromATokenizerJSON_isCopiedAsItWas() throws {
        let source = TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json")
        let tokenizer = try BPETokenizer(tokenizerJSON: source)
        try HuggingFaceTokenizerFiles.write(tokenizer, source: source.path, to: directory, chatTemplate: "{{ messages }}")
        XCTAssertEqual(try Data(contentsOf: directory.appendingPathComponent("tokenizer.json")), try Data(contentsOf: source))
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("tokenizer_config.json"))) as? [String: Any]
        XCTAssertEqual(config?["chat_template"] as? String, "{{ messages }}")
    }

    func test_ggufTokenizer_writtenAsGGUFMetadata_readsBackWithTheSameIdsAndSpecialTokens() throws {
        let original = try BPETokenizer(ggufFile: tinyGGUF)
        let info = try GGUFTokenizerInfo(file: try GGUFFile(contentsOf: tinyGGUF))
        var writer = GGUFWriter()
        // Two ids more than the tokenizer has: they are listed as unused padding tokens.
        writer.metadata = try GGUFTokenizerMetadata.entries(original, extras: .init(gguf: info),
                                                            vocabularySize: original.vocabularySize + 2, preTokenizer: info.preTokenizer)
        let url = directory.appendingPathComponent("tokenizer.gguf")
        try writer.write(to: url)
        let file = try GGUFFile(contentsOf: url)
        let back = try BPETokenizer(gguf: file)
        for (text, ids) in try tinyCases() { XCTAssertEqual(back.encode(text), ids, text.debugDescription) }
        let backInfo = try GGUFTokenizerInfo(file: file)
        XCTAssertEqual(backInfo.chatTemplate, info.chatTemplate)
        XCTAssertEqual(backInfo.bosTokenId, info.bosTokenId)
        XCTAssertEqual(back.eosTokenId, original.eosTokenId)
        XCTAssertEqual(try file.strings("tokenizer.ggml.tokens")?.suffix(2), ["[PAD\(original.vocabularySize)]", "[PAD\(original.vocabularySize + 1)]"])
        XCTAssertEqual(try file.integers("tokenizer.ggml.token_type")?.last, 5)
    }

    func test_byteTokenizer_asGGUFMetadataAndTokenizerJSON_keepsItsIds() throws {
        var writer = GGUFWriter()
        writer.metadata = try GGUFTokenizerMetadata.entries(ByteTokenizer(), extras: .init(), vocabularySize: 258)
        let url = directory.appendingPathComponent("byte.gguf")
        try writer.write(to: url)
        let back = try BPETokenizer(ggufFile: url)
        try HuggingFaceTokenizerFiles.write(ByteTokenizer(), source: nil, to: directory)
        let json = try BPETokenizer(tokenizerJSON: directory.appendingPathComponent("tokenizer.json"))
        for text in ["plain", "naïve ☕ <|endoftext|> <|pad|>", "  spaces\n"] {
            XCTAssertEqual(back.encode(text), ByteTokenizer().encode(text), text)
            XCTAssertEqual(json.encode(text), ByteTokenizer().encode(text), text)
        }
    }

    func test_aTokenizerGGUFCannotDescribe_isRefusedNamingWhatDiffers() throws {
        // Pythia-style NFC normalization has no GGUF "gpt2" equivalent.
        let tokenizer = try BPETokenizer(tokenizerJSON: TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json"))
        XCTAssertThrowsError(try GGUFTokenizerMetadata.entries(tokenizer, extras: .init(), vocabularySize: 500)) {
            XCTAssertTrue("\($0)".contains("normalization [\"NFC\"]"), "\($0)")
        }
        let small = try BPETokenizer(ggufFile: tinyGGUF)
        XCTAssertThrowsError(try GGUFTokenizerMetadata.entries(small, extras: .init(), vocabularySize: 3)) {
            XCTAssertTrue("\($0)".contains("at most the model's 3 ids"), "\($0)")
        }
    }

    func test_write_intoAMissingDirectory_namesTheFile() throws {
        let missing = directory.appendingPathComponent("no/such/dir")
        XCTAssertThrowsError(try HuggingFaceTokenizerFiles.write(ByteTokenizer(), source: nil, to: missing)) {
            XCTAssertTrue("\($0)".contains(missing.appendingPathComponent("tokenizer.json").path), "\($0)")
        }
    }
}
