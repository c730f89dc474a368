import Foundation
import GGUF
import TestSupport
import Text
import XCTest

/// The tokenizer a GGUF's metadata describes gives the ids transformers' GGUF tokenizer gives
/// (`AutoTokenizer.from_pretrained(dir, gguf_file=...)`). Goldens: Fixtures/gguf/, made by
/// scripts/goldens/make_gguf_tokenizer_goldens.py.
final class GGUFTokenizerTests: XCTestCase {
    private func fixture(_ name: String) -> URL { TestPaths.fixture("TextTests", "gguf/\(name)") }

    private func cases(_ key: String) throws -> [(String, [Int])] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture("gguf_tokenizer_cases.json")))
        let list = try XCTUnwrap((object as? [String: Any])?[key] as? [[Any]])
        return list.map { ($0[0] as! String, ($0[1] as! [NSNumber]).map(\.intValue)) }
    }

    private func checkCases(_ tokenizer: BPETokenizer, _ key: String) throws {
        let cases = try cases(key)
        XCTAssertGreaterThan(cases.count, 10)
        for (text, expected) in cases {
            XCTAssertEqual(tokenizer.encode(text), expected, "\(key): \(text.debugDescription)")
            XCTAssertEqual(tokenizer.decode(expected), text, "\(key): decode \(text.debugDescription)")
        }
    }

    /// Always runs: a small BPE written as a GGUF, with control, user-defined and mislabelled tokens.
    func testTinyGGUFTokenizerMatchesTransformers() throws {
        let tokenizer = try BPETokenizer(ggufFile: fixture("tiny_tokenizer.gguf"))
        try checkCases(tokenizer, "tiny")
        XCTAssertEqual(tokenizer.vocabularySize, 405)
        XCTAssertEqual(tokenizer.eosTokenId, 0)
        XCTAssertEqual(tokenizer.padTokenId, 1)
        // CONTROL tokens are special (skipped on request); USER_DEFINED ones are not.
        XCTAssertEqual(tokenizer.decode([400, 401, 402], skipSpecialTokens: true), "[R]wordtok")
        // A control token spelled with spaces is not an added token: it is respelled and encoded piecewise.
        XCTAssertEqual(tokenizer.token(for: 404), "<|ĠspĠ|>")
        let info = try GGUFTokenizerInfo(file: GGUFFile(contentsOf: fixture("tiny_tokenizer.gguf")))
        XCTAssertEqual(info.model, "gpt2")
        XCTAssertEqual(info.preTokenizer, "smollm")
        XCTAssertEqual(info.bosTokenId, 0)
        XCTAssertEqual(info.addsBOSToken, false)
        XCTAssertTrue(info.chatTemplate?.hasPrefix("{% for message in messages %}") == true)
    }

    func testTokenizerLoaderAcceptsAGGUFFile() throws {
        let tokenizer = try TokenizerLoader.load(path: fixture("tiny_tokenizer.gguf").path)
        XCTAssertEqual(tokenizer.encode("aaaa aaaaaaaa bbbb"), try cases("tiny").first { $0.0 == "aaaa aaaaaaaa bbbb" }?.1)
    }

    func testUnsupportedTokenizersAreNamedByTheirKey() throws {
        func expect(_ name: String, _ field: String, _ fragment: String) {
            XCTAssertThrowsError(try BPETokenizer(ggufFile: fixture(name))) { error in
                guard let error = error as? TokenizerError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.file, self.fixture(name).path)
                XCTAssertEqual(error.field, field)
                XCTAssertTrue("\(error)".contains(fragment), "\(error)")
            }
        }
        expect("tiny_tokenizer_spm.gguf", "tokenizer.ggml.model", "expected \"gpt2\" (byte-level BPE), got \"llama\"")
        expect("tiny_tokenizer_llama3.gguf", "tokenizer.ggml.pre",
               "got \"llama-bpe\", whose split pattern this tokenizer does not implement")
        expect("tiny_tokenizer_no_tokens.gguf", "tokenizer.ggml.tokens", "expected the vocabulary")
        // Not a GGUF at all.
        XCTAssertThrowsError(try BPETokenizer(ggufFile: TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json"))) {
            XCTAssertTrue("\($0)".contains("expected a GGUF file, got bad magic at offset 0"), "\($0)")
        }
    }

    func testSmolLM2TokenizerMatchesTransformersOnHandWrittenTexts() throws {
        let tokenizer = try BPETokenizer(ggufFile: try SmolLM2File.url())
        try checkCases(tokenizer, "smollm2")
        XCTAssertEqual(tokenizer.vocabularySize, 49_152)
        XCTAssertEqual(tokenizer.eosTokenId, 2)  // <|im_end|>
        XCTAssertEqual(tokenizer.padTokenId, 2)
        XCTAssertEqual(tokenizer.tokenId(for: "<|im_start|>"), 1)
    }

    /// Every text of the shared corpus (28,835 texts) against transformers' GGUF tokenizer, by digest.
    func testSmolLM2TokenizerMatchesTransformersOnEveryCorpusText() throws {
        let tokenizer = try BPETokenizer(ggufFile: try SmolLM2File.url())
        let sources = try GoldenCorpus.load()
        let golden = try DigestFile(fixture("tokenizer_digests_smollm2_gguf.bin"))
        XCTAssertEqual(golden.sources.map(\.name), sources.map(\.name))
        var checked = 0
        var mismatches: [String] = []
        for (source, expected) in zip(sources, golden.sources) {
            XCTAssertEqual(source.texts.count, expected.digests.count, source.name)
            for (index, (text, digest)) in zip(source.texts, expected.digests).enumerated() {
                let ids = tokenizer.encode(text)
                if ids.count != digest.count || fnv1a(ids) != digest.hash {
                    mismatches.append("\(source.name)[\(index)]: \(ids.count) ids, expected \(digest.count)")
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, 28_835)
        XCTAssertTrue(mismatches.isEmpty, "\(mismatches.count) texts differ from transformers: \(mismatches.prefix(5))")
    }
}
