import Data
import Foundation
import XCTest

/// Reading a large file must not need memory in proportion to its size.
final class StreamingMemoryTests: XCTestCase {
    private static let recordCount = 200_000

    /// Writes `recordCount` records (about 60 MB) as JSON Lines or as a JSON array on a single line.
    private func writeLargeFile(array: Bool) throws -> String {
        let scratch = try Scratch(self)
        let path = scratch.directory.appendingPathComponent(array ? "large.json" : "large.jsonl").path
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        let filler = String(repeating: "lorem ipsum ", count: 20)
        var block = array ? "[" : ""
        for index in 0..<Self.recordCount {
            block += #"{"prompt": "question \#(index) \#(filler)", "response": "answer \#(index)"}"#
            block += array ? (index + 1 < Self.recordCount ? ", " : "]") : "\n"
            if block.utf8.count > 1 << 20 {
                handle.write(Foundation.Data(block.utf8))
                block = ""
            }
        }
        handle.write(Foundation.Data(block.utf8))
        handle.closeFile()
        return path
    }

    private func streamAll(_ path: String) throws -> (count: Int, reader: DatasetReader, residentGrowth: Int?) {
        let before = ResidentMemory.resetPeak()
        let started = Date()
        let reader = try DatasetReader(path: path)
        var count = 0
        var lastPrompt = ""
        while let record = try reader.next() {
            count += 1
            if case .sft(let example) = record { lastPrompt = example.prompt }
        }
        XCTAssertTrue(lastPrompt.hasPrefix("question \(Self.recordCount - 1) "))
        let growth = before.flatMap { before in ResidentMemory.peak().map { $0 - before } }
        let seconds = Date().timeIntervalSince(started)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print("streamed \(count) records, \(size >> 20) MiB in \(String(format: "%.2f", seconds)) s "
              + "(\(Int(Double(size >> 20) / seconds)) MiB/s); buffers peaked at \(reader.peakBufferedBytes) bytes; "
              + "peak resident memory grew by \(growth.map { "\($0 >> 10) KiB" } ?? "n/a")")
        return (count, reader, growth)
    }

    func test_jsonLines_streamInBoundedMemory() throws {
        let path = try writeLargeFile(array: false)
        let (count, reader, growth) = try streamAll(path)
        XCTAssertEqual(count, Self.recordCount)
        XCTAssertLessThan(reader.peakBufferedBytes, 256 * 1024)
        if let growth { XCTAssertLessThan(growth, 24 << 20, "peak resident memory grew by \(growth) bytes") }
    }

    func test_singleLineJSONArray_streamsElementByElement() throws {
        let path = try writeLargeFile(array: true)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertGreaterThan(size, 50 << 20)
        let (count, reader, growth) = try streamAll(path)
        XCTAssertEqual(count, Self.recordCount)
        XCTAssertEqual(reader.container, .jsonArray)
        XCTAssertLessThan(reader.peakBufferedBytes, 256 * 1024)
        if let growth { XCTAssertLessThan(growth, 24 << 20, "peak resident memory grew by \(growth) bytes") }
    }
}

/// Peak resident memory of this process on Linux (VmHWM in /proc/self/status), which can be reset by writing
/// "5" to /proc/self/clear_refs. nil where that is unavailable; the tests then rely on `peakBufferedBytes`.
enum ResidentMemory {
    static func resetPeak() -> Int? {
        guard FileManager.default.isWritableFile(atPath: "/proc/self/clear_refs"),
              let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return nil }
        handle.write(Foundation.Data("5".utf8))
        handle.closeFile()
        return peak()
    }

    static func peak() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes * 1024
    }
}
