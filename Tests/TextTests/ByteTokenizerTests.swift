import Text
import XCTest

final class ByteTokenizerTests: XCTestCase {
    let tokenizer = ByteTokenizer()

    func test_ids_areBytesThenEndOfTextThenPad() {
        XCTAssertEqual(tokenizer.vocabularySize, 258)
        XCTAssertEqual(tokenizer.eosTokenId, 256)
        XCTAssertEqual(tokenizer.padTokenId, 257)
        XCTAssertEqual(tokenizer.encode("Hé"), [0x48, 0xC3, 0xA9])
    }

    func test_specialTokensInText_mapToTheirIds() {
        XCTAssertEqual(tokenizer.encode("a<|endoftext|>b<|pad|>"), [0x61, 256, 0x62, 257])
        XCTAssertEqual(tokenizer.encode("<|endoftext"), Array("<|endoftext".utf8).map(Int.init))
    }

    func test_anyString_roundTripsByteForByte() {
        for text in ["", "plain", "e\u{301} 👨‍👩‍👧 日本 \u{0} \u{10FFFF}", "<|endoftext|><|pad|><|", "  \t\n"] {
            XCTAssertTrue(tokenizer.decode(tokenizer.encode(text)).utf8.elementsEqual(text.utf8), text)
        }
    }

    func test_decode_replacesInvalidUTF8_andSkipsIdsOutsideTheVocabulary() {
        XCTAssertEqual(tokenizer.decode([0x61, 0xE2, 0x82, 0x61]), "a\u{FFFD}a")
        XCTAssertEqual(tokenizer.decode([0x61, -1, 258, 1_000, 0x62]), "ab")
    }
}
