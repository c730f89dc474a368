import Data
import XCTest

final class DemoTaskTests: XCTestCase {
    func test_demo_isDeterministicForASeedAndVariesAcrossSeeds() throws {
        let task = try DemoTask(seed: 3)
        XCTAssertEqual(task.sftExamples(count: 50), task.sftExamples(count: 50))
        XCTAssertEqual(task.preferencePairs(count: 50), task.preferencePairs(count: 50))
        XCTAssertNotEqual(try DemoTask(seed: 4).sftExamples(count: 50), task.sftExamples(count: 50))
    }

    func test_demo_sftTeachesAnswerLastWithCorrectArithmetic() throws {
        for example in try DemoTask(seed: 1).sftExamples(count: 300) {
            let words = example.prompt.dropLast().split(separator: " ")
            XCTAssertEqual(words.count, 5, example.prompt)
            XCTAssertEqual(words[0...1], ["what", "is"])
            let (a, b) = (Int(words[2])!, Int(words[4])!)
            let answer = words[3] == "plus" ? a + b : words[3] == "minus" ? a - b : a * b
            XCTAssertGreaterThanOrEqual(answer, 0)
            XCTAssertEqual(example.response, "it is \(answer).")
        }
    }

    func test_demo_preferencesConflictWithSFTOnStyleButAgreeOnTheAnswer() throws {
        let pairs = try DemoTask(seed: 1).preferencePairs(count: 4000)
        let sftStyle = pairs.filter { $0.rejected.hasPrefix("it is ") }
        let wrongAnswer = pairs.filter { !$0.rejected.hasPrefix("it is ") }
        for pair in pairs {
            let answer = Int(pair.chosen.split(separator: " ")[0])!
            XCTAssertEqual(pair.chosen, DemoTask.preferredReply(answer))
        }
        for pair in sftStyle {
            XCTAssertEqual(pair.rejected, DemoTask.sftReply(Int(pair.chosen.split(separator: " ")[0])!))
            XCTAssertEqual(pair.rejected.utf8.sorted(), pair.chosen.utf8.sorted(), "same bytes, other order")
        }
        for pair in wrongAnswer {
            XCTAssertNotEqual(pair.rejected, pair.chosen)
            XCTAssertTrue(pair.rejected.hasSuffix(" it is."))
        }
        XCTAssertEqual(Double(sftStyle.count) / 4000, 0.5, accuracy: 0.03)
        let shared = pairs.filter { $0.prompt.hasPrefix("what is ") }.count
        XCTAssertEqual(Double(shared) / 4000, 0.25, accuracy: 0.03)
        XCTAssertTrue(pairs.allSatisfy { $0.prompt.hasPrefix("what is ") || $0.prompt.hasPrefix("what's ") })
    }

    func test_demo_textIsShortASCII() throws {
        let task = try DemoTask(seed: 9)
        let texts = task.sftExamples(count: 500).map { PromptTemplate.xright.render($0) + $0.response }
            + task.preferencePairs(count: 500).flatMap { [PromptTemplate.xright.render($0) + $0.chosen,
                                                         PromptTemplate.xright.render($0) + $0.rejected] }
        XCTAssertTrue(texts.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } })
        XCTAssertLessThanOrEqual(texts.map(\.utf8.count).max() ?? 0, 64)
    }

    func test_demo_rejectsFractionsOutsideZeroToOne() {
        XCTAssertThrowsError(try DemoTask(sharedPromptFraction: 1.5)) { error in
            XCTAssertEqual((error as? DataOptionError)?.description,
                           "sharedPromptFraction: expected a fraction in [0, 1], found 1.5")
        }
    }
}
