import XCTest
import Engine

final class ThreadingTests: XCTestCase {
    func test_parallelRanges_coversEveryIndexOnce() {
        EngineThreads.configure(2)
        let n = 100_003
        var hits = [Int32](repeating: 0, count: n)
        hits.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            EngineThreads.parallelRanges(n, minimumPerThread: 10) { s, e in
                for i in s..<e { p[i] += 1 }
            }
        }
        XCTAssertEqual(hits.min(), 1)
        XCTAssertEqual(hits.max(), 1)
    }
}
