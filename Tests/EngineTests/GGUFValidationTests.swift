import Engine
import Foundation
import GGUF
import TestSupport
import XCTest

/// Bad GGUF files: each gives a `GGUFError` naming the file and saying what was expected and found (field,
/// tensor, offset), never a crash, a hang or an allocation sized by a corrupt count.
final class GGUFValidationTests: XCTestCase {
    /// A GGUF written field by field, so each test can break exactly one thing.
    struct Builder {
        var version: UInt32 = 3
        var metadata: [(key: String, type: UInt32, value: [UInt8])] = []
        var tensors: [(name: String, dimensions: [UInt64], type: UInt32, offset: UInt64)] = []
        var data: [UInt8] = []
        var tensorCountOverride: UInt64? = nil
        var keyCountOverride: UInt64? = nil
        var alignment = 32

        static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        static func string(_ text: String) -> [UInt8] { le(UInt64(text.utf8.count)) + Array(text.utf8) }

        mutating func add(_ key: String, u32 value: UInt32) { metadata.append((key, 4, Self.le(value))) }
        mutating func add(_ key: String, string value: String) { metadata.append((key, 8, Self.string(value))) }

        /// An F32 tensor of the given GGUF dimensions, its data appended (aligned).
        mutating func addF32(_ name: String, _ dimensions: [UInt64], values: [Float]) {
            while data.count % alignment != 0 { data.append(0) }
            tensors.append((name, dimensions, 0, UInt64(data.count)))
            for v in values { data += Self.le(v.bitPattern) }
        }

        func bytes() -> [UInt8] {
            var out = Array("GGUF".utf8) + Self.le(version)
            out += Self.le(tensorCountOverride ?? UInt64(tensors.count))
            out += Self.le(keyCountOverride ?? UInt64(metadata.count))
            for entry in metadata { out += Self.string(entry.key) + Self.le(entry.type) + entry.value }
            for t in tensors {
                out += Self.string(t.name) + Self.le(UInt32(t.dimensions.count))
                for d in t.dimensions { out += Self.le(d) }
                out += Self.le(t.type) + Self.le(t.offset)
            }
            while out.count % alignment != 0 { out.append(0) }
            return out + data
        }
    }

    private var directory: URL!

    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("gguf-validation") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func write(_ bytes: [UInt8], _ name: String = "bad.gguf") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// Opens `bytes` and expects a GGUFError whose message contains every fragment.
    private func expectError(_ bytes: [UInt8], _ fragments: String..., file: StaticString = #filePath,
                             line: UInt = #line) throws {
        let url = try write(bytes)
        XCTAssertThrowsError(try GGUFFile(contentsOf: url), file: file, line: line) { error in
            guard let error = error as? GGUFError else { return XCTFail("not a GGUFError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.file, url.path, file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'",
                              file: file, line: line)
            }
        }
    }

    private func valid() -> Builder {
        var b = Builder()
        b.add("general.architecture", string: "llama")
        b.addF32("a", [4, 2], values: (0..<8).map(Float.init))
        b.addF32("b", [3], values: [1, 2, 3])
        return b
    }

    func testTheHandWrittenBaselineIsValid() throws {
        var b = valid()
        // An empty array (the reference writer refuses to write one; llama.cpp reads them).
        b.metadata.append(("empty", 9, Builder.le(UInt32(8)) + Builder.le(UInt64(0))))
        let file = try GGUFFile(contentsOf: try write(b.bytes()))
        XCTAssertEqual(file.metadata["empty"], .array([]))
        XCTAssertEqual(try file.floats("a"), (0..<8).map(Float.init))
        XCTAssertEqual(try file.floats("b"), [1, 2, 3])
        XCTAssertEqual(file.tensor("a")?.shape, [2, 4])
    }

    func testEmptyAndShortFilesSayTheyAreTooShort() throws {
        try expectError([], "file is 0 bytes, too short for the 4-byte magic")
        try expectError(Array("GGUF".utf8), "version at offset 4 needs 4 bytes, but only 0 remain")
    }

    func testBadMagicShowsTheBytesFound() throws {
        var bytes = valid().bytes()
        bytes[0] = UInt8(ascii: "P")
        bytes[1] = UInt8(ascii: "K")
        try expectError(bytes, "bad magic at offset 0: expected \"GGUF\" (47 47 55 46), found 50 4b 55 46")
    }

    func testUnsupportedVersionsAreNamed() throws {
        var b = valid()
        b.version = 1
        try expectError(b.bytes(), "unsupported GGUF version 1 at offset 4: expected 2 or 3", "obsolete")
        b.version = 4
        try expectError(b.bytes(), "unsupported GGUF version 4")
        b.version = UInt32(3).byteSwapped
        try expectError(b.bytes(), "big-endian GGUF (version 3); only little-endian files are supported")
    }

    func testTruncationAnywhereIsAnErrorNotACrash() throws {
        let bytes = valid().bytes()
        // Cut at every length: each prefix must fail cleanly (the last full length is valid).
        for length in 0..<bytes.count {
            let url = try write(Array(bytes[0..<length]))
            XCTAssertThrowsError(try GGUFFile(contentsOf: url), "prefix of \(length) bytes") { error in
                XCTAssertTrue(error is GGUFError, "\(error)")
            }
        }
        try expectError(Array(bytes.dropLast(4)), "tensor 'b' (F32, dimensions [3]): expected 12 bytes at data offset 32",
                        "tensor past the end of the file")
    }

