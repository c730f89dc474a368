import Text
import XCTest

/// Streaming a reply token by token never prints half a UTF-8 character, and stop strings end it unprinted.
final class StreamingTextTests: XCTestCase {
    let bytes = ByteTokenizer()

    func stream(_ text: String, stops: [String] = []) -> (pieces: [String], stream: StreamingText) {
        var s = StreamingText(tokenizer: bytes, stopStrings: stops)
        var pieces = [String]()
        for id in bytes.encode(text) where !s.stopped { pieces.append(s.append(id)) }
        pieces.append(s.finish())
        return (pieces, s)
    }

    func test_multiByteCharacters_areHeldUntilComplete() {
        let (pieces, s) = stream("aé日👍")
        // a | é (2 bytes) | 日 (3) | 👍 (4): empty pieces while a character is incomplete.
        XCTAssertEqual(pieces, ["a", "", "é", "", "", "日", "", "", "", "👍", ""])
        XCTAssertEqual(s.emitted, "aé日👍")
        XCTAssertFalse(pieces.contains { $0.contains("\u{FFFD}") })
    }

    func test_stopString_endsTheReplyWithoutPrintingIt() {
        let (pieces, s) = stream("Paris.\nUser: next", stops: ["\nUser:"])
        XCTAssertEqual(pieces.joined(), "Paris.")
        XCTAssertEqual(s.emitted, "Paris.")
        XCTAssertTrue(s.stopped)
    }

    func test_aPartialStopString_isHeldBack_thenReleasedWhenItDiverges() {
        var s = StreamingText(tokenizer: bytes, stopStrings: ["END"])
        XCTAssertEqual(s.append(Int(UInt8(ascii: "a"))), "a")
        XCTAssertEqual(s.append(Int(UInt8(ascii: "E"))), "")
        XCTAssertEqual(s.append(Int(UInt8(ascii: "N"))), "")
        XCTAssertEqual(s.append(Int(UInt8(ascii: "x"))), "ENx")
        XCTAssertEqual(s.append(Int(UInt8(ascii: "E"))), "")
        XCTAssertEqual(s.finish(), "E")
        XCTAssertEqual(s.emitted, "aENxE")
        XCTAssertFalse(s.stopped)
    }

    func test_anIncompleteCharacterAtTheEnd_isFlushedAsTheTokenizerDecodesIt() {
        var s = StreamingText(tokenizer: bytes)
        XCTAssertEqual(s.append(0xE6), "")
        XCTAssertEqual(s.finish(), "\u{FFFD}")
    }
}
