import Data
import XCTest

final class JSONParserTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

    private func syntaxError(_ bytes: [UInt8]) -> JSONSyntaxError? {
        do {
            _ = try bytes.withUnsafeBufferPointer { try JSONValue.parse($0) }
            XCTFail("expected a syntax error for \(bytes)")
        } catch let error as JSONSyntaxError {
            return error
        } catch {
            XCTFail("unexpected error \(error)")
        }
        return nil
    }

    private func syntaxError(_ text: String) -> JSONSyntaxError? { syntaxError(Array(text.utf8)) }

    func test_parser_readsEveryKindOfValue() throws {
        let value = try parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}, "e": 0.125} "#)
        XCTAssertEqual(value, .object([
            "a": .array([.number(1), .number(-2500), .bool(true), .bool(false), .null]),
            "b": .object(["c": .string("d")]),
            "e": .number(0.125),
        ]))
    }

    func test_parser_decodesEscapesAndSurrogatePairs() throws {
        let value = try parse(#""q\"b\\s\/\b\f\n\r\t \u00e9 \ud83e\udde3 \u4e2d""#)
        XCTAssertEqual(value, .string("q\"b\\s/\u{08}\u{0C}\n\r\t é 🧣 中"))
    }

    func test_parser_keepsRawUTF8Text() throws {
        XCTAssertEqual(try parse("\"crêpe – 🥞\""), .string("crêpe – 🥞"))
    }

    func test_parser_reportsOffsetAndWhatWasFound() throws {
        let missingComma = syntaxError(#"{"a": 1 "b": 2}"#)
        XCTAssertEqual(missingComma?.offset, 8)
        XCTAssertEqual(missingComma?.message, "expected ',' or '}' in the object, found '\"'")
        XCTAssertEqual(syntaxError(#"{"a": tru}"#)?.message, #"expected true, found "tru""#)
        XCTAssertEqual(syntaxError(#"{"a": "x"#)?.message, "the JSON text ends inside a string: expected the closing quote")
        XCTAssertEqual(syntaxError(#"{"a": 1,}"#)?.message, "expected a quoted key in the object, found '}'")
        XCTAssertEqual(syntaxError(#"[1, 2] x"#)?.message, "unexpected 'x' after the end of the JSON value")
        XCTAssertEqual(syntaxError(#"{"a": 01}"#)?.message, "expected ',' or '}' in the object, found '1'")
        XCTAssertEqual(syntaxError(#""\x""#)?.message,
                       #"invalid escape \x in a string (expected one of \" \\ \/ \b \f \n \r \t \uXXXX)"#)
        XCTAssertEqual(syntaxError("\"a\tb\"")?.offset, 2)
    }

    func test_parser_rejectsUnpairedSurrogates() {
        XCTAssertEqual(syntaxError(#""\ud83e x""#)?.message,
                       #"unpaired UTF-16 surrogate \uD83E (expected a low surrogate \uDC00-\uDFFF after it)"#)
        XCTAssertEqual(syntaxError(#""\udde3""#)?.offset, 1)
    }

    func test_parser_reportsInvalidUTF8AtTheBadByte() {
        // "é" cut after its first byte, an overlong "/", an encoded surrogate, a stray continuation byte.
        for (bytes, offset) in [([0x22, 0x61, 0xC3, 0x22], 3), ([0x22, 0xC0, 0xAF, 0x22], 1),
                                ([0x22, 0xED, 0xA0, 0x80, 0x22], 2), ([0x22, 0x80, 0x22], 1)] as [([UInt8], Int)] {
            let error = syntaxError(bytes)
            XCTAssertEqual(error?.isEncodingError, true, "\(bytes)")
            XCTAssertEqual(error?.offset, offset, "\(bytes)")
        }
    }

    func test_parser_limitsNestingInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertEqual(syntaxError(deep)?.message, "objects and arrays nest deeper than 256 levels")
    }
}
