import Data
import TestSupport
import XCTest

/// The real samples in ../shared/data, with the figures its README reports. Skipped when the data is absent.
final class SharedSampleTests: XCTestCase {
    private func check(_ name: String) throws -> (DataCheckReport, String) {
        let path = try TestPaths.sharedFile(name).path
        return (try DataCheck.run(path: path, options: DataCheckOptions(problemsKept: 20)), path)
    }

    func test_alpaca5000_has5000RecordsOfWhich2HaveAnEmptyOutput() throws {
        let (report, _) = try check("alpaca_5000.json")
        XCTAssertEqual(report.container, .jsonArray)
        XCTAssertEqual(report.format, .alpaca)
        XCTAssertEqual(report.records, 5000)
        XCTAssertEqual(report.usable, 4998)
        XCTAssertEqual(report.skippedByReason, ["empty-response": 2])
    }

    func test_alpaca5000_inputsJoinTheInstruction() throws {
        let examples = try SFTReader(path: TestPaths.sharedFile("alpaca_5000.json").path).readAll()
        XCTAssertEqual(examples.first?.prompt, "Are the two sentences below grammatically correct? Output yes or no.\n"
                       + "Sentence 1: I am going to the store.\nSentence 2: I goes to the store.")
        // 1,943 records have an input; 63 more have a line break in the instruction itself.
        XCTAssertEqual(examples.filter { $0.prompt.contains("\n") }.count, 2006)
    }

    func test_alpacaEnDemo_has999UsableRecords() throws {
        let (report, _) = try check("alpaca_en_demo.json")
        XCTAssertEqual(report.records, 999)
        XCTAssertEqual(report.usable, 999)
        XCTAssertEqual(report.skipped, 0)
    }

    func test_dpoEnDemo_has300PairsWithTheirConversationShapes() throws {
        let pairs = try PreferenceReader(path: TestPaths.sharedFile("dpo_en_demo.json").path).readAll()
        XCTAssertEqual(pairs.count, 300)
        XCTAssertEqual(pairs.filter { $0.context.isEmpty }.count, 114, "single-turn")
        XCTAssertEqual(pairs.filter { $0.context.map(\.role) == [.system] }.count, 80, "system + one human turn")
        XCTAssertEqual(pairs.filter { $0.context.contains { $0.role == .assistant } }.count, 106, "multi-turn")
        XCTAssertTrue(pairs.allSatisfy { $0.chosen != $0.rejected })
    }

    func test_hhHarmless_has2312PairsOf4WithAnEmptyChosenReply() throws {
        let (report, path) = try check("hh_harmless_test.jsonl.gz")
        XCTAssertTrue(report.gzip)
        XCTAssertEqual(report.format, .anthropicHH)
        XCTAssertEqual(report.records, 2312)
        XCTAssertEqual(report.usable, 2308)
        XCTAssertEqual(report.skippedByReason, ["empty-response": 4])
        XCTAssertEqual(report.problems.map { $0.components(separatedBy: ": ")[0] },
                       [87, 517, 926, 1104].enumerated().map { "\(path):\($1)" })
        XCTAssertTrue(report.problems.allSatisfy { $0.contains(#"field "chosen""#) })
    }

    func test_hhHelpful_has2354PairsWith4EmptyRejectedAnd2Identical() throws {
        let (report, path) = try check("hh_helpful_test.jsonl.gz")
        XCTAssertEqual(report.records, 2354)
        XCTAssertEqual(report.usable, 2348)
        XCTAssertEqual(report.skippedByReason, ["empty-response": 4, "identical-responses": 2])
        XCTAssertEqual(report.problems.map { $0.components(separatedBy: ": ")[0] },
                       [121, 722, 741, 1215, 2064, 2169].map { "\(path):\($0)" })
    }

    func test_hh_sharedPromptHoldsForEveryPair_includingThoseTheLastMarkerRuleSplitsWrongly() throws {
        // README: cutting at the last "\n\nAssistant:" gives matching prompts for 2,307 of 2,312 harmless pairs;
        // the longest-common-prefix rule finds a shared prompt for all of them.
        let reader = try PreferenceReader(path: TestPaths.sharedFile("hh_harmless_test.jsonl.gz").path)
        let pairs = try reader.readAll()
        XCTAssertEqual(reader.problems.count(.noSharedPrompt), 0)
        let drag = try XCTUnwrap(pairs.first { $0.source.line == 1255 })
        XCTAssertEqual(drag.prompt, "Isn't that drag kings?")
        XCTAssertTrue(drag.chosen.hasPrefix("No. Men who impersonate stereotypical women are called drag"))
        XCTAssertTrue(drag.rejected.hasPrefix("A drag king is the opposite of a drag queen"))
        XCTAssertTrue(pairs.allSatisfy { !$0.chosen.hasPrefix(" ") && !$0.rejected.hasPrefix(" ") })
    }

    func test_hh_rendersBackToTheOriginalTranscriptsByteForByte() throws {
        let path = try TestPaths.sharedFile("hh_helpful_test.jsonl.gz").path
        let lines = try decompressedLines(path)
        let pairs = try PreferenceReader(path: path).readAll()
        XCTAssertEqual(pairs.count, 2348)
        for pair in pairs {
            let original = try XCTUnwrap(JSONSerialization.jsonObject(with: Foundation.Data(lines[pair.source.line - 1].utf8))
                                         as? [String: String])
            let prompt = PromptTemplate.hh.render(pair)
            XCTAssertEqual(prompt + pair.chosen, original["chosen"], "line \(pair.source.line)")
            XCTAssertEqual(prompt + pair.rejected, original["rejected"], "line \(pair.source.line)")
        }
    }

    /// The lines of a gzip file, through the system's gzip (independent of the reader under test).
    private func decompressedLines(_ path: String) throws -> [String] {
        guard let gzip = ["/usr/bin/gzip", "/bin/gzip"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("no gzip binary to decompress \(path) independently")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gzip)
        process.arguments = ["-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
    }

    func test_sharedSamples_streamInSmallBoundedBuffers() throws {
        for name in ["alpaca_5000.json", "dpo_en_demo.json", "hh_helpful_test.jsonl.gz"] {
            let reader = try DatasetReader(path: TestPaths.sharedFile(name).path)
            _ = try reader.readAll()
            // alpaca_5000.json is one 2 MB line; its records are read one at a time all the same.
            XCTAssertLessThan(reader.peakBufferedBytes, 512 * 1024, name)
        }
    }
}
