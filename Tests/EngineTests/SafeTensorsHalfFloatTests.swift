import Engine
import Foundation
import TestSupport
import XCTest

/// F16 and BF16 widening, checked bit for bit against numpy/torch (fixture halfs.safetensors, made by
/// scripts/goldens/make_safetensors_fixtures.py) and, for every F16 pattern, against the platform's Float16.
final class SafeTensorsHalfFloatTests: XCTestCase {
    private func halfs() throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: TestPaths.fixture("EngineTests", "safetensors")
            .appendingPathComponent("halfs.safetensors"))
    }

    private func assertSameBits(_ got: [Float], _ expected: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, expected.count, file: file, line: line)
        for (i, (g, e)) in zip(got, expected).enumerated() where g.bitPattern != e.bitPattern {
            XCTFail("element \(i): got 0x\(String(g.bitPattern, radix: 16)) (\(g)), expected "
                + "0x\(String(e.bitPattern, radix: 16)) (\(e))", file: file, line: line)
        }
    }

    func test_f16_widensZerosSubnormalsInfinitiesAndNaNsLikeNumpy() throws {
        let file = try halfs()
        let expected = try file.floats("f16_expected")
        XCTAssertEqual(file.info("f16")?.dtype, .f16)
        assertSameBits(try file.floats("f16"), expected)
        // The fixture does cover the hard cases.
        XCTAssertTrue(expected.contains { $0 == 0 && $0.sign == .minus })
        XCTAssertTrue(expected.contains { $0 != 0 && abs($0) < 0x1p-14 })  // F16 subnormals
        XCTAssertTrue(expected.contains { $0 == -.infinity })
        XCTAssertEqual(expected.filter(\.isNaN).count, 3)
    }

    func test_bf16_widensZerosSubnormalsInfinitiesAndNaNsLikeTorch() throws {
        let file = try halfs()
        let expected = try file.floats("bf16_expected")
        XCTAssertEqual(file.info("bf16")?.dtype, .bf16)
        assertSameBits(try file.floats("bf16"), expected)
        XCTAssertTrue(expected.contains(where: \.isSubnormal))
        XCTAssertEqual(expected.filter(\.isNaN).count, 3)
    }

    func test_f16_readsMatrixWithItsShape() throws {
        let file = try halfs()
        assertSameBits(try file.floats("f16_matrix", expectedShape: [2, 3]), try file.floats("f16_matrix_expected"))
    }

    func test_f16_hasExactValuesAtTheEdgesOfItsRange() {
        XCTAssertEqual(HalfFloat.float(fromF16Bits: 0x0001), 0x1p-24)          // smallest subnormal
        XCTAssertEqual(HalfFloat.float(fromF16Bits: 0x03FF), 0x1.FF8p-15)      // largest subnormal
        XCTAssertEqual(HalfFloat.float(fromF16Bits: 0x0400), 0x1p-14)          // smallest normal
        XCTAssertEqual(HalfFloat.float(fromF16Bits: 0x7BFF), 65504)
        XCTAssertEqual(HalfFloat.float(fromF16Bits: 0x8000).bitPattern, (-Float(0)).bitPattern)
        XCTAssertEqual(HalfFloat.float(fromF16Bits: 0xFC00), -.infinity)
        XCTAssertEqual(HalfFloat.float(fromF16Bits: 0x7C01).bitPattern, 0x7F80_2000)  // signalling payload kept
        XCTAssertEqual(HalfFloat.float(fromBF16Bits: 0x0001), 0x1p-133)
        XCTAssertEqual(HalfFloat.float(fromBF16Bits: 0xC020), -2.5)
    }

    func test_f16_agreesWithPlatformFloat16ForAllPatterns() throws {
        #if arch(x86_64) && os(macOS)
        throw XCTSkip("Float16 is unavailable on Intel macOS")
        #else
        var mismatches = 0
        for bits in 0...UInt16.max {
            let ours = HalfFloat.float(fromF16Bits: bits)
            let platform = Float(Float16(bitPattern: bits))
            // NaNs: the platform may quiet a signalling NaN; sign and NaN-ness must still agree.
            let same = ours.isNaN ? (platform.isNaN && ours.sign == platform.sign) : ours.bitPattern == platform.bitPattern
            if !same { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0)
        #endif
    }

    func test_bulkConversion_readsUnalignedSource() {
        // Data regions start at 8 + header length, so 2-byte values can sit at odd addresses.
        let bytes: [UInt8] = [0xAA, 0x00, 0x3C, 0x00, 0xC1]  // junk, then F16 1.0 and -2.5 at offset 1
        var f16 = [Float](repeating: 0, count: 2)
        var bf16 = [Float](repeating: 0, count: 2)
        bytes.withUnsafeBytes { raw in
            f16.withUnsafeMutableBufferPointer { HalfFloat.convertF16(raw.baseAddress! + 1, into: $0) }
            bf16.withUnsafeMutableBufferPointer { HalfFloat.convertBF16(raw.baseAddress! + 1, into: $0) }
        }
        XCTAssertEqual(f16, [1.0, -2.5])
        XCTAssertEqual(bf16.map(\.bitPattern), [0x3C00_0000, 0xC100_0000])
    }
}