    func testAbsurdCountsAreRejectedBeforeAllocating() throws {
        var b = valid()
        b.tensorCountOverride = 1 << 40
        try expectError(b.bytes(), "tensor count 1099511627776 cannot fit in the")
        b = valid()
        b.keyCountOverride = UInt64.max
        try expectError(b.bytes(), "metadata key count 18446744073709551615 cannot fit")
        // A string length of 2^60.
        b = valid()
        b.metadata.append(("huge", 8, Builder.le(UInt64(1) << 60)))
        try expectError(b.bytes(), "value of metadata 'huge' at offset", "has length 1152921504606846976")
        // An array of 2^50 uint32.
        b = valid()
        b.metadata.append(("many", 9, Builder.le(UInt32(4)) + Builder.le(UInt64(1) << 50)))
        try expectError(b.bytes(), "metadata 'many': array of 1125899906842624 elements at offset", "cannot fit")
        // A dimension so large the element count is absurd.
        b = valid()
        b.tensors[0].dimensions = [1 << 40, 1 << 20]
        try expectError(b.bytes(), "tensor 'a' at offset", "dimension 1 is 1048576, giving an absurd or empty element count")
        b.tensors[0].dimensions = [0, 2]
        try expectError(b.bytes(), "dimension 0 is 0")
        b.tensors[0].dimensions = [1, 1, 1, 1, 1]
        try expectError(b.bytes(), "tensor 'a' at offset", "expected 1 to 4 dimensions, found 5")
    }

    func testUnknownTypesAreNamedWithTheirOffset() throws {
        var b = valid()
        b.tensors[1].type = 99
        try expectError(b.bytes(), "tensor 'b': unknown tensor type 99 at offset")
        b = valid()
        b.metadata.append(("odd", 13, [0]))
        try expectError(b.bytes(), "metadata 'odd': unknown value type 13 at offset")
        b = valid()
        b.metadata.append(("odd", 9, Builder.le(UInt32(42)) + Builder.le(UInt64(1))))
        try expectError(b.bytes(), "metadata 'odd': unknown array element type 42 at offset")
        b = valid()
        b.metadata.append(("flag", 7, [2]))
        try expectError(b.bytes(), "metadata 'flag': bool at offset", "is 2, expected 0 or 1")
    }

    func testDeeplyNestedArraysAreRejected() throws {
        var b = valid()
        var value: [UInt8] = []
        for _ in 0..<20 { value += Builder.le(UInt32(9)) + Builder.le(UInt64(1)) }
        value += Builder.le(UInt32(0)) + Builder.le(UInt64(0))
        b.metadata.append(("deep", 9, value))
        try expectError(b.bytes(), "metadata 'deep': arrays nested deeper than 8")
    }

    func testTensorLayoutErrors() throws {
        var b = valid()
        b.tensors[1].offset = 8
        try expectError(b.bytes(), "tensor 'b': data offset 8 is not a multiple of the alignment 32")
        b = valid()
        b.tensors[1].offset = 1 << 62
        try expectError(b.bytes(), "tensor 'b' (F32, dimensions [3]): expected 12 bytes at data offset 4611686018427387904",
                        "tensor past the end")
        // Found by the fuzzer (scripts/fuzz gguf): an aligned offset near 2^64 overflowed Int while the error
        // message was built, a trap instead of this error.
        for offset in [UInt64.max & ~31, UInt64(Int.max) & ~31] {
            b = valid()
            b.tensors[1].offset = offset
            try expectError(b.bytes(), "tensor 'b' (F32, dimensions [3]): expected 12 bytes at data offset \(offset)",
                            "tensor past the end")
        }
        b = valid()
        b.tensors[1].offset = 0
        try expectError(b.bytes(), "tensors 'a' (bytes", "and 'b'", "overlap")
        b = valid()
        b.tensors[1].name = "a"
        try expectError(b.bytes(), "tensor 'a' at offset", "appears twice in the tensor index")
        b = valid()
        b.add("general.architecture", string: "again")
        try expectError(b.bytes(), "metadata key 'general.architecture' at offset", "appears twice")
        b = valid()
        b.tensors[1].type = 8  // Q8_0 needs rows of 32
        try expectError(b.bytes(), "tensor 'b' (Q8_0): row length 3 is not a multiple of the 32-element block")
    }

    func testAlignmentMustBeAUInt32PowerOfTwo() throws {
        var b = valid()
        b.add("general.alignment", u32: 48)
        try expectError(b.bytes(), "metadata 'general.alignment': expected a uint32 power of two, found uint32 48")
        b = valid()
        b.add("general.alignment", string: "32")
        try expectError(b.bytes(), "expected a uint32 power of two, found string")
        b = valid()
        b.alignment = 64
        b.data = []
        b.tensors = []
        b.add("general.alignment", u32: 64)
        b.addF32("a", [2], values: [5, 6])
        XCTAssertEqual(try GGUFFile(contentsOf: try write(b.bytes())).floats("a"), [5, 6])
    }

    func testADirectoryOrMissingFileIsNamed() throws {
        XCTAssertThrowsError(try GGUFFile(contentsOf: directory)) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
        XCTAssertThrowsError(try GGUFFile(contentsOf: directory.appendingPathComponent("none.gguf"))) { error in
            XCTAssertTrue("\(error)".contains("none.gguf: cannot open: No such file"), "\(error)")
        }
    }
}
