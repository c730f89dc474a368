import Data
import XCTest

final class ExampleTokenizerTests: XCTestCase {
    private let here = RecordLocation(file: "t", line: 1, recordIndex: 0)
    private let eos: Int32 = 256

    private func bytes(_ text: String) -> [Int32] { text.utf8.map(Int32.init) }

    func test_tokenize_concatenatesTemplatedPromptResponseAndEos() throws {
        let encoder = try ExampleTokenizer(tokenizer: TestByteTokenizer())
        let tokenized = try encoder.tokenize(SFTExample(prompt: "2+2?", response: "4", source: here))
        XCTAssertEqual(tokenized.ids, bytes("User: 2+2?\nAssistant: ") + bytes("4") + [eos])
        XCTAssertEqual(tokenized.responseStart, 22)
        XCTAssertEqual(tokenized.responseTokenCount, 2, "the response token and eos carry the loss")
    }

    func test_truncation_cutsPromptFromTheLeftAndResponseFromTheRight() throws {
        let encoder = try ExampleTokenizer(tokenizer: TestByteTokenizer(), template: .raw, maxLength: 10,
                                           minResponseTokens: 4)
        // Prompt 8 + response 3+eos = 12 > 10: the response fits whole (4 ≥ min), the prompt keeps its last 6.
        let short = try encoder.tokenize(SFTExample(prompt: "abcdefgh", response: "xyz", source: here))
        XCTAssertEqual(short.ids, bytes("cdefgh") + bytes("xyz") + [eos])
        XCTAssertEqual(short.responseStart, 6)
        // Prompt 8 + response 20+eos: the response keeps the minimum 4 (its eos is lost), the prompt the last 6.
        let long = try encoder.tokenize(SFTExample(prompt: "abcdefgh", response: String(repeating: "r", count: 20),
                                                   source: here))
        XCTAssertEqual(long.ids, bytes("cdefgh") + bytes("rrrr"))
        XCTAssertEqual(long.responseStart, 6)
        // Prompt 2: the response takes everything but the prompt.
        let room = try encoder.tokenize(SFTExample(prompt: "ab", response: String(repeating: "r", count: 20), source: here))
        XCTAssertEqual(room.ids, bytes("ab") + bytes("rrrrrrrr"))
    }

    func test_truncationBudget_alwaysLeavesOnePromptToken() {
        let budget = ExampleTokenizer.truncationBudget(promptCount: 50, longestResponse: 50, maxLength: 8,
                                                       minResponseTokens: 16)
        XCTAssertEqual(budget.prompt, 1)
        XCTAssertEqual(budget.response, 7)
        XCTAssertEqual(ExampleTokenizer.truncationBudget(promptCount: 3, longestResponse: 4, maxLength: 8,
                                                         minResponseTokens: 16).prompt, 3, "no cut when it fits")
    }

    func test_pairTruncation_keepsTheSamePromptTokensOnBothSides() throws {
        let encoder = try ExampleTokenizer(tokenizer: TestByteTokenizer(), template: .raw, maxLength: 12,
                                           minResponseTokens: 4)
        // Prompt 10, chosen 3+eos, rejected 9+eos: the longer response keeps the minimum 4, so both sides keep
        // the prompt's last 8 tokens; the shorter response fits whole.
        let pair = PreferencePair(prompt: "0123456789", chosen: "yes", rejected: "a long no", source: here)
        let tokenized = try encoder.tokenize(pair)
        XCTAssertEqual(tokenized.chosen.ids, bytes("23456789") + bytes("yes") + [eos])
        XCTAssertEqual(tokenized.rejected.ids, bytes("23456789") + bytes("a lo"))
        XCTAssertEqual(tokenized.chosen.responseStart, 8)
        XCTAssertEqual(tokenized.rejected.responseStart, 8)
    }

    func test_truncation_prefersKeepingThePromptWhenTheMinimumResponseFits() throws {
        let encoder = try ExampleTokenizer(tokenizer: TestByteTokenizer(), template: .raw, maxLength: 12,
                                           minResponseTokens: 2)
        let tokenized = try encoder.tokenize(SFTExample(prompt: "0123456789", response: "a long no", source: here))
        XCTAssertEqual(tokenized.ids, bytes("0123456789") + bytes("a "))
    }

    func test_tooSmallMaxLength_isRejected() {
        XCTAssertThrowsError(try ExampleTokenizer(tokenizer: TestByteTokenizer(), maxLength: 1)) { error in
            XCTAssertEqual((error as? DataOptionError)?.description,
                           "--max-len: expected at least 2 tokens (one of prompt, one of response), found 1")
        }
    }
}
