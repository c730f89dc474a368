import Foundation
import XCTest

/// `xright optimum`, `xright sweep` and `xright bench strategies` through the binary, on the tiny preset.
final class SweepCommandTests: XCTestCase {
    static let quick = ["--preset", "tiny", "--demo-examples", "60", "--batch-size", "4", "--max-steps", "6",
                        "--eval-every", "3", "--eval-fraction", "0.2", "--threads", "1"]

    func test_optimum_writesOptimaThatTrainUsesForTheSameSetup() throws {
        let dir = try scratchDirectory()
        let root = dir.appendingPathComponent("runs")
        let r = try XRightProcess.run(["optimum", "--runs-root", root.path] + Self.quick, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let optima = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: root.appendingPathComponent("optima.json"))) as? [String: Any])
        let sftOpt = try XCTUnwrap(optima["sft_opt"] as? Double), dpoOpt = try XCTUnwrap(optima["dpo_opt"] as? Double)
        XCTAssertTrue(r.stdout.contains(String(format: "f_sft* = %.6f", sftOpt)), r.transcript)
        XCTAssertTrue(r.stdout.contains(String(format: "f_dpo* = %.6f", dpoOpt)), r.transcript)
        // f* is the final held-out loss of the single-objective run, as its log recorded it.
        let sftRun = try XCTUnwrap(optima["sft_run"] as? String)
        let lastEval = try lastEvalLine(URL(fileURLWithPath: sftRun).appendingPathComponent("run.jsonl"))
        XCTAssertTrue(lastEval.contains("\"step\":6"), lastEval)

        let train = try XRightProcess.run(["train", "--headless", "--runs-root", root.path] + Self.quick, in: dir)
        XCTAssertEqual(train.status, 0, train.transcript)
        XCTAssertTrue(train.stderr.contains("optima from \(root.appendingPathComponent("optima.json").path)"), train.transcript)
        XCTAssertTrue(train.stderr.contains("ideal distance"), "eval lines show the ideal distance:\n\(train.transcript)")

        let other = try XRightProcess.run(["train", "--headless", "--runs-root", root.path, "--seed", "3"] + Self.quick, in: dir)
        XCTAssertEqual(other.status, 0, other.transcript)
        XCTAssertTrue(other.stderr.contains("measured on a different setup (seed: 0 vs 3)"), other.transcript)
    }

    func test_sweep_tabulatesEveryStrategyAtEveryLambdaAndWritesCSV() throws {
        let dir = try scratchDirectory()
        let csv = dir.appendingPathComponent("sweep.csv")
        let r = try XRightProcess.run(["sweep", "--strategies", "alright", "sft-then-dpo", "--lambdas", "0.25", "0.75",
                                       "--csv", csv.path, "--runs-root", dir.appendingPathComponent("runs").path]
                                      + Self.quick, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.first?.map(String.init),
                       ["strategy", "lambda", "steps", "f_sft", "f_dpo", "ideal_distance", "train_s", "train_cpu_s", "wall_s", "vs_sequential", "run_dir"])
        XCTAssertEqual(rows.dropFirst().map { "\($0[0]) \($0[1])" },
                       ["alright 0.25", "sft-then-dpo 0.25", "alright 0.75", "sft-then-dpo 0.75"])
        for row in rows.dropFirst() {
            XCTAssertEqual(row[2], "6")
            for column in 3...5 { XCTAssertNotNil(Double(row[column]), "column \(column) of \(row)") }
            XCTAssertTrue(FileManager.default.fileExists(atPath: String(row[10]) + "/run.jsonl"), "run directory \(row[10])")
        }
        XCTAssertEqual(rows.filter { $0[0] == "sft-then-dpo" }.map { String($0[9]) }, ["1.000", "1.000"])
        XCTAssertTrue(r.stdout.contains("optima: f_sft* = "), r.transcript)
        XCTAssertTrue(r.stdout.contains("vs_sequential"), r.transcript)
    }

    func test_benchStrategies_reportsEveryStrategyAgainstSequentialAsJSON() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["bench", "strategies", "--json", "--preset", "tiny", "--demo-examples", "200",
                                       "--batch-size", "8", "--eval-every", "4", "--eval-fraction", "0.2", "--threads", "1",
                                       "--runs-root", dir.appendingPathComponent("runs").path], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.transcript)
        let entries = try XCTUnwrap(report["entries"] as? [[String: Any]])
        XCTAssertEqual(entries.compactMap { $0["strategy"] as? String },
                       ["alright", "maxright", "mix", "sft-then-dpo", "dpo-then-sft"])
        let steps = Set(entries.compactMap { $0["steps"] as? Int })
        XCTAssertEqual(steps.count, 1, "one step budget for every strategy: \(steps)")
        for entry in entries {
            XCTAssertNotNil(entry["time_vs_sequential"] as? Double, "\(entry)")
            XCTAssertNotNil(entry["ideal_distance"] as? Double, "\(entry)")
        }
        let forgetting = try XCTUnwrap(report["forgetting"] as? [String: Any], "sequential SFT→DPO is evaluated at its phase end")
        let phaseEnd = try XCTUnwrap(forgetting["phase_end_step"] as? Int)
        XCTAssertTrue(phaseEnd > 0 && phaseEnd < (steps.first ?? 0), "the SFT phase ends inside the run: \(phaseEnd)")
        let closer = try XCTUnwrap(report["closer_than_sequential"] as? [String: Bool])
        XCTAssertEqual(Set(closer.keys), ["alright", "maxright"])
    }

    private func lastEvalLine(_ log: URL) throws -> String {
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        return String(try XCTUnwrap(lines.last { $0.contains("\"type\":\"eval\"") }))
    }
}
