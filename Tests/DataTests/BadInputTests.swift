import Data
import XCTest

/// Every way a data file can be wrong: what is reported (reason, place, message) and what is still read.
final class BadInputTests: XCTestCase {
    private let good = #"{"prompt": "p", "response": "r"}"#

    /// Reads `text` as JSON Lines and returns the usable records and the problems.
    private func read(_ text: String, _ options: ReadOptions = ReadOptions()) throws -> ([DataRecord], ProblemLog, String) {
        let path = try Scratch(self).file("data.jsonl", text)
        let (records, reader) = try readAll(path, options)
        return (records, reader.problems, path)
    }

    func test_malformedJSON_isSkippedAndReportedWithLineAndColumn() throws {
        let (records, problems, path) = try read(good + "\n" + #"{"prompt": "p" "response": "r"}"# + "\n" + good)
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(problems.count(.malformedJSON), 1)
        XCTAssertEqual(problems.first.first?.description,
                       "\(path):2:16: record 1: malformed JSON: expected ',' or '}' in the object, found '\"'")
    }

    func test_malformedJSON_inAMultiLineArrayElement_pointsAtTheLineInTheFile() throws {
        let path = try Scratch(self).file("data.json", """
            [
              {"prompt": "p",
               "response": "r"},
              {"prompt": "p",
               "response": tru}
            ]
            """)
        let (records, reader) = try readAll(path)
        XCTAssertEqual(records.count, 1)
        let problem = reader.problems.first.first
        XCTAssertEqual(problem?.line, 5)
        XCTAssertEqual(problem?.column, 16)
        XCTAssertEqual(problem?.message, #"malformed JSON: expected true, found "tru""#)
    }

    func test_missingField_namesTheFieldAndTheKeysFound() throws {
        let (records, problems, path) = try read(good + "\n" + #"{"prompt": "p", "answer": "r"}"#)
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(problems.first.first, DataError(.missingField, file: path, line: 2, recordIndex: 1, field: "response",
            #"missing field "response" (the record has fields "answer", "prompt")"#))
    }

    func test_nonStringField_namesTheTypeFound() throws {
        let (_, problems, _) = try read(good + "\n" + #"{"prompt": "p", "response": 42}"# + "\n"
                                        + #"{"prompt": ["p"], "response": "r"}"#)
        XCTAssertEqual(problems.count(.wrongFieldType), 2)
        XCTAssertEqual(problems.first.map(\.message), [#"field "response": expected a string, found a number"#,
                                                       #"field "prompt": expected a string, found an array"#])
        XCTAssertEqual(problems.first.map(\.field), ["response", "prompt"])
    }

    func test_emptyPromptOrResponse_isSkipped() throws {
        let (records, problems, _) = try read([good, #"{"prompt": " \n", "response": "r"}"#,
                                               #"{"prompt": "p", "response": ""}"#].joined(separator: "\n"))
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(problems.count(.emptyPrompt), 1)
        XCTAssertEqual(problems.count(.emptyResponse), 1)
        XCTAssertEqual(problems.first.map(\.message), [#"field "prompt": expected a non-empty prompt, found " \n""#,
                                                       #"field "response": expected a non-empty response, found """#])
    }

    func test_invalidUTF8_isSkippedWithItsColumn() throws {
        let bytes = Array(good.utf8) + [0x0A] + Array(#"{"prompt": "caf"#.utf8) + [0xC3, 0x28] + Array(#"", "response": "r"}"#.utf8)
        let path = try Scratch(self).bytes("latin.jsonl", bytes)
        let (records, reader) = try readAll(path)
        XCTAssertEqual(records.count, 1)
        let problem = reader.problems.first.first
        XCTAssertEqual(problem?.reason, .invalidUTF8)
        XCTAssertEqual(problem?.line, 2)
        XCTAssertEqual(problem?.column, 17, "the column of 0x28, the byte that breaks the sequence")
        XCTAssertEqual(problem?.message, "invalid UTF-8: byte 0x28 cannot follow 0xC3 in a 2-byte character")
    }

    func test_recordThatIsNotAnObject_isSkipped() throws {
        let (records, problems, _) = try read(good + "\n[1, 2]\n\"text\"")
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(problems.count(.notAnObject), 2)
        XCTAssertEqual(problems.first.first?.message, "expected a JSON object per record, found an array")
    }

    func test_identicalChosenAndRejected_isSkipped() throws {
        let (records, problems, _) = try read(#"{"prompt": "p", "chosen": "same", "rejected": "same"}"#)
        XCTAssertEqual(records, [])
        XCTAssertEqual(problems.count(.identicalResponses), 1)
        XCTAssertEqual(problems.first.first?.message,
                       #"chosen and rejected responses are identical ("same"), so the pair expresses no preference"#)
    }

    func test_sharegptConversationProblems_areNamedByMessageIndex() throws {
        let lines = [
            #"{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}], "chosen": {"from": "gpt", "value": "x"}, "rejected": {"from": "gpt", "value": "y"}}"#,
            #"{"conversations": [{"from": "human", "value": "q"}, {"from": "robot", "value": "a"}], "chosen": "x", "rejected": "y"}"#,
            #"{"conversations": ["q"], "chosen": "x", "rejected": "y"}"#,
            #"{"conversations": [{"from": "human", "value": "q"}], "chosen": {"from": "human", "value": "x"}, "rejected": "y"}"#,
            #"{"conversations": [{"from": "human", "value": "q"}, {"from": "system", "value": "s"}, {"from": "human", "value": "q"}], "chosen": "x", "rejected": "y"}"#,
            #"{"conversations": [{"from": "human"}], "chosen": "x", "rejected": "y"}"#,
        ]
        let (records, problems, _) = try read(lines.joined(separator: "\n"))
        XCTAssertEqual(records, [])
        XCTAssertEqual(problems.first.map(\.message), [
            #"field "conversations": expected the conversation to end with a human message, found a assistant message"#,
            #"conversations[1].from: expected human, gpt or system, found "robot""#,
            "conversations[0]: expected a {from, value} object, found a string",
            #"field "chosen": expected a reply from "gpt", found one from "user""#,
            "conversations[1]: a system message may only open the conversation",
            #"conversations[0]: missing field "value" (the message text)"#,
        ])
    }

    func test_lineOver100MB_isSkippedWithoutBeingHeldInMemory() throws {
        let scratch = try Scratch(self)
        let path = scratch.directory.appendingPathComponent("huge.jsonl").path
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.write(Foundation.Data((good + "\n" + #"{"prompt": ""#).utf8))
        let megabyte = Foundation.Data(repeating: UInt8(ascii: "a"), count: 1 << 20)
        for _ in 0..<100 { handle.write(megabyte) }
        handle.write(Foundation.Data((#"", "response": "r"}"# + "\n" + good + "\n").utf8))
        handle.closeFile()

        let started = Date()
        let (records, reader) = try readAll(path)
        XCTAssertEqual(records.map(\.source.line), [1, 3])
        let problem = try XCTUnwrap(reader.problems.first.first)
        XCTAssertEqual(problem.reason, .recordTooLong)
        XCTAssertEqual(problem.line, 2)
        XCTAssertEqual(problem.message, "the line is 104857631 bytes long, over the limit of 16777216 bytes per "
                       + "record; it was skipped without being read into memory")
        XCTAssertLessThanOrEqual(reader.peakBufferedBytes, 2 * ReadOptions.defaultMaxRecordBytes + (1 << 20))
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "skipping a long line must not crawl")
    }

    func test_arrayElementOverTheLimit_isSkippedAndTheNextOneRead() throws {
        let long = String(repeating: "x", count: 5000)
        let path = try Scratch(self).file("data.json", "[\(good),\n{\"prompt\": \"\(long)\", \"response\": \"r\"},\n\(good)]")
        let (records, reader) = try readAll(path, ReadOptions(maxRecordBytes: 1000))
        XCTAssertEqual(records.map(\.source.line), [1, 3])
        XCTAssertEqual(reader.problems.first.first?.message, "the array element is 5031 bytes long, over the limit of "
                       + "1000 bytes per record; it was skipped without being read into memory")
    }

    func test_emptyFile_isAnError() throws {
        let scratch = try Scratch(self)
        for (name, text, message) in [("empty.jsonl", "", "the file is empty (no JSON records)"),
                                      ("blank.jsonl", " \n\n\t\n", "the file is empty (no JSON records)"),
                                      ("empty.json", "[ ]", "the file holds no records (empty JSON array)")] {
            let path = try scratch.file(name, text)
            let error = dataError { try readAll(path) }
            XCTAssertEqual(error, DataError(.emptyFile, file: path, message), name)
        }
    }

    func test_missingOrUnreadableFile_isAnErrorNamingIt() throws {
        let missing = dataError { try DatasetReader(path: "/nonexistent/data.jsonl") }
        XCTAssertEqual(missing?.description, "/nonexistent/data.jsonl: cannot open the file: No such file or directory")
        let directory = try Scratch(self).directory.path
        let error = dataError { try readAll(directory) }
        XCTAssertEqual(error?.reason, .unreadableFile)
        XCTAssertEqual(error?.message, "cannot read the file: Is a directory")
    }

    func test_unknownKeys_areAnErrorListingTheKnownFormats() throws {
        let (path, error) = try { () -> (String, DataError?) in
            let path = try Scratch(self).file("odd.jsonl", #"{"question": "q", "answer": "a"}"#)
            return (path, dataError { try readAll(path) })
        }()
        XCTAssertEqual(error?.reason, .unknownFormat)
        XCTAssertEqual(error?.description, "\(path):1: cannot tell the format from the keys of the first record "
                       + "({answer, question}); expected {instruction, input, output}, {prompt, response}, "
                       + "{prompt, chosen, rejected}, {chosen, rejected}, {conversations, chosen, rejected}, "
                       + "{conversations or messages} "
                       + "(or pass the format explicitly)")
    }

    func test_fileWithoutAnyJSONObjectRecord_isNotData() throws {
        let scratch = try Scratch(self)
        // A pretty-printed JSON object (like a tokenizer.json): its first line "{" is not a whole record.
        let pretty = try scratch.file("config.json", "{\n  \"vocab\": {\"a\": 1},\n  \"merges\": []\n}\n")
        let error = dataError { try readAll(pretty) }
        XCTAssertEqual(error?.reason, .unknownFormat)
        XCTAssertEqual(error?.line, 1)
        XCTAssertEqual(error?.message, "none of the first 4 records is a JSON object, so this is not a data file "
                       + "xright can read (JSON Lines needs one complete record per line; a JSON file must be a "
                       + "top-level array of records); first problem: malformed JSON: expected a quoted key in the "
                       + "object, found the end of the text")
        // A long text file is given up on after 100 lines rather than read to its end.
        let text = try scratch.file("merges.txt", (0..<5000).map { "t\($0) x" }.joined(separator: "\n"))
        let reader = try DatasetReader(path: text)
        XCTAssertEqual(dataError { try reader.readAll() }?.reason, .unknownFormat)
        XCTAssertEqual(reader.recordsRead, 100)
    }

    func test_brokenArrayStructure_stopsWithAnErrorAfterTheGoodElements() throws {
        let scratch = try Scratch(self)
        let cases: [(String, String, Int, Int?, String)] = [
            ("missing-comma.json", "[\(good)\n \(good)]", 2, 2,
             "expected ',' or ']' after array element 1, found '{'"),
            ("trailing-comma.json", "[\(good),\n]", 2, 1,
             "expected another array element after ',', found ']' (a trailing comma is not valid JSON)"),
            ("unclosed.json", "[\(good),\n", 2, nil,
             "the file ends before the top-level JSON array is closed (expected ',' and more elements, or ']', after 1 elements)"),
            ("after-end.json", "[\(good)]\n{}", 2, 1, "unexpected '{' after the end of the top-level JSON array"),
            ("unterminated.json", "[\(good),\n {\"prompt\": \"p}]\n", 2, 2,
             "the file ends inside array element 2, which starts here (an unterminated string or a missing closing bracket?)"),
        ]
        for (name, text, line, column, message) in cases {
            let path = try scratch.file(name, text)
            let reader = try DatasetReader(path: path)
            XCTAssertNotNil(try reader.next(), "\(name): the first element is delivered")
            let error = dataError { try reader.readAll() }
            XCTAssertEqual(error, DataError(.malformedStructure, file: path, line: line, column: column, message), name)
        }
    }

    func test_strict_makesTheFirstBadRecordAnError() throws {
        let path = try Scratch(self).file("data.jsonl", good + "\n" + #"{"prompt": "p", "response": ""}"# + "\n" + good)
        let reader = try DatasetReader(path: path, options: ReadOptions(strict: true))
        XCTAssertNotNil(try reader.next())
        let error = dataError { try reader.next() }
        XCTAssertEqual(error?.reason, .emptyResponse)
        XCTAssertEqual(error?.line, 2)
    }

    func test_problemLog_countsEveryProblemButKeepsTheFirstFew() throws {
        let bad = #"{"prompt": "p", "response": ""}"#
        let path = try Scratch(self).file("data.jsonl", Array(repeating: bad, count: 25).joined(separator: "\n"))
        let (records, reader) = try readAll(path, ReadOptions(problemsKept: 3))
        XCTAssertEqual(records, [])
        XCTAssertEqual(reader.recordsRead, 25)
        XCTAssertEqual(reader.problems.total, 25)
        XCTAssertEqual(reader.problems.countsByReason, [.emptyResponse: 25])
        XCTAssertEqual(reader.problems.first.compactMap(\.line), [1, 2, 3])
    }
}
