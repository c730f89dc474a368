import Engine
import Foundation
import TestSupport
import Training
import XCTest

final class ContentFingerprintTests: XCTestCase {
    func test_fingerprint_matchesTheFNV1a64ReferenceVectors() {
        // Reference values from the FNV specification's test suite.
        XCTAssertEqual(ContentFingerprint.of(Data()), "fnv1a64:cbf29ce484222325")
        XCTAssertEqual(ContentFingerprint.of(Data("a".utf8)), "fnv1a64:af63dc4c8601ec8c")
        XCTAssertEqual(ContentFingerprint.of(Data("foobar".utf8)), "fnv1a64:85944171f73967e8")
    }

    func test_fileFingerprint_equalsTheBytesFingerprint_acrossChunks() throws {
        let root = try TestPaths.temporaryDirectory("xright-fingerprint")
        defer { try? FileManager.default.removeItem(at: root) }
        var rng = SeededRandom(seed: 5)
        let data = Data((0..<(3 << 20) + 17).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let file = root.appendingPathComponent("weights.bin")
        try data.write(to: file)
        XCTAssertEqual(try ContentFingerprint.of(file: file), ContentFingerprint.of(data))
    }

    func test_fileFingerprint_ofAMissingFile_namesIt() {
        XCTAssertThrowsError(try ContentFingerprint.of(file: URL(fileURLWithPath: "/nonexistent/model.safetensors"))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/model.safetensors"), "\(error)")
        }
    }
}
