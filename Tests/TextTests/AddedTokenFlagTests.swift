import Foundation
import TestSupport
import Text
import XCTest

/// The tiny committed tokenizer carries added tokens with each flag; expected ids come from Python
/// `tokenizers` (Fixtures/tokenizer_edge_cases.json). Ids: 400 `<mask>` (lstrip), 401 `[R]` (rstrip),
/// 402 `wordtok` (single_word, normalized), 403 two spaces (normalized).
final class AddedTokenFlagTests: XCTestCase {
    func test_lstrip_swallowsTheWhitespaceBeforeTheToken() throws {
        let tiny = try Tokenizers.tiny()
        XCTAssertEqual(tiny.encode("a <mask> b  <mask>c"), [66, 400, 291, 400, 68])
        XCTAssertEqual(tiny.decode(tiny.encode("a <mask> b  <mask>c")), "a<mask> b<mask>c")
    }

    func test_rstrip_swallowsTheWhitespaceAfterTheToken() throws {
        let tiny = try Tokenizers.tiny()
        XCTAssertEqual(tiny.encode("x[R]   y [R]\tz"), [89, 401, 90, 222, 401, 91])
    }

    func test_singleWord_matchesOnlyWhenNoWordCharacterTouchesIt() throws {
        let tiny = try Tokenizers.tiny()
        let ids = tiny.encode("wordtok wordtoks awordtok wordtok. (wordtok)")
        XCTAssertEqual(ids.filter { $0 == 402 }.count, 3, "standalone, before '.', inside parentheses")
        XCTAssertEqual(ids.first, 402)
        // A combining mark is a word character for `\w`: neither of these is a single word.
        XCTAssertFalse(tiny.encode("wordtok\u{301} e\u{301}wordtok").contains(402))
    }

    func test_addedTokens_areListedWithTheirFlags() throws {
        let tiny = try Tokenizers.tiny()
        let mask = try XCTUnwrap(tiny.addedTokens.first { $0.content == "<mask>" })
        XCTAssertEqual(mask, AddedToken(id: 400, content: "<mask>", special: true, lstrip: true, normalized: false))
        XCTAssertEqual(tiny.tokenId(for: "wordtok"), 402)
        XCTAssertEqual(tiny.eosTokenId, 0)
        XCTAssertEqual(tiny.padTokenId, 1)
    }
}
