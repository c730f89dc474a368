import Foundation
import Text
import XCTest

/// The JSON parser that reads tokenizer files: values as RFC 8259 defines them, errors with line and column.
final class JSONValueTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONValue.parse(Array(text.utf8))
    }

    private func parseError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        parseError(Array(text.utf8), file: file, line: line)
    }

    private func parseError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        do {
            _ = try JSONValue.parse(bytes)
            XCTFail("expected a parse error", file: file, line: line)
        } catch let error as JSONParseError {
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return nil
    }

    func test_parse_readsNestedValuesAndKeepsKeyOrder() throws {
        let value = try parse(#"{"b": [1, -2.5e3, true, null], "a": {"x": "y"}, "b2": false}"#)
        let object = try XCTUnwrap(value.objectValue)
        XCTAssertEqual(object.keys, ["b", "a", "b2"])
        let array = try XCTUnwrap(object["b"]?.arrayValue)
        XCTAssertEqual(array[0].intValue, 1)
        guard case .number(let d) = array[1] else { return XCTFail("expected a number") }
        XCTAssertEqual(d, -2500)
        XCTAssertEqual(array[2].boolValue, true)
        XCTAssertTrue(array[3].isNull)
        XCTAssertEqual(object["a"]?.objectValue?["x"]?.stringValue, "y")
        XCTAssertEqual(object["b2"]?.boolValue, false)
    }

    func test_parse_decodesEscapesAndSurrogatePairs() throws {
        let value = try parse(#""q\"b\\s\/\b\f\n\r\t \u00e9 \ud83d\ude00""#)
        XCTAssertEqual(value.stringValue, "q\"b\\s/\u{8}\u{c}\n\r\t é 😀")
    }

    func test_parse_keepsCanonicallyEquivalentKeysApart() throws {
        let object = try XCTUnwrap(try parse("{\"\u{e9}\": 1, \"e\u{301}\": 2}").objectValue)
        XCTAssertEqual(object.count, 2)
        XCTAssertEqual(object["\u{e9}"]?.intValue, 1)
        XCTAssertEqual(object["e\u{301}"]?.intValue, 2)
    }

    func test_trailingComma_reportsLineAndColumn() {
        let error = parseError("[1,\n 2,\n]")
        XCTAssertEqual(error, JSONParseError(line: 3, column: 1, expected: "a value", got: "']'"))
    }

    func test_unterminatedString_pointsAtItsOpeningQuote() {
        let error = parseError("{\"key\": \"never closed")
        XCTAssertEqual(error?.line, 1)
        XCTAssertEqual(error?.column, 9)
        XCTAssertEqual(error?.expected, "a closing '\"'")
        XCTAssertEqual(error?.got, "end of input")
    }

    func test_loneSurrogate_isRejected() {
        XCTAssertEqual(parseError(#""\udc00""#)?.got, "\\uDC00")
        XCTAssertEqual(parseError(#""\ud800x""#)?.expected, "a low surrogate after \\uD800")
    }

    func test_rawControlCharacterInString_isRejected() {
        XCTAssertEqual(parseError("\"a\nb\"")?.expected, "an escaped control character")
    }

    func test_invalidUTF8InString_isRejected() {
        let error = parseError([0x22, 0x61, 0xFF, 0x22])
        XCTAssertEqual(error?.expected, "a string of valid UTF-8")
        XCTAssertEqual(error?.column, 2)
    }

    func test_numbersWithLeadingZerosOrNoDigits_areRejected() {
        XCTAssertEqual(parseError("012")?.expected, "a number without leading zeros")
        XCTAssertEqual(parseError("-")?.expected, "a digit")
        XCTAssertEqual(parseError("1.")?.expected, "a digit after '.'")
        XCTAssertEqual(parseError("1e")?.expected, "a digit in the exponent")
    }

    func test_badLiteralsAndTrailingData_areRejected() {
        XCTAssertEqual(parseError("tru")?.expected, "true")
        XCTAssertEqual(parseError("{} x")?.expected, "end of document")
        XCTAssertEqual(parseError("")?.got, "end of input")
        XCTAssertEqual(parseError("{\"a\" 1}")?.expected, "':' after key \"a\"")
        XCTAssertEqual(parseError("\"\\x\"")?.got, "'\\x'")
    }

    func test_badUnicodeEscapes_areRejected() {
        XCTAssertEqual(parseError(#""\u12G4""#)?.got, "'G'")
        XCTAssertEqual(parseError(#""\u12"#)?.expected, "4 hex digits")
    }

    func test_deepNesting_isRejectedInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "[", count: 100_000)
        XCTAssertEqual(parseError(deep)?.expected, "at most 512 nested arrays/objects")
    }
}
