import Engine
import Foundation
import TestSupport
import XCTest

/// Builds safetensors files byte by byte, so tests can say exactly what is wrong with one.
enum RawSafeTensors {
    /// 8-byte little-endian `headerLength` (default: the header's size), the header text, then `data`.
    static func bytes(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> [UInt8] {
        let json = Array(header.utf8)
        var out: [UInt8] = []
        withUnsafeBytes(of: (headerLength ?? UInt64(json.count)).littleEndian) { out.append(contentsOf: $0) }
        return out + json + data
    }

    static func write(_ bytes: [UInt8], in directory: URL, name: String = "model.safetensors") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    static func floatBytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }
}

final class SafeTensorsValidationTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("safetensors-validation") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Opens `bytes` as a file and returns the error, failing the test if it opens.
    private func openError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws
        -> SafeTensorsError {
        let url = try RawSafeTensors.write(bytes, in: directory)
        do {
            _ = try SafeTensorsFile(contentsOf: url)
        } catch let error as SafeTensorsError {
            XCTAssertEqual(error.file, url.path, "the error names the file", file: file, line: line)
            return error
        }
        XCTFail("expected the file to be rejected", file: file, line: line)
        return SafeTensorsError(file: "", message: "")
    }

    private func openError(header: String, data: [UInt8] = [], file: StaticString = #filePath, line: UInt = #line)
        throws -> SafeTensorsError {
        try openError(RawSafeTensors.bytes(header: header, data: data), file: file, line: line)
    }

    private func assertMessage(_ error: SafeTensorsError, contains parts: [String],
                               file: StaticString = #filePath, line: UInt = #line) {
        for part in parts {
            XCTAssertTrue(error.message.contains(part), "\"\(error.message)\" should mention \"\(part)\"",
                          file: file, line: line)
        }
    }

    private let goodEntry = #"{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
    private let eightBytes = RawSafeTensors.floatBytes([1, 2])

    // MARK: the frame: length field and header bytes

    func test_open_reportsEmptyFile() throws {
        assertMessage(try openError([]), contains: ["0 bytes", "8-byte header length"])
    }

    func test_open_reportsFileShorterThanLengthField() throws {
        assertMessage(try openError([1, 0, 0, 0, 0]), contains: ["5 bytes", "8-byte header length"])
    }

    func test_open_reportsHeaderCutShortByTruncation() throws {
        let whole = RawSafeTensors.bytes(header: #"{"w":\#(goodEntry)}"#, data: eightBytes)
        let cut = Array(whole.prefix(20))
        assertMessage(try openError(cut), contains: ["header length \(whole.count - 8 - 8)", "12 bytes follow",
                                                     "truncated"])
    }

    func test_open_reportsHeaderLengthLargerThanFileWithoutOverflow() throws {
        let error = try openError(RawSafeTensors.bytes(header: "{}", headerLength: UInt64.max))
        assertMessage(error, contains: ["header length \(UInt64.max)", "runs past the end of the file"])
    }

    func test_open_reportsInvalidJSONWithByteOffset() throws {
        // The stray '}' sits at header byte 6, file byte 14.
        let error = try openError(header: #"{"w": }"#)
        assertMessage(error, contains: ["invalid JSON header", "byte 14", "expected a value, found '}'"])
    }

    func test_open_reportsTrailingGarbageAfterHeaderObject() throws {
        assertMessage(try openError(header: "{} x"), contains: ["invalid JSON header", "after the end"])
    }

    func test_open_reportsUnterminatedString() throws {
        assertMessage(try openError(header: #"{"w"#), contains: ["invalid JSON header", "unterminated string"])
    }

    func test_open_reportsEachKindOfMalformedJSONWithItsOffset() throws {
        let cases: [(header: String, expected: String)] = [
            ("", "byte 8 of the file: expected a value, found end of header"),
            (#"{"w" 1}"#, "byte 13 of the file: expected ':' after key \"w\", found '1'"),
            (#"{"w": 1 "v": 2}"#, "byte 16 of the file: expected ',' or '}', found '\"'"),
            (#"{"w": [1 2]}"#, "byte 17 of the file: expected ',' or ']', found '2'"),
            (#"{"w": [1,"#, "expected a value, found end of header"),
            (#"{"w": {"#, "expected a string key, found end of header"),
            (#"{w: 1}"#, "byte 9 of the file: expected a string key, found 'w'"),
            (#"{"w": tru}"#, "byte 14 of the file: expected a value, found 't'"),
            (#"{"w": 01}"#, "byte 14 of the file: number with a leading zero"),
            (#"{"w": 1.}"#, "byte 16 of the file: expected a digit in number, found '}'"),
            (#"{"w": -}"#, "expected a digit in number"),
            (#"{"w\x": 1}"#, "byte 11 of the file: invalid escape '\\x' in string"),
            (#"{"\ud800": 1}"#, "unpaired UTF-16 surrogate"),
            (#"{"\udc00": 1}"#, "unpaired UTF-16 surrogate"),
            (#"{"\u12g4": 1}"#, "expected 4 hex digits after \\u, found 'g'"),
            ("{\"a\u{1}\": 1}", "unescaped control character 0x1 in string"),
        ]
        for (header, expected) in cases {
            let error = try openError(header: header)
            XCTAssertTrue(error.message.hasPrefix("invalid JSON header"), "\(header): \(error.message)")
            XCTAssertTrue(error.message.contains(expected), "\(header): \(error.message) should contain \(expected)")
        }
    }

    func test_open_decodesEscapedNames() throws {
        let header = #"{"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude42": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}}"#
        let url = try RawSafeTensors.write(RawSafeTensors.bytes(header: header, data: RawSafeTensors.floatBytes([1])),
                                           in: directory)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).tensorNames, ["a\"\\/\u{8}\u{c}\n\r\té🙂"])
    }

    func test_open_reportsInvalidUTF8InName() throws {
        var bytes = RawSafeTensors.bytes(header: #"{"w?":\#(goodEntry)}"#, data: eightBytes)
        bytes[8 + 3] = 0xFF
        assertMessage(try openError(bytes), contains: ["invalid JSON header", "not valid UTF-8"])
    }

    func test_open_rejectsDeeplyNestedHeaderWithoutRecursingWithoutBound() throws {
        let header = #"{"w":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        assertMessage(try openError(header: header), contains: ["invalid JSON header", "nested more than"])
    }

    // MARK: the header's structure

    func test_open_reportsHeaderThatIsNotAnObject() throws {
        assertMessage(try openError(header: "[1, 2]"), contains: ["header must be a JSON object", "found an array"])
    }

    func test_open_reportsEntryThatIsNotAnObject() throws {
        assertMessage(try openError(header: #"{"w": 3}"#), contains: ["tensor 'w'", "must be an object", "found a number"])
    }

    func test_open_reportsMetadataWithNonStringValue() throws {
        let error = try openError(header: #"{"__metadata__": {"format": 1}}"#)
        assertMessage(error, contains: ["\"__metadata__\" entry \"format\" must be a string", "found a number: 1"])
    }

    func test_open_reportsMetadataThatIsNotAnObject() throws {
        let error = try openError(header: #"{"__metadata__": "pt"}"#)
        assertMessage(error, contains: ["\"__metadata__\" must be an object", "found a string"])
    }

    func test_open_reportsMissingField() throws {
        let error = try openError(header: #"{"w": {"dtype": "F32", "shape": [2]}}"#, data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "missing field \"data_offsets\""])
    }

    func test_open_reportsDuplicateTensorName() throws {
        let error = try openError(header: #"{"w":\#(goodEntry),"w":\#(goodEntry)}"#, data: eightBytes)
        assertMessage(error, contains: ["tensor 'w' twice"])
    }

    func test_open_reportsUnknownDType() throws {
        let error = try openError(header: #"{"w": {"dtype": "F17", "shape": [2], "data_offsets": [0, 8]}}"#,
                                  data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "unknown dtype \"F17\"", "F32", "BF16"])
    }

    func test_open_reportsDTypeThatIsNotAString() throws {
        let error = try openError(header: #"{"w": {"dtype": 4, "shape": [2], "data_offsets": [0, 8]}}"#,
                                  data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "dtype must be a string", "found a number"])
    }

    func test_open_reportsNegativeShape() throws {
        let error = try openError(header: #"{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#,
                                  data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "shape must be an array of non-negative integers", "found -2"])
    }

    func test_open_reportsNonIntegerShape() throws {
        let error = try openError(header: #"{"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}}"#,
                                  data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "non-negative integers", "found 2.5 in [2.5]"])
    }

    func test_open_reportsBooleanInShape() throws {
        let error = try openError(header: #"{"w": {"dtype": "F32", "shape": [true], "data_offsets": [0, 8]}}"#,
                                  data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "non-negative integers", "found true"])
    }

    func test_open_reportsShapeThatIsNotAnArray() throws {
        let error = try openError(header: #"{"w": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}}"#,
                                  data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "shape must be an array", "found a number: 2"])
    }

    func test_open_reportsShapeWithTooManyElementsWithoutOverflow() throws {
        let big = Int.max / 2
        let error = try openError(header: #"{"w": {"dtype": "F32", "shape": [\#(big), 4], "data_offsets": [0, 8]}}"#,
                                  data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "more elements than Int can count"])
    }

    // MARK: data offsets

    func test_open_reportsOffsetsThatAreNotAPair() throws {
        let error = try openError(header: #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4, 8]}}"#,
                                  data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "data_offsets must be [begin, end]", "[0, 4, 8]"])
    }

    func test_open_reportsOffsetsWithBeginAfterEnd() throws {
        let error = try openError(header: #"{"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}"#,
                                  data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "[8, 0]", "begin after end"])
    }

    func test_open_reportsOffsetsRunningPastEndOfFile() throws {
        let error = try openError(header: #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#,
                                  data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "[0, 16]", "run past the end of the data region (8 bytes"])
    }

    func test_open_reportsOverlappingTensors() throws {
        let header = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},"#
            + #""b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#
        let error = try openError(header: header, data: RawSafeTensors.floatBytes([1, 2, 3]))
        assertMessage(error, contains: ["'a' [0, 8]", "'b' [4, 12]", "overlap"])
    }

    func test_open_reportsShapeThatDisagreesWithOffsetSpan() throws {
        let error = try openError(header: #"{"w": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 8]}}"#,
                                  data: eightBytes)
        assertMessage(error, contains: ["tensor 'w'", "shape [2, 3] of F16", "needs 12 bytes", "span 8"])
    }

    func test_open_acceptsGapsEmptyTensorsAndSpacePaddedHeader() throws {
        // 'b' leaves bytes 8..<12 unused; 'e' owns no bytes; the header carries the reference writer's padding.
        let header = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},"#
            + #""e": {"dtype": "F32", "shape": [0, 5], "data_offsets": [4, 4]},"#
            + #""b": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}}     "#
        let url = try RawSafeTensors.write(
            RawSafeTensors.bytes(header: header, data: RawSafeTensors.floatBytes([1, 2, 99, 3])), in: directory)
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.tensorNames, ["a", "b", "e"])
        XCTAssertEqual(try file.floats("a"), [1, 2])
        XCTAssertEqual(try file.floats("b"), [3])
        XCTAssertEqual(try file.floats("e"), [])
    }

    // MARK: the file itself

    func test_open_reportsMissingFile() throws {
        let url = directory.appendingPathComponent("absent.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: url)) { error in
            let error = error as? SafeTensorsError
            XCTAssertEqual(error?.file, url.path)
            XCTAssertTrue(error?.message.contains("cannot open: No such file") == true, "\(String(describing: error))")
        }
    }

    func test_open_reportsDirectory() throws {
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: directory)) { error in
            XCTAssertTrue((error as? SafeTensorsError)?.message.contains("not a regular file") == true, "\(error)")
        }
    }

    func test_errorDescription_startsWithThePath() {
        let error = SafeTensorsError(file: "/m/model.safetensors", message: "tensor 'w' has shape [2], expected [3]")
        XCTAssertEqual("\(error)", "/m/model.safetensors: tensor 'w' has shape [2], expected [3]")
    }

    // MARK: reading tensors

    private func openGood() throws -> SafeTensorsFile {
        let header = #"{"w":\#(goodEntry),"ids":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}"#
        let url = try RawSafeTensors.write(
            RawSafeTensors.bytes(header: header, data: eightBytes + [7, 0, 0, 0]), in: directory)
        return try SafeTensorsFile(contentsOf: url)
    }

    func test_floats_reportsMissingTensor() throws {
        let file = try openGood()
        XCTAssertThrowsError(try file.floats("v")) { error in
            let error = error as? SafeTensorsError
            XCTAssertEqual(error?.file, file.url.path)
            XCTAssertTrue(error?.message.contains("missing tensor 'v'") == true, "\(String(describing: error))")
        }
    }

    func test_floats_reportsWrongShapeWithBothShapes() throws {
        let file = try openGood()
        XCTAssertEqual(try file.floats("w", expectedShape: [2]), [1, 2])
        XCTAssertThrowsError(try file.floats("w", expectedShape: [1, 2])) { error in
            XCTAssertEqual((error as? SafeTensorsError)?.message, "tensor 'w' has shape [2], expected [1, 2]")
        }
    }

    func test_floats_reportsDTypeThatIsNotAFloat() throws {
        let file = try openGood()
        XCTAssertThrowsError(try file.floats("ids")) { error in
            let message = (error as? SafeTensorsError)?.message ?? ""
            XCTAssertTrue(message.contains("tensor 'ids' has dtype I32") && message.contains("F16, BF16, F32, F64"),
                          message)
        }
        // Its bytes are still there for callers that know what they are.
        XCTAssertEqual(try file.withRawBytes("ids") { Array($0) }, [7, 0, 0, 0])
    }

    func test_read_reportsDestinationOfWrongSize() throws {
        let file = try openGood()
        var destination = [Float](repeating: 0, count: 3)
        try destination.withUnsafeMutableBufferPointer { buffer in
            XCTAssertThrowsError(try file.read("w", into: buffer)) { error in
                XCTAssertEqual((error as? SafeTensorsError)?.message,
                               "tensor 'w' has 2 elements (shape [2]), but the destination holds 3")
            }
            try file.read("w", expectedShape: [2], into: UnsafeMutableBufferPointer(rebasing: buffer[1...]))
        }
        XCTAssertEqual(destination, [0, 1, 2])
    }
}
