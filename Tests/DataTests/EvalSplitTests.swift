import Data
import XCTest

final class EvalSplitTests: XCTestCase {
    private func examples(_ count: Int) -> [SFTExample] {
        (0..<count).map { SFTExample(prompt: "prompt \($0)", response: "response \($0)",
                                     source: RecordLocation(file: "f", line: $0 + 1, recordIndex: $0)) }
    }

    func test_split_holdsOutAboutTheRequestedFraction() throws {
        let split = try EvalSplit(fraction: 0.1, seed: 7)
        let held = examples(20_000).filter(split.isEval).count
        XCTAssertEqual(Double(held) / 20_000, 0.1, accuracy: 0.01)
    }

    func test_split_dependsOnContentNotPosition() throws {
        let split = try EvalSplit(fraction: 0.3, seed: 1)
        let records = examples(500)
        var moved = records.reversed().map { example -> SFTExample in
            var copy = example
            copy.source = RecordLocation(file: "other", line: 99, recordIndex: 99)
            return copy
        }
        moved.reverse()
        XCTAssertEqual(records.map(split.isEval), moved.map(split.isEval))
    }

    func test_split_changesWithTheSeed() throws {
        let records = examples(1000)
        let first = try EvalSplit(fraction: 0.5, seed: 1)
        let second = try EvalSplit(fraction: 0.5, seed: 2)
        XCTAssertNotEqual(records.map(first.isEval), records.map(second.isEval))
    }

    func test_split_distinguishesFieldBoundaries() throws {
        // Without separators ("ab","c") and ("a","bc") would hash alike; over many seeds they must differ.
        let left = SFTExample(prompt: "ab", response: "c", source: RecordLocation(file: "f", line: 1, recordIndex: 0))
        let right = SFTExample(prompt: "a", response: "bc", source: left.source)
        let differs = try (0..<64).contains { seed in
            let split = try EvalSplit(fraction: 0.5, seed: UInt64(seed))
            return split.isEval(left) != split.isEval(right)
        }
        XCTAssertTrue(differs)
    }

    func test_fractionOutsideZeroToOne_isRejected() {
        XCTAssertThrowsError(try EvalSplit(fraction: 1.0))
        XCTAssertThrowsError(try EvalSplit(fraction: -0.1))
        XCTAssertEqual(try examples(100).filter(EvalSplit(fraction: 0).isEval).count, 0)
    }
}
