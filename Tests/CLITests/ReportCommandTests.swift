import Foundation
import TestSupport
import XCTest

/// `xright report`: the figures of real runs as a table and CSV, and every way a log can be bad.
final class ReportCommandTests: XCTestCase {
    /// The tiny preset on a demo task large enough for a held-out set (evaluations need one).
    private static let tiny = ["--preset", "tiny", "--demo-examples", "400", "--batch-size", "4", "--threads", "1"]

    private func train(_ name: String, in dir: URL, _ extra: [String] = []) throws -> URL {
        let run = dir.appendingPathComponent(name)
        let result = try XRightProcess.run(["train", "--headless", "--max-steps", "30", "--eval-every", "10",
                                            "--epochs", "10", "--sft-opt", "3", "--dpo-opt", "0.5", "--run-dir", run.path]
                                           + Self.tiny + extra, in: dir)
        XCTAssertEqual(result.status, 0, result.transcript)
        return run
    }

    func test_report_printsATableAndACSVRowPerRun() throws {
        let dir = try scratchDirectory()
        let a = try train("a", in: dir), b = try train("b", in: dir, ["--strategy", "mix"])
        let csv = dir.appendingPathComponent("report.csv")
        let result = try XRightProcess.run(["report", a.path, b.path, "--csv", csv.path], in: dir)
        XCTAssertEqual(result.status, 0, result.transcript)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, result.stdout)
        XCTAssertTrue(lines[0].contains("ideal dist") && lines[0].contains("tok/s") && lines[0].contains("DPO steps"))
        XCTAssertTrue(lines[2].hasPrefix("b ") && lines[2].contains("mix") && lines[2].contains("100.0%"),
                      "mix trains DPO on every step:\n\(result.stdout)")
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[0].first, "run")
        let column = { (name: String) in rows[0].firstIndex(of: Substring(name))! }
        XCTAssertEqual(rows[1][column("steps")], "30")
        XCTAssertEqual(rows[2][column("dpo_step_share")], "1.0")
        // The final eval's ideal distance is ‖(f_sft − 3, f_dpo − 0.5)‖ of its own losses (optima given above).
        let log = try String(contentsOf: a.appendingPathComponent("run.jsonl"), encoding: .utf8)
        let eval = try XCTUnwrap(log.split(separator: "\n").last { $0.contains(#""type":"eval""#) })
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(eval.utf8)) as? [String: Any])
        let sft = try XCTUnwrap((object["sft"] as? [String: Any])?["loss"] as? Double)
        let dpo = try XCTUnwrap((object["dpo"] as? [String: Any])?["loss"] as? Double)
        XCTAssertEqual(rows[1][column("final_eval_sft")], Substring(String(sft)))
        XCTAssertEqual(try XCTUnwrap(Double(rows[1][column("final_ideal_distance")])),
                       ((sft - 3) * (sft - 3) + (dpo - 0.5) * (dpo - 0.5)).squareRoot(), accuracy: 1e-12)
        XCTAssertGreaterThan(Double(rows[1][column("tokens_per_second")])!, 0)
        XCTAssertEqual(rows[1][column("finished")], "max-steps")
    }

    func test_report_countsACorruptLine_andReadsARunWithoutCheckpoints() throws {
        let dir = try scratchDirectory()
        let run = try train("a", in: dir)
        try FileManager.default.removeItem(at: run.appendingPathComponent("checkpoints"))
        var lines = try String(contentsOf: run.appendingPathComponent("run.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
        lines.insert("{oops", at: 4)
        try Data((lines.joined(separator: "\n") + "\n{\"type\":\"st").utf8).write(to: run.appendingPathComponent("run.jsonl"))
        let result = try XRightProcess.run(["report", run.path, "--csv", "-"], in: dir)
        XCTAssertEqual(result.status, 0, result.transcript)
        XCTAssertTrue(result.stderr.contains("1 corrupt line skipped (line 5)"), result.transcript)
        XCTAssertTrue(result.stdout.contains(",max-steps,1\n"), "the CSV counts the corrupt line:\n\(result.stdout)")
        XCTAssertTrue(result.stdout.contains("a,alright,0.5,30,"), "all 30 steps are still there:\n\(result.stdout)")
    }

    func test_report_refusesBadInput_byName_andStillReportsTheGoodRuns() throws {
        let dir = try scratchDirectory()
        let good = try train("good", in: dir)
        let empty = dir.appendingPathComponent("empty.jsonl")
        FileManager.default.createFile(atPath: empty.path, contents: Data())
        let notALog = dir.appendingPathComponent("data.jsonl")
        try Data(#"{"prompt":"p","chosen":"c","rejected":"r"}"#.utf8 + [0x0A]).write(to: notALog)
        let future = dir.appendingPathComponent("future.jsonl")
        try Data(#"{"type":"header","schema":"2.0"}"#.utf8 + [0x0A]).write(to: future)
        let noLog = dir.appendingPathComponent("no-log")
        try FileManager.default.createDirectory(at: noLog, withIntermediateDirectories: true)
        let result = try XRightProcess.run(["report", good.path, empty.path, notALog.path, future.path, noLog.path], in: dir)
        assertRefused(result, mentioning: [
            "\(empty.path): run log is empty",
            "\(notALog.path) line 1: expected the run header",
            "\(future.path) line 1: run log schema 2.0 is not supported",
            "no run.jsonl in \(noLog.path)",
        ])
        XCTAssertTrue(result.stdout.contains("\ngood "), "the readable run is still reported:\n\(result.transcript)")
    }

    func test_replay_withoutATerminal_pointsToReport() throws {
        let dir = try scratchDirectory()
        let run = try train("a", in: dir)
        let result = try XRightProcess.run(["replay", run.path], in: dir)
        assertRefused(result, mentioning: ["needs a terminal", "xright report"])
        let badSpeed = try XRightProcess.run(["replay", "--speed", "3", run.path], in: dir)
        assertRefused(badSpeed, mentioning: ["--speed must be one of 1, 2, 4, 8, 16, 32, 64, max; got '3'"])
    }
}
