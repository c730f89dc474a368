import Data
import Foundation
import TestSupport
import Text
import XCTest

/// One token per UTF-8 byte (0–255), eos 256, pad 257: the test stand-in for Text's tokenizers.
struct TestByteTokenizer: Tokenizer {
    func encode(_ text: String) -> [Int] { text.utf8.map(Int.init) }
    func decode(_ ids: [Int]) -> String { String(decoding: ids.filter { $0 < 256 }.map(UInt8.init), as: UTF8.self) }
    var vocabularySize: Int { 258 }
    var eosTokenId: Int { 256 }
    var padTokenId: Int { 257 }
}

/// A temporary directory for one test, removed when the test ends.
final class Scratch {
    let directory: URL

    init(_ test: XCTestCase) throws {
        directory = try TestPaths.temporaryDirectory("xright-data")
        let directory = self.directory
        test.addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    }

    /// Writes `text` to a file in the directory and returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        try bytes(name, Array(text.utf8))
    }

    func bytes(_ name: String, _ content: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Foundation.Data(content).write(to: url)
        return url.path
    }
}

/// Reads every record of `path`, returning them with the reader for its counts and problems.
func readAll(_ path: String, _ options: ReadOptions = ReadOptions()) throws -> ([DataRecord], DatasetReader) {
    let reader = try DatasetReader(path: path, options: options)
    return (try reader.readAll(), reader)
}

/// The `DataError` thrown by `body`, failing the test when it throws something else or nothing.
func dataError<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> DataError? {
    do {
        _ = try body()
        XCTFail("expected a DataError, but nothing was thrown", file: file, line: line)
    } catch let error as DataError {
        return error
    } catch {
        XCTFail("expected a DataError, got \(error)", file: file, line: line)
    }
    return nil
}

extension DataRecord {
    var sft: SFTExample? { if case .sft(let example) = self { return example } else { return nil } }
    var pair: PreferencePair? { if case .preference(let pair) = self { return pair } else { return nil } }
}
