import Foundation
import TestSupport
import Text
import XCTest

/// The hand-written GPT-2 split pattern. Expected pieces are what `tokenizers`' ByteLevel pre-tokenizer gives
/// (checked with `pre_tokenize_str` when these cases were written).
final class GPT2SplitTests: XCTestCase {
    func test_split_aSpaceLeadsTheWordAfterIt() {
        XCTAssertEqual(GPT2Split.pieces(of: "Hello world"), ["Hello", " world"])
        XCTAssertEqual(GPT2Split.pieces(of: "3.14 apples!!"), ["3", ".", "14", " apples", "!!"])
        XCTAssertEqual(GPT2Split.pieces(of: "日本語 text"), ["日本語", " text"])
    }

    func test_split_whitespaceRunGivesUpItsLastCharacterToTheNextWord() {
        XCTAssertEqual(GPT2Split.pieces(of: "a  b"), ["a", " ", " b"])
        XCTAssertEqual(GPT2Split.pieces(of: "  lead"), [" ", " lead"])
        XCTAssertEqual(GPT2Split.pieces(of: "x \n y"), ["x", " \n", " y"])
    }

    func test_split_newlinesAndTabsBeforeAWordStandAlone() {
        XCTAssertEqual(GPT2Split.pieces(of: "x\n\ny"), ["x", "\n", "\n", "y"])
        XCTAssertEqual(GPT2Split.pieces(of: "a\t\tb"), ["a", "\t", "\t", "b"])
    }

    func test_split_trailingWhitespaceIsOnePiece() {
        XCTAssertEqual(GPT2Split.pieces(of: "end   "), ["end", "   "])
    }

    func test_split_contractionsAreLowercaseOnly_andTriedFirst() {
        XCTAssertEqual(GPT2Split.pieces(of: "I'm he's 'S ''s"), ["I", "'m", " he", "'s", " '", "S", " ''", "s"])
        XCTAssertEqual(GPT2Split.pieces(of: "rock 'n' roll"), ["rock", " '", "n", "'", " roll"])
        XCTAssertEqual(GPT2Split.pieces(of: "?!'s"), ["?!'", "s"])
    }

    func test_split_unicodeWhitespaceAndMarksFollowOnigClasses() {
        // A combining mark is neither letter nor number: it is "other".
        XCTAssertEqual(GPT2Split.pieces(of: "e\u{301} x"), ["e", "\u{301}", " x"])
        XCTAssertEqual(GPT2Split.pieces(of: "a\u{a0}b"), ["a", "\u{a0}", "b"])
        XCTAssertEqual(GPT2Split.pieces(of: " \u{2003}x"), [" ", "\u{2003}", "x"])
    }

    func test_split_emptyTextHasNoPieces() {
        XCTAssertEqual(GPT2Split.pieces(of: ""), [])
    }

    /// Every code point is classified as the Oniguruma engine in `tokenizers` does (Unicode 16, White_Space
    /// for \s): Fixtures/onig_unicode_classes.txt lists its \s, \p{L} and \p{N} ranges.
    func test_characterClasses_matchTokenizersRegexEngineForEveryCodePoint() throws {
        let text = try String(contentsOf: TestPaths.fixture("TextTests", "onig_unicode_classes.txt"), encoding: .utf8)
        var expected = [SplitCharacterClass](repeating: .other, count: 0x110000)
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            let first = Int(fields[0], radix: 16)!
            let last = Int(fields[1], radix: 16)!
            let cls: SplitCharacterClass = fields[2] == "s" ? .whitespace : fields[2] == "L" ? .letter : .number
            for v in first...last { expected[v] = cls }
        }
        var mismatches: [String] = []
        for v in 0..<0x110000 {
            guard let scalar = Unicode.Scalar(UInt32(v)) else { continue }
            let got = SplitCharacterClass.of(scalar)
            if got != expected[v] { mismatches.append("U+\(String(v, radix: 16)): \(got) vs \(expected[v])") }
        }
        XCTAssertTrue(mismatches.isEmpty, "\(mismatches.count) code points differ: \(mismatches.prefix(10))")
    }
}
