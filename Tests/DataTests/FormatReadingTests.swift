import Data
import XCTest

final class FormatReadingTests: XCTestCase {
    func test_alpaca_promptIsInstructionThenInputOnItsOwnLine() throws {
        let path = try Scratch(self).file("alpaca.json", """
            [
              {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"},
              {"instruction": "Name a colour.", "input": "", "output": "Blue"},
              {"instruction": "Count to two.", "output": "1, 2"}
            ]
            """)
        let (records, reader) = try readAll(path)
        XCTAssertEqual(reader.format, .alpaca)
        XCTAssertEqual(reader.container, .jsonArray)
        XCTAssertEqual(records.compactMap(\.sft).map(\.prompt), ["Translate to French.\nGood morning", "Name a colour.", "Count to two."])
        XCTAssertEqual(records.compactMap(\.sft).map(\.response), ["Bonjour", "Blue", "1, 2"])
        XCTAssertEqual(records.map(\.source.line), [2, 3, 4])
        XCTAssertEqual(records.map(\.source.recordIndex), [0, 1, 2])
    }

    func test_promptResponseLines_areReadAsSFT() throws {
        let path = try Scratch(self).file("sft.jsonl", """
            {"prompt": "2+2?", "response": "4"}

            {"prompt": "Capital of Peru?", "response": "Lima"}\r
            """)
        let (records, reader) = try readAll(path)
        XCTAssertEqual(reader.format, .promptResponse)
        XCTAssertEqual(reader.container, .jsonLines)
        XCTAssertEqual(records, [
            .sft(SFTExample(prompt: "2+2?", response: "4", source: RecordLocation(file: path, line: 1, recordIndex: 0))),
            .sft(SFTExample(prompt: "Capital of Peru?", response: "Lima",
                            source: RecordLocation(file: path, line: 3, recordIndex: 1))),
        ])
    }

    func test_promptChosenRejectedLines_areReadAsPairs() throws {
        let path = try Scratch(self).file("pairs.jsonl", #"{"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."}"#)
        let (records, reader) = try readAll(path)
        XCTAssertEqual(reader.format, .promptChosenRejected)
        XCTAssertEqual(records.first?.pair, PreferencePair(prompt: "Hi", chosen: "Hello!", rejected: "Go away.",
                                                           source: RecordLocation(file: path, line: 1, recordIndex: 0)))
    }

    func test_sharegpt_splitsLastHumanTurnFromContext() throws {
        let path = try Scratch(self).file("dpo.json", """
            [{"conversations": [{"from": "system", "value": "Be brief."},
                                {"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello."},
                                {"from": "human", "value": "Name a fruit."}],
              "chosen": {"from": "gpt", "value": "Apple."}, "rejected": {"from": "gpt", "value": "No."}},
             {"messages": [{"role": "user", "content": "Q?"}], "chosen": "A.", "rejected": "B."}]
            """)
        let (records, reader) = try readAll(path)
        XCTAssertEqual(reader.format, .sharegpt)
        let pairs = records.compactMap(\.pair)
        XCTAssertEqual(pairs.count, 2)
        XCTAssertEqual(pairs[0].prompt, "Name a fruit.")
        XCTAssertEqual(pairs[0].context, [Turn(.system, "Be brief."), Turn(.user, "Hi"), Turn(.assistant, "Hello.")])
        XCTAssertEqual([pairs[0].chosen, pairs[0].rejected], ["Apple.", "No."])
        XCTAssertEqual(pairs[1].prompt, "Q?")
        XCTAssertEqual(pairs[1].context, [])
        XCTAssertEqual([pairs[1].chosen, pairs[1].rejected], ["A.", "B."])
    }

    func test_formatOption_overridesDetection() throws {
        // The keys suggest prompt-response, but the caller says alpaca: every record lacks "instruction".
        let path = try Scratch(self).file("x.jsonl", #"{"prompt": "a", "response": "b"}"#)
        let (records, reader) = try readAll(path, ReadOptions(format: .alpaca))
        XCTAssertEqual(records, [])
        XCTAssertEqual(reader.problems.count(.missingField), 1)
    }

    func test_typedReaders_rejectFilesOfTheOtherKind() throws {
        let path = try Scratch(self).file("pairs.jsonl", #"{"prompt": "Hi", "chosen": "a", "rejected": "b"}"#)
        let error = dataError { try SFTReader(path: path).readAll() }
        XCTAssertEqual(error?.reason, .wrongKind)
        XCTAssertEqual(error?.description, "\(path):1: the file holds preference pairs (format prompt-chosen-rejected, "
                       + "detected from the first record's keys), but SFT examples were asked for")
        XCTAssertEqual(try PreferenceReader(path: path).readAll().count, 1)
        XCTAssertEqual(dataError { try SFTReader(path: path, options: ReadOptions(format: .anthropicHH)) }?.reason, .wrongKind)
    }

    func test_byteOrderMarkAndSurroundingWhitespace_areIgnored() throws {
        let path = try Scratch(self).bytes("bom.json", [0xEF, 0xBB, 0xBF] + Array("\n  [ {\"prompt\": \"p\", \"response\": \"r\"} ]\n\n".utf8))
        let (records, _) = try readAll(path)
        XCTAssertEqual(records.compactMap(\.sft).map(\.prompt), ["p"])
        XCTAssertEqual(records.first?.source.line, 2)
    }

    func test_arrayOnOneLine_isStreamedElementByElement() throws {
        // Brackets and braces inside strings must not end an element.
        let path = try Scratch(self).file("one-line.json",
            #"[{"prompt": "a ] } [ {", "response": "\"}]"}, {"prompt": "b", "response": "c"}]"#)
        let (records, reader) = try readAll(path)
        XCTAssertEqual(records.compactMap(\.sft).map(\.prompt), ["a ] } [ {", "b"])
        XCTAssertEqual(records.compactMap(\.sft).map(\.response), ["\"}]", "c"])
        XCTAssertEqual(reader.recordsRead, 2)
    }
}
