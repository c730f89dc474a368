import Engine
import Foundation
import TestSupport
import XCTest

/// A safetensors file ends with its last tensor: bytes after it (a concatenation, an interrupted rewrite) are
/// refused with the offset where they start, as the reference reader refuses an incompletely covered buffer.
final class SafeTensorsTrailingDataTests: XCTestCase {
    func test_open_refusesTrailingBytesAfterTheLastTensor_namingTheOffset() throws {
        let directory = try TestPaths.temporaryDirectory("safetensors-trailing")
        defer { try? FileManager.default.removeItem(at: directory) }
        let header = #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#
        let bytes = RawSafeTensors.bytes(header: header, data: RawSafeTensors.floatBytes([1, 2]) + Array("garbage".utf8))
        let url = try RawSafeTensors.write(bytes, in: directory)
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: url)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(url.path), text)
            XCTAssertTrue(text.contains("7 bytes of trailing data"), text)
            XCTAssertTrue(text.contains("starting at byte \(8 + header.utf8.count + 8)"), text)
        }
    }

    func test_open_acceptsAFileThatEndsWithItsLastTensor() throws {
        let directory = try TestPaths.temporaryDirectory("safetensors-trailing")
        defer { try? FileManager.default.removeItem(at: directory) }
        let header = #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#
        let url = try RawSafeTensors.write(RawSafeTensors.bytes(header: header, data: RawSafeTensors.floatBytes([1, 2])), in: directory)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).floats("w"), [1, 2])
    }
}
