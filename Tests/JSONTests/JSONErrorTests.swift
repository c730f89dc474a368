import JSON
import XCTest

/// Every way JSON text can be wrong: what the error names (problem, place, what was found) and how it reads.
final class JSONErrorTests: XCTestCase {
    private func parseError(_ bytes: [UInt8], maximumDepth: Int = 512,
                            file: StaticString = #filePath, line: UInt = #line) -> JSONError? {
        do {
            _ = try JSONValue.parse(bytes, maximumDepth: maximumDepth)
            XCTFail("expected a JSONError for \(String(decoding: bytes, as: UTF8.self))", file: file, line: line)
        } catch let error as JSONError {
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return nil
    }

    private func parseError(_ text: String, maximumDepth: Int = 512,
                            file: StaticString = #filePath, line: UInt = #line) -> JSONError? {
        parseError(Array(text.utf8), maximumDepth: maximumDepth, file: file, line: line)
    }

    func test_error_namesOffsetLineColumnAndWhatWasFound() {
        let missingComma = parseError(#"{"a": 1 "b": 2}"#)
        XCTAssertEqual(missingComma?.problem, .expectedCommaOrEnd(.object))
        XCTAssertEqual(missingComma?.offset, 8)
        XCTAssertEqual(missingComma?.found, .byte(UInt8(ascii: "\"")))
        XCTAssertEqual(missingComma?.message(), "expected ',' or '}', found '\"'")

        let trailingComma = parseError("[1,\n 2,\n]")
        XCTAssertEqual(trailingComma, JSONError(.expectedValue, found: .byte(UInt8(ascii: "]")), offset: 8,
                                                line: 3, column: 1))
        XCTAssertEqual(trailingComma?.description, "line 3, column 1: expected a value, found ']'")
    }

    func test_columns_countBytesFromTheStartOfTheLine() {
        let error = parseError("[\n  \"é\" x]")
        XCTAssertEqual(error?.line, 2)
        XCTAssertEqual(error?.column, 8, "é is two bytes")
        XCTAssertEqual(error?.expected, "',' or ']'")
    }

    func test_eachProblem_readsWithWhatWasExpectedAndFound() {
        let cases: [(String, JSONError.Problem, Int, String)] = [
            ("", .expectedValue, 0, "expected a value, found end of input"),
            (#"{"a": }"#, .expectedValue, 6, "expected a value, found '}'"),
            (#"{"a": tru}"#, .expectedLiteral("true"), 6, #"expected true, found "tru""#),
            ("nul", .expectedLiteral("null"), 0, #"expected null, found "nul""#),
            (#"{"a": 1,}"#, .expectedKey, 8, "expected a string key, found '}'"),
            ("{\n", .expectedKey, 2, "expected a string key, found end of input"),
            (#"{"a" 1}"#, .expectedColon(afterKey: "a"), 5, #"expected ':' after key "a", found '1'"#),
            ("[1 2]", .expectedCommaOrEnd(.array), 3, "expected ',' or ']', found '2'"),
            ("[1, 2] x", .trailingContent, 7, "unexpected 'x' after the end of the JSON value"),
            (#"{"a": "x"#, .unterminatedString, 6, "unterminated string: expected a closing '\"', found end of input"),
            (#"{"a": 01}"#, .leadingZero, 6, "number with a leading zero (expected a number without leading zeros)"),
            ("-", .expectedDigit, 1, "expected a digit in number, found end of input"),
            ("1.}", .expectedDigit, 2, "expected a digit in number, found '}'"),
            ("1e", .expectedDigit, 2, "expected a digit in number, found end of input"),
            (#""\x""#, .invalidEscape, 1,
             #"invalid escape '\x' in string (expected one of \" \\ \/ \b \f \n \r \t \uXXXX)"#),
            (#""\u12G4""#, .expectedHexDigits, 5, #"expected 4 hex digits after \u, found 'G'"#),
            (#""\u12"#, .expectedHexDigits, 5, #"expected 4 hex digits after \u, found end of input"#),
            ("\"a\tb\"", .unescapedControlCharacter(0x09), 2,
             #"unescaped control character 0x9 in string (write it as an escape such as \n, \t or \u00XX)"#),
            (#""\ud83e x""#, .unpairedSurrogate(0xD83E), 1,
             #"unpaired UTF-16 surrogate \uD83E (expected a low surrogate \uDC00-\uDFFF after it)"#),
            (#""\ud800\u0041""#, .unpairedSurrogate(0xD800), 1,
             #"unpaired UTF-16 surrogate \uD800 (expected a low surrogate \uDC00-\uDFFF after it)"#),
            (#""\udde3""#, .unpairedSurrogate(0xDDE3), 1,
             #"unpaired UTF-16 surrogate \uDDE3 (a low surrogate must follow a high one)"#),
        ]
        for (text, problem, offset, message) in cases {
            let error = parseError(text)
            XCTAssertEqual(error?.problem, problem, text)
            XCTAssertEqual(error?.offset, offset, text)
            XCTAssertEqual(error?.message(), message, text)
        }
    }

    func test_expectedAndFound_splitTheMessageForReadersThatShowThemApart() {
        XCTAssertEqual(parseError(#"{"a" 1}"#)?.expected, #"':' after key "a""#)
        XCTAssertEqual(parseError(#""\udc00""#)?.found.description(), #"\uDC00"#)
        XCTAssertEqual(parseError(#""\udc00""#)?.expected, "a character, not a lone low surrogate")
        XCTAssertEqual(parseError(#""\ud800x""#)?.expected, #"a low surrogate after \uD800"#)
        XCTAssertEqual(parseError(#""\x""#)?.found.description(), #"'\x'"#)
        XCTAssertEqual(parseError("\"a\nb\"")?.expected, "an escaped control character")
        XCTAssertEqual(parseError("[1,\n\t")?.found.description(), "end of input")
    }

    func test_unterminatedString_pointsAtItsOpeningQuote() {
        let error = parseError("{\"key\": \"never closed")
        XCTAssertEqual(error?.line, 1)
        XCTAssertEqual(error?.column, 9)
        XCTAssertEqual(parseError(#"["a\"#)?.offset, 1, "a backslash at the very end leaves the string open")
    }

    func test_theEndOfInput_isNamedByTheReader() {
        let error = parseError(#"{"w": [1,"#)
        XCTAssertEqual(error?.message(endOfInput: "end of header"), "expected a value, found end of header")
        XCTAssertEqual(error?.found.description(endOfInput: "the end of the text"), "the end of the text")
        XCTAssertEqual(JSONError.Found.byte(0x20).description(), "a space")
        XCTAssertEqual(JSONError.Found.byte(0x0A).description(), "a line break")
        XCTAssertEqual(JSONError.Found.byte(0x01).description(), "byte 0x01")
    }

    func test_invalidUTF8_isReportedAtTheBadByte() {
        // "é" cut after its first byte, an overlong "/", an encoded surrogate, a stray continuation byte,
        // a byte that is never UTF-8, and a bad byte in a string that also holds an escape.
        let cases: [([UInt8], Int, String)] = [
            ([0x22, 0x61, 0xC3, 0x22], 3, "byte 0x22 cannot follow 0xC3 in a 2-byte character"),
            ([0x22, 0xC0, 0xAF, 0x22], 1, "byte 0xC0 cannot start a character"),
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 2, "byte 0xA0 cannot follow 0xED in a 3-byte character"),
            ([0x22, 0x80, 0x22], 1, "byte 0x80 cannot start a character"),
            ([0x22, 0x61, 0xFF, 0x22], 2, "byte 0xFF cannot start a character"),
            ([0x22, 0x5C, 0x6E, 0xE2, 0x82, 0x22], 5, "byte 0x22 cannot follow 0xE2 in a 3-byte character"),
            ([0x7B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x3A, 0x31, 0x7D], 3,
             "byte 0x90 cannot follow 0xF4 in a 4-byte character"),
        ]
        for (bytes, offset, detail) in cases {
            let error = parseError(bytes)
            guard case .invalidUTF8(let utf8) = error?.problem else {
                XCTFail("\(bytes): expected invalid UTF-8, got \(String(describing: error))")
                continue
            }
            XCTAssertEqual(utf8.description, detail, "\(bytes)")
            XCTAssertEqual(error?.offset, offset, "\(bytes)")
            XCTAssertEqual(error?.message(), "string is not valid UTF-8: \(detail)", "\(bytes)")
            XCTAssertEqual(error?.expected, "a string of valid UTF-8")
        }
    }

    func test_invalidUTF8_isReportedBeforeALaterProblemInTheSameString() {
        let beforeControl = parseError([0x22, 0xFF, 0x01, 0x22])
        XCTAssertEqual(beforeControl?.problem, .invalidUTF8(.cannotStart(0xFF)))
        XCTAssertEqual(beforeControl?.offset, 1)
        let cutAtTheEnd = parseError([0x22, 0x61, 0xC3])
        XCTAssertEqual(cutAtTheEnd?.problem, .invalidUTF8(.truncated(length: 2)))
        XCTAssertEqual(cutAtTheEnd?.message(), "string is not valid UTF-8: the text ends inside a 2-byte character")
    }

    func test_nesting_isLimitedInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = parseError(deep)
        XCTAssertEqual(error?.problem, .nestedTooDeep(limit: 512))
        XCTAssertEqual(error?.offset, 512)
        XCTAssertEqual(error?.message(), "nested more than 512 levels deep")
        XCTAssertEqual(parseError(#"{"w": [[[]]]}"#, maximumDepth: 3)?.expected, "at most 3 nested arrays/objects")
        XCTAssertNoThrow(try JSONValue.parse(#"{"w": [[]]}"#, maximumDepth: 3), "exactly at the limit is fine")
    }
}
