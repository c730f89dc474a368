import Foundation
import TestSupport
import XCTest

/// `xright bench replay`: the real replay on a pty over a generated log; the figures are measured, so the test
/// checks they are there and consistent, not their size.
final class BenchReplayTests: XCTestCase {
    func test_benchReplay_measuresTheReplayAndTheReportOnTheSameLog() throws {
        let dir = try scratchDirectory()
        let log = dir.appendingPathComponent("big/run.jsonl")
        let result = try XRightProcess.run(["bench", "replay", "--events", "5000", "--log", log.path, "--json"], in: dir)
        XCTAssertEqual(result.status, 0, result.transcript)
        let figures = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.transcript)
        let text = try String(contentsOf: log, encoding: .utf8)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 5000, "the log has the events asked for (the header included)")
        XCTAssertEqual(figures["records"] as? Int, 4999, "the replay showed every record after the header")
        let steps = lines.filter { $0.contains("\"type\":\"step\"") }.count
        XCTAssertEqual(figures["report_steps"] as? Int, steps, "the report's reader sees every step")
        for key in ["first_frame_seconds", "whole_log_seconds", "peak_resident_megabytes", "step_back_at_end_seconds"] {
            let value = try XCTUnwrap(figures[key] as? Double, "\(key) in \(result.stdout)")
            XCTAssertGreaterThan(value, 0, key)
        }
        XCTAssertLessThanOrEqual(figures["first_frame_seconds"] as! Double, figures["whole_log_seconds"] as! Double)

        // A second run reuses the log it was given instead of writing it again.
        let modified = try FileManager.default.attributesOfItem(atPath: log.path)[.modificationDate] as? Date
        let again = try XRightProcess.run(["bench", "replay", "--log", log.path], in: dir)
        XCTAssertEqual(again.status, 0, again.transcript)
        XCTAssertTrue(again.stdout.contains("first frame with records") && again.stdout.contains("peak resident memory"), again.stdout)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: log.path)[.modificationDate] as? Date, modified)
    }

    func test_benchReplay_refusesTooFewEvents_andALogThatIsNotARunLog() throws {
        let dir = try scratchDirectory()
        assertRefused(try XRightProcess.run(["bench", "replay", "--events", "3"], in: dir), mentioning: ["--events", "at least 10"])
        let notALog = dir.appendingPathComponent("data.jsonl")
        try Data("{\"instruction\":\"a\",\"output\":\"b\"}\n".utf8).write(to: notALog)
        assertRefused(try XRightProcess.run(["bench", "replay", "--log", notALog.path], in: dir), mentioning: ["data.jsonl"])
    }
}
