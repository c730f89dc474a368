import Data
import XCTest

final class DataCheckTests: XCTestCase {
    func test_check_reportsCountsReasonsProblemsAndTokenLengths() throws {
        let path = try Scratch(self).file("sft.jsonl", """
            {"prompt": "a", "response": "b"}
            {"prompt": "abc", "response": ""}
            {"prompt": "abcd", "response": "efgh"}
            not json
            {"prompt": "ab", "response": "cdefghijkl"}
            """)
        let report = try DataCheck.run(path: path, options: DataCheckOptions(promptFormat: .text(.raw), maxLength: 8),
                                       tokenizer: TestByteTokenizer(), tokenizerName: "byte")
        XCTAssertEqual(report.format, .promptResponse)
        XCTAssertEqual(report.kind, .sft)
        XCTAssertEqual(report.container, .jsonLines)
        XCTAssertEqual(report.records, 5)
        XCTAssertEqual(report.usable, 3)
        XCTAssertEqual(report.skipped, 2)
        XCTAssertEqual(report.skippedByReason, ["empty-response": 1, "malformed-json": 1])
        XCTAssertEqual(report.problems, [
            #"\#(path):2: record 1: field "response": expected a non-empty response, found """#,
            #"\#(path):4:1: record 3: malformed JSON: expected null, found "not""#,
        ])
        // Lengths (prompt + response + eos): 3, 9, 13.
        XCTAssertEqual(report.tokenLengths, LengthSummary(lengths: [3, 9, 13], limit: 8))
        XCTAssertEqual(report.tokenLengths?.median, 9)
        XCTAssertEqual(report.tokenLengths?.overLimit, 2)
        // Masked: the prompts' 1 + 4 + 2 tokens of 3 + 9 + 13.
        XCTAssertEqual(report.maskedShare, 7.0 / 25.0)
        XCTAssertNil(report.turns, "no conversations in this file")
        XCTAssertEqual(report.text, """
            \(path) (JSON Lines, format prompt-response, SFT examples)
            records: 5  usable: 3  skipped: 2
              empty-response: 1
              malformed-json: 1
            masked share: 28.0% of tokens (prompts, history, template); the loss covers the rest
            tokens (byte, template raw, 3 sequences): min 3  median 9  p95 13  max 13  over limit: 2
            problems (first 2 of 2):
              \(report.problems[0])
              \(report.problems[1])
            """)
    }

    func test_check_countsBothSequencesOfEachPair() throws {
        let path = try Scratch(self).file("pairs.jsonl", #"{"prompt": "ab", "chosen": "c", "rejected": "defg"}"#)
        let report = try DataCheck.run(path: path, options: DataCheckOptions(promptFormat: .text(.raw)),
                                       tokenizer: TestByteTokenizer(), tokenizerName: "byte")
        XCTAssertEqual(report.kind, .preference)
        XCTAssertEqual(report.tokenLengths?.count, 2)
        XCTAssertEqual(report.tokenLengths?.min, 4)
        XCTAssertEqual(report.tokenLengths?.max, 7)
    }

    func test_check_withoutTokenizer_hasNoLengths_andRoundTripsAsJSON() throws {
        let path = try Scratch(self).file("sft.json", #"[{"instruction": "i", "output": "o"}]"#)
        let report = try DataCheck.run(path: path)
        XCTAssertNil(report.tokenLengths)
        XCTAssertNil(report.tokenizer)
        let encoded = try JSONEncoder().encode(report)
        XCTAssertEqual(try JSONDecoder().decode(DataCheckReport.self, from: encoded), report)
    }

    func test_check_countsTheRecordsTheEvalSplitHoldsOut() throws {
        let lines = (0..<400).map { #"{"prompt": "p\#($0)", "response": "r"}"# }
        let path = try Scratch(self).file("sft.jsonl", lines.joined(separator: "\n"))
        let split = try EvalSplit(fraction: 0.25, seed: 5)
        let report = try DataCheck.run(path: path, options: DataCheckOptions(evalSplit: split))
        let expected = try SFTReader(path: path).readAll().filter(split.isEval).count
        XCTAssertEqual(report.evalRecords, expected)
        XCTAssertEqual(Double(expected) / 400, 0.25, accuracy: 0.06)
        XCTAssertTrue(report.text.contains("held out for eval: \(expected)"))
        XCTAssertNil(try DataCheck.run(path: path).evalRecords)
    }

    func test_check_throwsForAnUnreadableFile() {
        XCTAssertEqual(dataError { try DataCheck.run(path: "/nonexistent.jsonl") }?.reason, .unreadableFile)
    }

    func test_lengthSummary_usesNearestRankPercentiles() {
        let summary = LengthSummary(lengths: Array((1...100).reversed()), limit: 90)
        XCTAssertEqual(summary?.min, 1)
        XCTAssertEqual(summary?.median, 50)
        XCTAssertEqual(summary?.p95, 95)
        XCTAssertEqual(summary?.max, 100)
        XCTAssertEqual(summary?.overLimit, 10)
        XCTAssertNil(LengthSummary(lengths: []))
        XCTAssertEqual(LengthSummary(lengths: [7])?.p95, 7)
    }
}
