import Data
import TestSupport
import XCTest

/// Fixtures made by Fixtures/make_gzip_fixtures.py: 40 prompt/chosen/rejected lines, compressed.
final class GzipReadingTests: XCTestCase {
    private func fixture(_ name: String) -> String { TestPaths.fixture("DataTests", name).path }

    func test_gzip_isDetectedByMagicBytesAndReadTransparently() throws {
        let (records, reader) = try readAll(fixture("pairs.jsonl.gz"))
        XCTAssertTrue(reader.isGzip)
        XCTAssertEqual(records.count, 40)
        XCTAssertEqual(records.last?.pair?.prompt, "question 39")
        XCTAssertEqual(records.last?.source.line, 40)
    }

    func test_gzip_readsConcatenatedMembers() throws {
        let (records, _) = try readAll(fixture("pairs_two_members.jsonl.gz"))
        XCTAssertEqual(records.compactMap(\.pair).map(\.prompt), (0..<40).map { "question \($0)" })
    }

    func test_gzip_cutShort_isAnErrorAfterTheCompleteRecords() throws {
        let reader = try DatasetReader(path: fixture("pairs_cut_short.jsonl.gz"))
        var read = 0
        let error = dataError { while try reader.next() != nil { read += 1 } }
        XCTAssertEqual(error?.reason, .truncatedGzip)
        XCTAssertTrue(error?.message.hasPrefix("the gzip stream ends early after ") == true, error?.message ?? "")
        XCTAssertTrue(error?.message.hasSuffix("is the file cut short?)") == true, error?.message ?? "")
        XCTAssertGreaterThan(read, 0, "records before the cut are still delivered")
        XCTAssertLessThan(read, 40)
    }

    func test_gzip_corruptData_isAnError() throws {
        let error = dataError { try readAll(fixture("pairs_corrupt.jsonl.gz")) }
        XCTAssertEqual(error?.reason, .corruptGzip)
        XCTAssertEqual(error?.file, fixture("pairs_corrupt.jsonl.gz"))
    }

    func test_gzip_trailingBytesThatAreNotAMember_areAnError() throws {
        let error = dataError { try readAll(fixture("pairs_trailing_garbage.jsonl.gz")) }
        XCTAssertEqual(error?.reason, .corruptGzip)
        XCTAssertTrue(error?.message.hasPrefix("unexpected byte 0x6e after the end of the gzip data") == true,
                      error?.message ?? "")
    }
}
