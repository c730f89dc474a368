import Foundation
import TestSupport
import Text
import XCTest

/// Every way a tokenizer file can be wrong gives a `TokenizerError` naming the file, the field, what was
/// expected and what was found.
final class TokenizerLoadingErrorTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("xright-text-errors")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A minimal valid tokenizer.json over the alphabet {a, b} with one merge, edited by `change`.
    private func tokenizerJSON(_ change: (inout [String: Any]) -> Void = { _ in }) -> [String: Any] {
        let model: [String: Any] = [
            "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(),
            "vocab": ["<|endoftext|>": 0, "a": 1, "b": 2, "ab": 3],
            "merges": ["a b"],
        ]
        var root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": [["id": 0, "content": "<|endoftext|>", "special": true, "normalized": false]],
            "normalizer": ["type": "NFC"],
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true],
            "post_processor": ["type": "ByteLevel"],
            "decoder": ["type": "ByteLevel"],
        ]
        root["model"] = model
        change(&root)
        return root
    }

    private func write(_ json: Any, _ name: String = "tokenizer.json") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return url
    }

    private func writeText(_ text: String, _ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    private func loadError(_ url: URL, file: StaticString = #filePath, line: UInt = #line) -> TokenizerError? {
        do {
            _ = try BPETokenizer(tokenizerJSON: url)
            XCTFail("expected a TokenizerError", file: file, line: line)
        } catch let error as TokenizerError {
            XCTAssertEqual(error.file, url.path, "the error names the file", file: file, line: line)
            return error
        } catch {
            XCTFail("expected a TokenizerError, got \(error)", file: file, line: line)
        }
        return nil
    }

    private func editModel(_ edit: @escaping (inout [String: Any]) -> Void) -> [String: Any] {
        tokenizerJSON { root in
            var model = root["model"] as! [String: Any]
            edit(&model)
            root["model"] = model
        }
    }

    func test_validMinimalFile_loadsAndMerges() throws {
        let tokenizer = try BPETokenizer(tokenizerJSON: try write(tokenizerJSON()))
        XCTAssertEqual(tokenizer.encode("abba"), [3, 2, 1])
        XCTAssertEqual(tokenizer.vocabularySize, 4)
    }

    func test_missingFile_isUnreadable() {
        let error = loadError(directory.appendingPathComponent("absent.json"))
        XCTAssertEqual(error?.kind, .unreadableFile)
        XCTAssertEqual(error?.got, "no such file")
    }

    func test_malformedJSON_namesLineAndColumn() throws {
        let url = try writeText("{\n  \"model\": {\n    \"vocab\": {\"a\": 1,}\n  }\n}", "tokenizer.json")
        let error = loadError(url)
        XCTAssertEqual(error?.kind, .malformedJSON)
        XCTAssertEqual(error?.field, "line 3, column 22")
        XCTAssertEqual(error?.expected, "a string key")
        XCTAssertEqual(error?.got, "'}'")
    }

    func test_missingModel_isMissingField() throws {
        let error = loadError(try write(tokenizerJSON { $0["model"] = nil }))
        XCTAssertEqual(error?.kind, .missingField)
        XCTAssertEqual(error?.field, "model")
    }

    func test_otherModelType_isUnsupported() throws {
        let error = loadError(try write(editModel { $0["type"] = "WordPiece" }))
        XCTAssertEqual(error?.kind, .unsupported)
        XCTAssertEqual(error?.field, "model.type")
        XCTAssertEqual(error?.expected, "\"BPE\"")
        XCTAssertEqual(error?.got, "\"WordPiece\"")
    }

    func test_vocabOfWrongType_isInvalidValue() throws {
        let error = loadError(try write(editModel { $0["vocab"] = ["a", "b"] }))
        XCTAssertEqual(error?.kind, .invalidValue)
        XCTAssertEqual(error?.field, "model.vocab")
        XCTAssertEqual(error?.expected, "an object")
        XCTAssertEqual(error?.got, "an array")
    }

    func test_negativeOrFractionalId_isInvalidValue() throws {
        let error = loadError(try write(editModel { $0["vocab"] = ["<|endoftext|>": 0, "a": -1] }))
        XCTAssertEqual(error?.kind, .invalidValue)
        XCTAssertEqual(error?.field, "model.vocab[\"a\"]")
        XCTAssertEqual(error?.got, "-1")
        let fractional = loadError(try write(editModel { $0["vocab"] = ["<|endoftext|>": 0, "a": 1.5] }))
        XCTAssertEqual(fractional?.got, "1.5")
    }

    func test_mergeReferencingUnknownToken_namesTheMerge() throws {
        let error = loadError(try write(editModel { $0["merges"] = ["a b", "b c"] }))
        XCTAssertEqual(error?.kind, .unknownToken)
        XCTAssertEqual(error?.field, "model.merges[1]")
        XCTAssertEqual(error?.got, "\"c\"")
    }

    func test_mergeWhoseResultIsNotInVocab_isUnknownToken() throws {
        let error = loadError(try write(editModel { $0["merges"] = ["a b", "b a"] }))
        XCTAssertEqual(error?.kind, .unknownToken)
        XCTAssertEqual(error?.field, "model.merges[1]")
        XCTAssertEqual(error?.got, "\"ba\"")
    }

    func test_malformedMerges_stringAndPair() throws {
        let three = loadError(try write(editModel { $0["merges"] = ["a b c"] }))
        XCTAssertEqual(three?.kind, .malformedMerge)
        XCTAssertEqual(three?.field, "model.merges[0]")
        XCTAssertEqual(three?.got, "\"a b c\"")
        let pair = loadError(try write(editModel { $0["merges"] = [["a"]] }))
        XCTAssertEqual(pair?.kind, .malformedMerge)
        let number = loadError(try write(editModel { $0["merges"] = [7] }))
        XCTAssertEqual(number?.got, "a number")
    }

    func test_pairEncodedMerges_loadLikeStrings() throws {
        let tokenizer = try BPETokenizer(tokenizerJSON: try write(editModel { $0["merges"] = [["a", "b"]] }))
        XCTAssertEqual(tokenizer.encode("ab"), [3])
    }

    func test_unsupportedPipelineParts_areNamed() throws {
        let cases: [(String, (inout [String: Any]) -> Void, String)] = [
            ("pre_tokenizer.type", { $0["pre_tokenizer"] = ["type": "Whitespace"] }, "\"Whitespace\""),
            ("pre_tokenizer", { $0["pre_tokenizer"] = NSNull() }, "null"),
            ("normalizer.type", { $0["normalizer"] = ["type": "Lowercase"] }, "\"Lowercase\""),
            ("decoder.type", { $0["decoder"] = ["type": "WordPiece"] }, "\"WordPiece\""),
            ("post_processor.type", { $0["post_processor"] = ["type": "TemplateProcessing"] }, "\"TemplateProcessing\""),
            ("truncation", { $0["truncation"] = ["max_length": 512] }, "an object (encoding must not truncate or pad)"),
        ]
        for (field, change, got) in cases {
            let error = loadError(try write(tokenizerJSON(change)))
            XCTAssertEqual(error?.kind, .unsupported, field)
            XCTAssertEqual(error?.field, field)
            XCTAssertEqual(error?.got, got, field)
        }
        let fallback = loadError(try write(editModel { $0["byte_fallback"] = true }))
        XCTAssertEqual(fallback?.field, "model.byte_fallback")
        let dropout = loadError(try write(editModel { $0["dropout"] = 0.1 }))
        XCTAssertEqual(dropout?.field, "model.dropout")
        let prefix = loadError(try write(editModel { $0["continuing_subword_prefix"] = "##" }))
        XCTAssertEqual(prefix?.field, "model.continuing_subword_prefix")
    }

    func test_pipelinePartsOfWrongShape_nameTheField() throws {
        let cases: [(String, TokenizerError.Kind, (inout [String: Any]) -> Void)] = [
            ("pre_tokenizer.type", .missingField, { $0["pre_tokenizer"] = ["add_prefix_space": false] }),
            ("pre_tokenizer.add_prefix_space", .invalidValue, { $0["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": "no"] }),
            ("pre_tokenizer.pretokenizers", .unsupported, {
                $0["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "ByteLevel"], ["type": "Digits"]]]
            }),
            ("normalizer.normalizers[1].type", .unsupported, {
                $0["normalizer"] = ["type": "Sequence", "normalizers": [["type": "NFC"], ["type": "Strip"]]]
            }),
            ("normalizer", .invalidValue, { $0["normalizer"] = "NFC" }),
            ("added_tokens", .invalidValue, { $0["added_tokens"] = ["id": 0] }),
            ("added_tokens[0].id", .invalidValue, { $0["added_tokens"] = [["id": "zero", "content": "<|endoftext|>"]] }),
            ("added_tokens[0].special", .invalidValue, { $0["added_tokens"] = [["id": 0, "content": "x", "special": 1]] }),
        ]
        for (field, kind, change) in cases {
            let error = loadError(try write(tokenizerJSON(change)))
            XCTAssertEqual(error?.field, field)
            XCTAssertEqual(error?.kind, kind, field)
        }
        let merges = loadError(try write(editModel { $0["merges"] = "a b" }))
        XCTAssertEqual(merges?.field, "model.merges")
        XCTAssertEqual(merges?.expected, "an array")
        let fuse = loadError(try write(editModel { $0["fuse_unk"] = "yes" }))
        XCTAssertEqual(fuse?.field, "model.fuse_unk")
        XCTAssertEqual(fuse?.expected, "true or false")
    }

    func test_pathThatIsADirectory_isUnreadableAsAFile() {
        let error = loadError(directory)
        XCTAssertEqual(error?.kind, .unreadableFile)
        XCTAssertEqual(error?.got, "a directory")
    }

    func test_pythonStyleSequenceOfOneByteLevel_loads() throws {
        let json = tokenizerJSON {
            $0["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "ByteLevel", "add_prefix_space": true]]]
        }
        let tokenizer = try BPETokenizer(tokenizerJSON: try write(json))
        // add_prefix_space: "ab" is read as " ab"; the vocabulary has no space token, so that byte drops out.
        XCTAssertEqual(tokenizer.encode("ab"), [3])
    }

    func test_noEndOfSequenceToken_isMissingField() throws {
        let error = loadError(try write(tokenizerJSON { root in
            root["added_tokens"] = []
            var model = root["model"] as! [String: Any]
            model["vocab"] = ["a": 0, "b": 1, "ab": 2]
            root["model"] = model
        }))
        XCTAssertEqual(error?.kind, .missingField)
        XCTAssertEqual(error?.field, "added_tokens")
    }

    func test_explicitEosTokenNotInVocabulary_isUnknownToken() throws {
        let url = try write(tokenizerJSON())
        XCTAssertThrowsError(try BPETokenizer(tokenizerJSON: url, eosToken: "</s>")) { error in
            XCTAssertEqual((error as? TokenizerError)?.kind, .unknownToken)
            XCTAssertEqual((error as? TokenizerError)?.got, "\"</s>\"")
        }
    }

    func test_unknownTokenNotInVocabulary_isUnknownToken() throws {
        let error = loadError(try write(editModel { $0["unk_token"] = "<unk>" }))
        XCTAssertEqual(error?.kind, .unknownToken)
        XCTAssertEqual(error?.field, "model.unk_token")
    }

    func test_addedTokenWithoutContent_namesItsIndex() throws {
        let missing = loadError(try write(tokenizerJSON { $0["added_tokens"] = [["id": 0]] }))
        XCTAssertEqual(missing?.kind, .missingField)
        XCTAssertEqual(missing?.field, "added_tokens[0].content")
        let empty = loadError(try write(tokenizerJSON { $0["added_tokens"] = [["id": 0, "content": ""]] }))
        XCTAssertEqual(empty?.kind, .invalidValue)
        XCTAssertEqual(empty?.field, "added_tokens[0].content")
    }

    func test_emptyVocabulary_isInvalidValue() throws {
        let error = loadError(try write(editModel { $0["vocab"] = [String: Int](); $0["merges"] = [] }))
        XCTAssertEqual(error?.kind, .invalidValue)
        XCTAssertEqual(error?.field, "model.vocab")
    }

    // MARK: GPT-2 encoder.json + vocab.bpe

    private func gpt2Pair(encoder: Any = ["a": 0, "b": 1, "ab": 2, "<|endoftext|>": 3],
                          merges: String = "#version: 0.2\na b\n") throws -> (URL, URL) {
        (try write(encoder, "encoder.json"), try writeText(merges, "vocab.bpe"))
    }

    func test_gpt2Pair_loadsAndMarksEndOfText() throws {
        let (encoder, merges) = try gpt2Pair()
        let tokenizer = try BPETokenizer(encoderJSON: encoder, merges: merges)
        XCTAssertEqual(tokenizer.encode("ab<|endoftext|>"), [2, 3])
        XCTAssertEqual(tokenizer.eosTokenId, 3)
    }

    func test_gpt2MergesLineWithThreeParts_namesTheLine() throws {
        let (encoder, merges) = try gpt2Pair(merges: "#version: 0.2\na b\na b c\n")
        XCTAssertThrowsError(try BPETokenizer(encoderJSON: encoder, merges: merges)) { error in
            let error = error as? TokenizerError
            XCTAssertEqual(error?.kind, .malformedMerge)
            XCTAssertEqual(error?.file, merges.path)
            XCTAssertEqual(error?.field, "line 3")
            XCTAssertEqual(error?.got, "\"a b c\"")
        }
    }

    func test_gpt2MergeWithUnknownToken_namesTheLine() throws {
        let (encoder, merges) = try gpt2Pair(merges: "#version: 0.2\nx b\n")
        XCTAssertThrowsError(try BPETokenizer(encoderJSON: encoder, merges: merges)) { error in
            let error = error as? TokenizerError
            XCTAssertEqual(error?.kind, .unknownToken)
            XCTAssertEqual(error?.file, merges.path)
            XCTAssertEqual(error?.field, "line 2")
            XCTAssertEqual(error?.got, "\"x\"")
        }
    }

    func test_gpt2EncoderThatIsNotAnObject_isInvalidValue() throws {
        let (encoder, merges) = try gpt2Pair(encoder: ["a", "b"])
        XCTAssertThrowsError(try BPETokenizer(encoderJSON: encoder, merges: merges)) { error in
            let error = error as? TokenizerError
            XCTAssertEqual(error?.kind, .invalidValue)
            XCTAssertEqual(error?.file, encoder.path)
            XCTAssertEqual(error?.got, "an array")
        }
    }

    func test_gpt2EncoderWithNonIntegerId_namesTheToken() throws {
        let (encoder, merges) = try gpt2Pair(encoder: ["a": 0, "b": "one"])
        XCTAssertThrowsError(try BPETokenizer(encoderJSON: encoder, merges: merges)) { error in
            let error = error as? TokenizerError
            XCTAssertEqual(error?.kind, .invalidValue)
            XCTAssertEqual(error?.field, "[\"b\"]")
            XCTAssertEqual(error?.got, "a string")
        }
    }

    func test_gpt2MergesThatAreNotUTF8_areUnreadable() throws {
        let (encoder, _) = try gpt2Pair()
        let merges = directory.appendingPathComponent("vocab.bpe")
        try Data([0x61, 0x20, 0xFF, 0x0A]).write(to: merges)
        XCTAssertThrowsError(try BPETokenizer(encoderJSON: encoder, merges: merges)) { error in
            XCTAssertEqual((error as? TokenizerError)?.kind, .unreadableFile)
            XCTAssertEqual((error as? TokenizerError)?.got, "invalid UTF-8")
        }
    }

    func test_errorDescription_readsFileFieldExpectedGot() {
        let error = TokenizerError(.unknownToken, file: "t.json", field: "model.merges[3]",
                                   expected: "tokens of the vocabulary", got: "\"zz\"")
        XCTAssertEqual(error.description, "t.json: model.merges[3]: expected tokens of the vocabulary, got \"zz\"")
    }
}
