import JSON
import XCTest

/// What the parser reads: every kind of value, strings byte for byte, objects in file order, numbers exactly.
final class JSONValueTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

    func test_parse_readsEveryKindOfValueAndKeepsKeyOrder() throws {
        let value = try parse(#" {"b": [1, -2.5e3, true, false, null], "a": {"x": "y"}, "e": 0.125} "#)
        let object = try XCTUnwrap(value.objectValue)
        XCTAssertEqual(object.keys, ["b", "a", "e"])
        let array = try XCTUnwrap(object["b"]?.arrayValue)
        XCTAssertEqual(array.count, 5)
        XCTAssertEqual(array[0].intValue, 1)
        XCTAssertEqual(array[1].doubleValue, -2500)
        XCTAssertEqual(array[2].boolValue, true)
        XCTAssertEqual(array[3].boolValue, false)
        XCTAssertTrue(array[4].isNull)
        XCTAssertEqual(object["a"]?.objectValue?["x"]?.stringValue, "y")
        XCTAssertEqual(object["e"]?.doubleValue, 0.125)
        XCTAssertEqual(value, .object(JSONObject(keys: ["b", "a", "e"], values: [
            .array([.number(JSONNumber(1)), .number(JSONNumber("-2.5e3")!), .bool(true), .bool(false), .null]),
            .object(JSONObject(keys: ["x"], values: [.string("y")])),
            .number(JSONNumber("0.125")!),
        ])))
    }

    func test_parse_decodesEscapesAndSurrogatePairs() throws {
        let value = try parse(#""q\"b\\s\/\b\f\n\r\t \u00e9 \ud83e\udde3 \u4e2d \uD83D\uDE00""#)
        XCTAssertEqual(value.stringValue, "q\"b\\s/\u{08}\u{0C}\n\r\t é 🧣 中 😀")
    }

    func test_parse_keepsRawUTF8Text() throws {
        XCTAssertEqual(try parse("\"crêpe – 🥞\"").stringValue, "crêpe – 🥞")
    }

    func test_duplicateKeys_areKept_lookupTakesTheLastAndFirstTakesTheFirst() throws {
        let object = try XCTUnwrap(try parse(#"{"w": 1, "v": 2, "w": 3}"#).objectValue)
        XCTAssertEqual(object.keys, ["w", "v", "w"])
        XCTAssertEqual(object["w"]?.intValue, 3)
        XCTAssertEqual(object.first("w")?.intValue, 1)
        XCTAssertNil(object["absent"])
        XCTAssertEqual(object.members.map(\.0), ["w", "v", "w"])
    }

    func test_canonicallyEquivalentKeys_stayApart() throws {
        let object = try XCTUnwrap(try parse("{\"\u{e9}\": 1, \"e\u{301}\": 2}").objectValue)
        XCTAssertEqual(object.count, 2)
        XCTAssertEqual(object["\u{e9}"]?.intValue, 1)
        XCTAssertEqual(object["e\u{301}"]?.intValue, 2)
    }

    func test_byteOrderMark_isSkippedOnlyWhenAllowed() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(#"{"a": 1}"#.utf8)
        XCTAssertEqual(try JSONValue.parse(bytes, allowsByteOrderMark: true).objectValue?["a"]?.intValue, 1)
        XCTAssertThrowsError(try JSONValue.parse(bytes)) { error in
            XCTAssertEqual((error as? JSONError)?.problem, .expectedValue)
            XCTAssertEqual((error as? JSONError)?.offset, 0)
        }
    }

    func test_rawBufferAndStringInputs_parseAlike() throws {
        let text = #"{"k": ["v", 2]}"#
        let fromRaw = try Array(text.utf8).withUnsafeBytes { try JSONValue.parse($0) }
        XCTAssertEqual(fromRaw, try parse(text))
    }

    // MARK: numbers

    func test_integers_areExactOverTheWholeInt64Range() throws {
        let values = try XCTUnwrap(try parse("[9223372036854775807, -9223372036854775808, 123456789012345678]")
            .arrayValue)
        XCTAssertEqual(values.map { number($0)?.int64Value }, [Int64.max, Int64.min, 123_456_789_012_345_678])
        XCTAssertEqual(values.map { number($0)?.text }, ["9223372036854775807", "-9223372036854775808",
                                                         "123456789012345678"])
    }

    func test_unsignedIntegersBeyondInt64_areExactAsUInt64() throws {
        let value = try XCTUnwrap(number(try parse("18446744073709551615")))
        XCTAssertNil(value.int64Value)
        XCTAssertEqual(value.uint64Value, UInt64.max)
        let beyond = try XCTUnwrap(number(try parse("18446744073709551616")))
        XCTAssertNil(beyond.uint64Value)
        XCTAssertEqual(beyond.text, "18446744073709551616", "kept as written")
        XCTAssertNil(number(try parse("-1"))?.uint64Value)
    }

    func test_fractionsAndExponents_keepTheirTextAndAreNotIntegers() throws {
        for (text, double) in [("2.50", 2.5), ("1e3", 1000), ("-0", -0.0), ("2.0", 2), ("1E-2", 0.01)] {
            let value = try parse(text)
            XCTAssertEqual(number(value)?.text, text)
            XCTAssertEqual(value.doubleValue, double, text)
        }
        XCTAssertNil(number(try parse("2.0"))?.int64Value, "2.0 is not written as an integer")
        XCTAssertNil(number(try parse("1e3"))?.int64Value)
        XCTAssertEqual(number(try parse("-0"))?.int64Value, 0)
        XCTAssertEqual(number(try parse("-0"))?.doubleValue.sign, .minus)
    }

    func test_intValue_acceptsAnyIntegralNumber() throws {
        XCTAssertEqual(try parse("3.0").intValue, 3)
        XCTAssertEqual(try parse("3e2").intValue, 300)
        XCTAssertNil(try parse("1.5").intValue)
        XCTAssertNil(try parse("\"3\"").intValue)
    }

    func test_numbersCompareAsWritten() {
        XCTAssertEqual(JSONNumber("12"), JSONNumber(12))
        XCTAssertNotEqual(JSONNumber("1.0"), JSONNumber(1))
        XCTAssertNil(JSONNumber("01"))
        XCTAssertNil(JSONNumber("1 2"))
    }

    // MARK: messages

    func test_typeNameAndSummary_describeValuesForMessages() throws {
        XCTAssertEqual(try parse("[]").typeName, "an array")
        XCTAssertEqual(try parse("2.5").typeName, "a number")
        let mixed = #"{"a": [1, 2.50, true, null, "s"]}"#
        XCTAssertEqual(try parse(mixed).summary(), mixed)
        let long = try parse("[" + Array(repeating: "1234567890", count: 10).joined(separator: ",") + "]")
        XCTAssertEqual(long.summary(maxLength: 20), "[1234567890, 1234...")
    }

    private func number(_ value: JSONValue) -> JSONNumber? {
        if case .number(let number) = value { return number }
        return nil
    }
}
