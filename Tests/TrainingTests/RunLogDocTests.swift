import Foundation
import TestSupport
import Training
import XCTest

/// docs/RUNLOG.md is the schema's documentation: its examples must be valid lines of this schema.
final class RunLogDocTests: XCTestCase {
    func test_runlogDoc_hasAValidExampleOfEveryEventType() throws {
        let doc = TestPaths.packageRoot.appendingPathComponent("docs/RUNLOG.md")
        let text = try String(contentsOf: doc, encoding: .utf8)
        var examples: [String] = []
        var inBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inBlock = line == "```json"; continue }
            if inBlock { examples.append(String(line)) }
        }
        let decoder = RunLogCoding.makeDecoder()
        var types: Set<String> = []
        for example in examples {
            let record = try decoder.decode(RunRecord.self, from: Data(example.utf8))
            if case .unknown(let type) = record.event { XCTFail("unknown type \(type) in the doc") }
            types.insert(record.event.type)
        }
        let expected: Set<String> = ["header", "started", "step", "eval", "command-applied", "command-refused",
                                     "lambda-changed", "strategy-changed", "paused", "resumed", "checkpoint-saved",
                                     "warning", "telemetry", "sample", "progress", "finished"]
        XCTAssertEqual(types, expected)
    }
}
