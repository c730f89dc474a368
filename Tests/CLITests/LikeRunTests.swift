import Foundation
import TestSupport
import Training
import XCTest

/// `xright train --like RUN_DIR [overrides…]`: a new run with the options another run recorded in its header,
/// the command line (and a --config file) overriding them, `--print-config` showing the merge, and clear errors
/// for anything that is not a readable run.
final class LikeRunTests: XCTestCase {
    /// A short run with many options away from their defaults, so a dropped option shows as a difference.
    private let original = ["train", "--preset", "tiny", "--demo-examples", "60", "--batch-size", "4", "--threads", "1",
                            "--max-steps", "2", "--strategy", "mix", "--lambda", "0.3", "--lr", "0.002", "--cosine",
                            "--warmup", "1", "--weight-decay", "0.01", "--max-grad-norm", "0.5", "--beta", "0.2",
                            "--label-smoothing", "0.1", "--lora-rank", "2", "--lora-alpha", "4", "--eval-fraction", "0.1",
                            "--eval-every", "1", "--keep-checkpoints", "2", "--max-eval-steps", "3", "--seed", "7",
                            "--sft-opt", "0.5", "--dpo-opt", "0.6", "--gradient-checkpointing", "--headless"]

    private func settings(_ yaml: String) -> [String: String] {
        var values = [String: String]()
        for line in yaml.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return values
    }

    private func startedRun(in dir: URL) throws -> URL {
        let result = try XRightProcess.run(original + ["--run-dir", "a"], in: dir)
        XCTAssertEqual(result.status, 0, result.transcript)
        return dir.appendingPathComponent("a")
    }

    func test_like_recordsTheSameOptions_exceptWhatTheCommandLineChanges() throws {
        let dir = try scratchDirectory()
        let first = try startedRun(in: dir)
        let again = try XRightProcess.run(["train", "--like", first.path, "--run-dir", "b", "--lambda", "0.7",
                                           "--threads", "1", "--headless"], in: dir)
        XCTAssertEqual(again.status, 0, again.transcript)
        var expected = try RunSetup.options(fromRun: RunDirectory(first))
        expected.training.lambda = try Lambda(0.7)
        let found = try RunSetup.options(fromRun: RunDirectory(dir.appendingPathComponent("b")))
        XCTAssertEqual(found, expected)
        XCTAssertEqual(found.training.strategy.rawValue, "mix")
        XCTAssertTrue(found.cosineDecay)
        XCTAssertEqual(found.lora?.rank, 2)
        XCTAssertEqual(found.gradientCheckpointing, true)
    }

    func test_printConfig_showsTheMerge_andTheCommandLineReplacesExclusiveOptions() throws {
        let dir = try scratchDirectory()
        let first = try startedRun(in: dir)
        let printed = try XRightProcess.run(["train", "--like", first.path, "--lambda", "0.9", "--no-cosine", "--print-config"],
                                            in: dir, timeout: 30)
        XCTAssertEqual(printed.status, 0, printed.transcript)
        let values = settings(printed.stdout)
        XCTAssertEqual(values["lambda"], "0.9", printed.stdout)         // the command line over the run
        XCTAssertEqual(values["cosine"], "false", printed.stdout)       // a recorded flag turned off
        XCTAssertEqual(values["strategy"], "'mix'", printed.stdout)     // the run over the default
        XCTAssertEqual(values["beta"], "0.2", printed.stdout)
        XCTAssertEqual(values["lora-rank"], "2", printed.stdout)
        XCTAssertEqual(values["preset"], "'tiny'", printed.stdout)
        XCTAssertEqual(values["run-dir"], "null", printed.stdout)       // never carried
        XCTAssertNil(values["like"], printed.stdout)
        XCTAssertTrue(printed.stdout.contains("--like run's recorded options"), printed.stdout)

        // --model replaces the run's --preset instead of clashing with it.
        let model = try XRightProcess.run(["train", "--like", first.path, "--model", "some/dir", "--print-config"],
                                          in: dir, timeout: 30)
        XCTAssertEqual(model.status, 0, model.transcript)
        XCTAssertEqual(settings(model.stdout)["preset"], "null", model.stdout)
        XCTAssertEqual(settings(model.stdout)["model"], "'some/dir'", model.stdout)
    }

    func test_aConfigFileSitsBetweenTheRunAndTheCommandLine() throws {
        let dir = try scratchDirectory()
        let first = try startedRun(in: dir)
        let file = dir.appendingPathComponent("over.yaml")
        try "lambda: 0.4\nbeta: 0.3\n".write(to: file, atomically: true, encoding: .utf8)
        let printed = try XRightProcess.run(["train", "--like", first.path, "--config", file.path, "--beta", "0.5",
                                             "--print-config"], in: dir, timeout: 30)
        XCTAssertEqual(printed.status, 0, printed.transcript)
        XCTAssertEqual(settings(printed.stdout)["lambda"], "0.4", printed.stdout)
        XCTAssertEqual(settings(printed.stdout)["beta"], "0.5", printed.stdout)
        XCTAssertEqual(settings(printed.stdout)["lr"], "0.002", printed.stdout)
    }

    func test_notARunDirectory_isAClearError() throws {
        let dir = try scratchDirectory()
        let missing = try XRightProcess.run(["train", "--like", "nowhere", "--print-config"], in: dir, timeout: 30)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("--like nowhere: not a directory"), missing.transcript)

        try FileManager.default.createDirectory(at: dir.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let empty = try XRightProcess.run(["train", "--like", "empty"], in: dir, timeout: 30)
        XCTAssertNotEqual(empty.status, 0)
        XCTAssertTrue(empty.stderr.contains("not a run directory (no run.jsonl in it)"), empty.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").path), "a run was started")
    }

    func test_anUnreadableHeader_namesTheFileAndLine() throws {
        let dir = try scratchDirectory()
        let run = dir.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try "this is not json\n".write(to: run.appendingPathComponent("run.jsonl"), atomically: true, encoding: .utf8)
        let result = try XRightProcess.run(["train", "--like", run.path], in: dir, timeout: 30)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("bad/run.jsonl line 1"), result.transcript)

        // A header whose recorded options do not decode (a run of another program, or edited by hand).
        let first = try startedRun(in: dir)
        let log = first.appendingPathComponent("run.jsonl")
        var lines = try String(contentsOf: log, encoding: .utf8).components(separatedBy: "\n")
        lines[0] = lines[0].replacingOccurrences(of: #""batchSize":4"#, with: #""batchSize":"four""#)
        try lines.joined(separator: "\n").write(to: log, atomically: true, encoding: .utf8)
        let edited = try XRightProcess.run(["train", "--like", first.path], in: dir, timeout: 30)
        XCTAssertNotEqual(edited.status, 0)
        XCTAssertTrue(edited.stderr.contains("a/run.jsonl line 1"), edited.transcript)
        XCTAssertTrue(edited.stderr.contains("batchSize"), edited.transcript)
    }

    func test_likeAndResume_areRefusedTogether() throws {
        let dir = try scratchDirectory()
        let first = try startedRun(in: dir)
        let result = try XRightProcess.run(["train", "--like", first.path, "--resume", first.path], in: dir, timeout: 30)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--like starts a new run"), result.transcript)
    }
}
