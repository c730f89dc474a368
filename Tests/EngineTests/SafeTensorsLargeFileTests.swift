import Engine
import Foundation
import TestSupport
import XCTest

/// A 100 MB checkpoint is mapped, not read: opening it costs only the header, and a tensor is converted straight
/// from the mapping into the caller's buffer.
final class SafeTensorsLargeFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("safetensors-large") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Resident set size in bytes (Linux /proc/self/statm: size resident shared … in pages).
    private func residentBytes() throws -> Int {
        let fields = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8).split(separator: " ")
        return Int(fields[1])! * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func test_open_mapsA100MBFileWithoutReadingIt() throws {
        #if !os(Linux)
        throw XCTSkip("measures resident memory through /proc")
        #else
        let count = 25 * 1024 * 1024  // 100 MiB of F32
        let url = directory.appendingPathComponent("large.safetensors")
        do {
            let values = (0..<count).map { Float($0 % 1000) - 500 }
            try SafeTensorsWriter.write(arrays: [(name: "big", shape: [count / 1024, 1024], values: values),
                                                 (name: "small", shape: [3], values: [1, 2, 3])], to: url)
        }
        let before = try residentBytes()
        var start = Date()
        let file = try SafeTensorsFile(contentsOf: url)
        let openSeconds = Date().timeIntervalSince(start)
        XCTAssertLessThan(try residentBytes() - before, 8 << 20, "opening must not read the 100 MiB of data")
        XCTAssertEqual(try file.floats("small"), [1, 2, 3])

        var destination = [Float](repeating: 0, count: count)
        start = Date()
        try destination.withUnsafeMutableBufferPointer { try file.read("big", expectedShape: [count / 1024, 1024], into: $0) }
        let readSeconds = Date().timeIntervalSince(start)
        XCTAssertEqual(destination[0], -500)
        XCTAssertEqual(destination[count - 1], Float((count - 1) % 1000) - 500)
        print("safetensors 100 MiB F32: open \(String(format: "%.2f", openSeconds * 1000)) ms, read into buffer "
            + "\(String(format: "%.0f", 100 / readSeconds)) MiB/s")
        #endif
    }

    func test_read_convertsA100MBF16TensorInOnePass() throws {
        let count = 50 * 1024 * 1024  // 100 MiB of F16
        let header = #"{"h":{"dtype":"F16","shape":[\#(count)],"data_offsets":[0,\#(2 * count)]}}"#
        var bytes = RawSafeTensors.bytes(header: header)  // odd header length: the F16 data is unaligned
        bytes.reserveCapacity(bytes.count + 2 * count)
        for i in 0..<count { bytes.append(UInt8(i & 0xFF)); bytes.append(0x3C) }  // 1 + (i mod 256)/1024
        let url = try RawSafeTensors.write(bytes, in: directory)
        bytes = []
        let file = try SafeTensorsFile(contentsOf: url)
        let start = Date()
        let values = try file.floats("h")
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(values.count, count)
        XCTAssertEqual(values[0], 1)
        XCTAssertEqual(values[count - 1], 1 + 255.0 / 1024)
        print("safetensors 100 MiB F16 -> F32: \(String(format: "%.0f", 100 / seconds)) MiB/s of input")
    }
}
