import Engine
import Foundation
import TestSupport
import XCTest

/// Reads files written by the reference implementation (`safetensors.torch.save_file`); the fixtures are made by
/// scripts/goldens/make_safetensors_fixtures.py.
final class SafeTensorsReaderTests: XCTestCase {
    private func fixture(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: TestPaths.fixture("EngineTests", "safetensors").appendingPathComponent(name))
    }

    func test_reader_listsNamesShapesDTypesAndMetadataOfReferenceFile() throws {
        let file = try fixture("mixed.safetensors")
        XCTAssertEqual(file.tensorNames, ["double", "empty", "ids", "matrix", "scalar"])
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "made by make_safetensors_fixtures.py"])
        XCTAssertEqual(file.shape(of: "matrix"), [2, 3])
        XCTAssertEqual(file.shape(of: "scalar"), [])
        XCTAssertEqual(file.shape(of: "empty"), [0, 3])
        XCTAssertNil(file.shape(of: "absent"))
        XCTAssertEqual(file.info("ids")?.dtype, .i64)
        XCTAssertEqual(file.info("double")?.dtype, .f64)
        XCTAssertEqual(file.info("matrix")?.elementCount, 6)
    }

    func test_reader_readsF32ValuesExactly() throws {
        let file = try fixture("mixed.safetensors")
        let expected: [Float] = [1.0, -2.0, 3.5, 0.1, 1e-30, -4e30]
        XCTAssertEqual(try file.floats("matrix", expectedShape: [2, 3]).map(\.bitPattern), expected.map(\.bitPattern))
        XCTAssertEqual(try file.floats("scalar", expectedShape: []), [42.5])
        XCTAssertEqual(try file.floats("empty", expectedShape: [0, 3]), [])
    }

    func test_reader_roundsF64ToNearestFloat() throws {
        let file = try fixture("mixed.safetensors")
        // 1e300 overflows to inf; -1e-300 underflows to -0; 2^-149 is the smallest float subnormal.
        let values = try file.floats("double")
        XCTAssertEqual(values.map(\.bitPattern),
                       [Float(0.1), -Float(0), Float.infinity, Float.leastNonzeroMagnitude].map(\.bitPattern))
    }

    func test_reader_exposesRawBytesOfIntegerTensors() throws {
        let file = try fixture("mixed.safetensors")
        let ids = try file.withRawBytes("ids") { raw in (0..<4).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) } }
        XCTAssertEqual(ids, [1, 2, 3, 4])
    }
}
