import Engine
import Foundation
import GGUF
import TestSupport
import XCTest

/// The GGUF reader against files written by the reference writer (`gguf.GGUFWriter`, made by
/// scripts/goldens/make_gguf_fixtures.py): metadata of every value type, the tensor index, and every supported
/// tensor type dequantized exactly as the `gguf` package dequantizes it.
final class GGUFReaderTests: XCTestCase {
    private func fixture(_ name: String) -> URL { TestPaths.fixture("EngineTests", "gguf/\(name)") }

    func testReadsMetadataOfEveryValueTypeInVersion3And2() throws {
        for (name, version) in [("types_v3.gguf", 3), ("types_v2.gguf", 2)] {
            let file = try GGUFFile(contentsOf: fixture(name))
            XCTAssertEqual(file.version, version)
            let m = file.metadata
            XCTAssertEqual(m["general.architecture"], .string("llama"))
            XCTAssertEqual(m["test.uint8"], .uint8(200))
            XCTAssertEqual(m["test.int8"], .int8(-100))
            XCTAssertEqual(m["test.uint16"], .uint16(60000))
            XCTAssertEqual(m["test.int16"], .int16(-30000))
            XCTAssertEqual(m["test.uint32"], .uint32(4_000_000_000))
            XCTAssertEqual(m["test.int32"], .int32(-2_000_000_000))
            XCTAssertEqual(m["test.float32"], .float32(0.1))
            XCTAssertEqual(m["test.bool_true"], .bool(true))
            XCTAssertEqual(m["test.bool_false"], .bool(false))
            XCTAssertEqual(m["test.string"], .string("héllo, GGUF ✓"))
            XCTAssertEqual(m["test.empty_string"], .string(""))
            XCTAssertEqual(m["test.uint64"], .uint64(18_000_000_000_000_000_000))
            XCTAssertEqual(m["test.int64"], .int64(-9_000_000_000_000_000_000))
            XCTAssertEqual(m["test.float64"], .float64(2.718281828459045))
            XCTAssertEqual(m["test.array_int32"], .array([.int32(1), .int32(-2), .int32(3)]))
            XCTAssertEqual(m["test.array_float32"], .array([.float32(0.5), .float32(-1.25)]))
            XCTAssertEqual(m["test.array_string"], .array([.string("a"), .string(""), .string("ünïcode")]))
            XCTAssertEqual(m["test.array_nested"], .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])]))
            XCTAssertEqual(file.alignment, 64)
            XCTAssertEqual(file.metadataKeys.first, "general.architecture")
            XCTAssertEqual(try file.integers("test.array_int32"), [1, -2, 3])
            XCTAssertEqual(try file.strings("test.array_string"), ["a", "", "ünïcode"])
        }
    }

    func testTypedMetadataAccessNamesTheKeyAndTypeWhenTheTypeIsWrong() throws {
        let file = try GGUFFile(contentsOf: fixture("types_v3.gguf"))
        XCTAssertNil(try file.string("no.such.key"))
        XCTAssertThrowsError(try file.integer("test.string")) { error in
            XCTAssertEqual((error as? GGUFError)?.message,
                           "metadata 'test.string': expected an integer, found string \"héllo, GGUF ✓\"")
        }
        XCTAssertThrowsError(try file.strings("test.array_int32")) { error in
            XCTAssertTrue("\(error)".contains("metadata 'test.array_int32[0]': expected a string, found int32"),
                          "\(error)")
        }
        // A uint64 beyond Int is not silently truncated.
        XCTAssertThrowsError(try file.integer("test.uint64"))
    }

    func testTensorIndexGivesNamesShapesTypesAndAlignedOffsets() throws {
        let file = try GGUFFile(contentsOf: fixture("types_v3.gguf"))
        XCTAssertEqual(file.tensorNames, ["t.q8_0", "t.q4_0", "t.q4_1", "t.q4_k", "t.q5_k", "t.q6_k", "t.q5_0",
                                          "t.f32", "t.f16", "t.bf16", "t.cube"])
        let q4k = try XCTUnwrap(file.tensor("t.q4_k"))
        XCTAssertEqual(q4k.type, .q4_K)
        XCTAssertEqual(q4k.dimensions, [512, 3])
        XCTAssertEqual(q4k.shape, [3, 512])
        XCTAssertEqual(q4k.byteCount, 3 * 2 * 144)
        XCTAssertEqual(try XCTUnwrap(file.tensor("t.cube")).shape, [2, 3, 64])
        for tensor in file.tensors {
            XCTAssertEqual((tensor.fileOffset - file.dataOffset) % 64, 0, tensor.name)
        }
        XCTAssertEqual(file.dataOffset % 64, 0)
    }

    /// Every supported type, element by element against `gguf.quants.dequantize` (goldens.f32), bit for bit:
    /// the arithmetic is the same float32 operations in the same order. NaN matches NaN.
    func testEveryTypeDequantizesBitForBitLikeTheGGUFPackage() throws {
        let goldens = try Data(contentsOf: fixture("goldens.f32"))
        let manifest = try String(contentsOf: fixture("goldens.txt"), encoding: .utf8)
        var covered: Set<String> = []
        for (name, version) in [("types_v3.gguf", 3), ("types_v2.gguf", 2)] {
            let file = try GGUFFile(contentsOf: fixture(name))
            XCTAssertEqual(file.version, version)
            for line in manifest.split(separator: "\n") {
                let fields = line.split(separator: " ")
                let (tensor, typeName, offset, count) = (String(fields[0]), String(fields[1]), Int(fields[2])!,
                                                         Int(fields[3])!)
                let info = try XCTUnwrap(file.tensor(tensor))
                XCTAssertEqual(info.type.name, typeName)
                covered.insert(typeName)
                let values = try file.floats(tensor)
                XCTAssertEqual(values.count, count, tensor)
                var mismatches = 0
                for i in 0..<count {
                    let bits = goldens.withUnsafeBytes {
                        UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4 * (offset + i), as: UInt32.self))
                    }
                    let expected = Float(bitPattern: bits)
                    if !(values[i].bitPattern == bits || (values[i].isNaN && expected.isNaN)) {
                        if mismatches < 3 { XCTFail("\(name) \(tensor)[\(i)]: \(values[i]) vs \(expected)") }
                        mismatches += 1
                    }
                }
                XCTAssertEqual(mismatches, 0, "\(name) \(tensor)")
            }
        }
        XCTAssertEqual(covered, Set(GGMLType.dequantizable.map(\.name)))
    }

    func testReadIntoADestinationOfTheWrongSizeFailsNamingTheTensor() throws {
        let file = try GGUFFile(contentsOf: fixture("types_v3.gguf"))
        let info = try XCTUnwrap(file.tensor("t.q4_1"))
        var small = [Float](repeating: 0, count: 10)
        XCTAssertThrowsError(try small.withUnsafeMutableBufferPointer { try file.read(info, into: $0) }) { error in
            XCTAssertTrue("\(error)".contains("tensor 't.q4_1' has 1536 elements (shape [3, 512]), but the "
                + "destination holds 10"), "\(error)")
        }
    }

    func testATypeTheEngineCannotDequantizeIsAClearError() throws {
        let file = try GGUFFile(contentsOf: fixture("types_v3.gguf"))
        XCTAssertThrowsError(try file.floats("t.q5_0")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasSuffix("tensor 't.q5_0': tensor type Q5_0 cannot be converted to Float "
                + "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K)"), text)
            XCTAssertTrue(text.hasPrefix(self.fixture("types_v3.gguf").path), text)
        }
        XCTAssertThrowsError(try file.floats("t.none")) { error in
            XCTAssertTrue("\(error)".contains("missing tensor 't.none' (the file has 11 tensors, e.g. 't.q8_0')"))
        }
    }
}
