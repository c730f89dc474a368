import Foundation
import TestSupport
import XCTest

/// `xright train --eval-suite FILE [--eval-shots K]`: multiple-choice accuracy at every held-out evaluation, the
/// same figures `xright eval --mc` gives on the checkpoint of that step; carried by --like, --print-config and
/// --resume; shown by `xright report`; a bad suite refused before any run directory exists.
final class EvalSuiteTrainTests: XCTestCase {
    static let suite = EvalCommandTests.fixtures.appendingPathComponent("mc.jsonl")

    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    /// A tiny run that evaluates (with the suite, 2-shot) and checkpoints at steps 2 and 4.
    func trainRun(_ dir: URL, name: String = "run", suite: URL = EvalSuiteTrainTests.suite, _ extra: [String] = []) throws -> URL {
        let run = dir.appendingPathComponent(name)
        let t = try XRightProcess.run(["train", "--headless", "--max-steps", "4", "--eval-every", "2", "--checkpoint-every", "2",
                                       "--eval-fraction", "0.2", "--lr", "0.01", "--eval-suite", suite.path, "--eval-shots", "2",
                                       "--run-dir", run.path] + TinyRun.options + extra, in: dir)
        XCTAssertEqual(t.status, 0, t.transcript)
        XCTAssertTrue(t.stderr.contains("eval suite: 5 questions, 2-shot"), t.transcript)
        XCTAssertTrue(t.stderr.contains("mc acc "), "the headless eval line shows the accuracy:\n\(t.transcript)")
        return run
    }

    func evalEvents(_ run: URL) throws -> [Int: [String: Any]] {
        var events = [Int: [String: Any]]()
        for line in try String(contentsOf: run.appendingPathComponent("run.jsonl"), encoding: .utf8).split(separator: "\n") {
            let record = try json(String(line))
            if record["type"] as? String == "eval", let step = record["step"] as? Int { events[step] = record }
        }
        return events
    }

    /// The strongest check: what the run recorded at step N is what `xright eval` measures on step N's checkpoint.
    func test_evalEventFigures_equalXrightEvalOnTheCheckpointOfThatStep() throws {
        let dir = try scratchDirectory()
        let run = try trainRun(dir)
        let events = try evalEvents(run)
        XCTAssertEqual(events.keys.sorted(), [1, 2, 4])
        XCTAssertTrue(try String(contentsOf: run.appendingPathComponent("run.jsonl"), encoding: .utf8).hasPrefix("{")
                      && events.values.allSatisfy { $0["multipleChoice"] != nil }, "every evaluation scored the suite")
        var answerLikelihoods = [Double]()
        for step in [2, 4] {
            let logged = try XCTUnwrap(events[step]?["multipleChoice"] as? [String: Any])
            let details = dir.appendingPathComponent("details-\(step).jsonl")
            let checkpoint = run.appendingPathComponent(String(format: "checkpoints/step-%06d", step)).path
            let e = try XRightProcess.run(["eval", checkpoint, "--mc", Self.suite.path, "--shots", "2", "--details", details.path,
                                           "--no-run-data", "--json", "--threads", "1"], in: dir)
            XCTAssertEqual(e.status, 0, e.transcript)
            let mc = try XCTUnwrap(try json(e.stdout)["mc"] as? [String: Any])
            XCTAssertEqual(logged["questions"] as? Int, mc["questions"] as? Int)
            XCTAssertEqual(logged["questions"] as? Int, 5)
            XCTAssertEqual(logged["shots"] as? Int, 2)
            XCTAssertEqual(logged["acc"] as? Double, mc["acc"] as? Double, "step \(step) acc")
            XCTAssertEqual(logged["accNorm"] as? Double, mc["acc_norm"] as? Double, "step \(step) acc_norm")
            XCTAssertEqual(logged["accStderr"] as? Double, mc["acc_stderr"] as? Double, "step \(step) acc stderr")
            // The smooth figure: the mean log-likelihood of the right answers, from eval's per-question lines.
            let lines = try String(contentsOf: details, encoding: .utf8).split(separator: "\n").map { try json(String($0)) }
            let answers = try lines.map { line -> Double in
                let lls = try XCTUnwrap(line["loglikelihoods"] as? [Double])
                return lls[try XCTUnwrap(line["answer"] as? Int)]
            }
            let mean = answers.reduce(0, +) / Double(answers.count)
            let recorded = try XCTUnwrap(logged["answerLogLikelihood"] as? Double)
            XCTAssertEqual(recorded, mean, accuracy: 1e-6 * max(1, abs(mean)), "step \(step) answer log-likelihood")
            answerLikelihoods.append(recorded)
        }
        XCTAssertGreaterThan(abs(answerLikelihoods[0] - answerLikelihoods[1]), 1e-4,
                             "the weights moved between steps 2 and 4, so each step's own checkpoint was matched")
    }

    func test_report_showsTheNewestAccuracies_inTheTableAndTheCSV() throws {
        let dir = try scratchDirectory()
        let run = try trainRun(dir)
        let noSuite = dir.appendingPathComponent("no-suite")
        let t = try XRightProcess.run(["train", "--headless", "--max-steps", "2", "--eval-every", "2", "--eval-fraction", "0.2",
                                       "--run-dir", noSuite.path] + TinyRun.options, in: dir)
        XCTAssertEqual(t.status, 0, t.transcript)
        let final = try XCTUnwrap(try evalEvents(run)[4]?["multipleChoice"] as? [String: Any])
        let r = try XRightProcess.run(["report", run.path, noSuite.path, "--csv", "-"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].contains("MC acc") && lines[0].contains("MC norm"), r.stdout)
        let percent = String(format: "%.1f%%", 100 * (final["acc"] as? Double ?? .nan))
        XCTAssertTrue(lines[1].hasPrefix("run ") && lines[1].contains(percent), "the table row shows \(percent):\n\(r.stdout)")
        let csv = lines.drop { !$0.hasPrefix("run,") }.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(csv.count, 3, r.stdout)
        let column = { (name: String) in csv[0].firstIndex(of: name)! }
        XCTAssertEqual(Double(csv[1][column("final_mc_acc")]), final["acc"] as? Double)
        XCTAssertEqual(Double(csv[1][column("final_mc_acc_norm")]), final["accNorm"] as? Double)
        XCTAssertEqual(csv[2][column("final_mc_acc")], "", "a run without a suite has no figure")
    }

    func test_like_printConfig_andResume_carryTheSuite_andAChangedSuiteIsRefused() throws {
        let dir = try scratchDirectory()
        let suite = dir.appendingPathComponent("suite.jsonl")
        try FileManager.default.copyItem(at: Self.suite, to: suite)
        let run = try trainRun(dir, suite: suite)

        let printed = try XRightProcess.run(["train", "--like", run.path, "--print-config"], in: dir, timeout: 30)
        XCTAssertEqual(printed.status, 0, printed.transcript)
        XCTAssertTrue(printed.stdout.contains("eval-suite: '\(suite.path)'"), printed.stdout)
        XCTAssertTrue(printed.stdout.contains("eval-shots: 2"), printed.stdout)

        // Another suite on resume is refused like any option that decides what the run measures.
        let other = try XRightProcess.run(["train", "--resume", run.path, "--eval-suite", Self.suite.path, "--max-steps", "6",
                                           "--headless"], in: dir)
        assertRefused(other, mentioning: ["these cannot change: --eval-suite"])

        // The same path with other content: the figures would not be comparable, so the resume is refused.
        let original = try Data(contentsOf: suite)
        try Data(original.dropLast(1) + Data(" \n".utf8)).write(to: suite)
        let changed = try XRightProcess.run(["train", "--resume", run.path, "--max-steps", "6", "--headless", "--threads", "1"], in: dir)
        assertRefused(changed, mentioning: ["\(suite.path): the eval suite changed since the run started", "xright train --like"])

        try original.write(to: suite)
        let resumed = try XRightProcess.run(["train", "--resume", run.path, "--max-steps", "6", "--headless", "--threads", "1"], in: dir)
        XCTAssertEqual(resumed.status, 0, resumed.transcript)
        let figures = try XCTUnwrap(try evalEvents(run)[6]?["multipleChoice"] as? [String: Any], "the resumed run scores the suite")
        XCTAssertEqual(figures["questions"] as? Int, 5)
    }

    /// `xright sweep` shares train's options: every run of the grid (and the optimum runs) scores the suite.
    func test_sweep_passesTheSuiteToEveryRun() throws {
        let dir = try scratchDirectory()
        let root = dir.appendingPathComponent("runs")
        let r = try XRightProcess.run(["sweep", "--strategies", "mix", "--lambdas", "0.5", "--runs-root", root.path,
                                       "--eval-suite", Self.suite.path] + SweepCommandTests.quick, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let runs = try FileManager.default.contentsOfDirectory(atPath: root.path)
            .filter { FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/run.jsonl").path) }
        XCTAssertEqual(runs.count, 3, "the two optimum runs and the one grid run: \(runs)")
        for run in runs {
            let events = try evalEvents(root.appendingPathComponent(run))
            XCTAssertFalse(events.isEmpty, run)
            XCTAssertTrue(events.values.allSatisfy { ($0["multipleChoice"] as? [String: Any])?["questions"] as? Int == 7 },
                          "\(run) scores all 7 questions (0-shot) at every evaluation")
        }
    }

    func test_badSuite_isRefusedWithFileAndLine_beforeAnyRunDirectoryExists() throws {
        let dir = try scratchDirectory()
        func refused(_ lines: String?, _ extra: [String] = [], mentioning fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
            let suite = dir.appendingPathComponent("suite-\(UUID().uuidString.prefix(6)).jsonl")
            if let lines { try Data(lines.utf8).write(to: suite) }
            let run = dir.appendingPathComponent("run-\(UUID().uuidString.prefix(6))")
            let r = try XRightProcess.run(["train", "--headless", "--max-steps", "2", "--eval-suite", suite.path, "--run-dir", run.path]
                                          + TinyRun.options + extra, in: dir)
            assertRefused(r, mentioning: fragments.map { $0.replacingOccurrences(of: "FILE", with: suite.path) }, file: file, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: run.path), "no run directory is left behind:\n\(r.transcript)",
                           file: file, line: line)
        }
        let good = #"{"question": "Which is red?", "choices": ["blood", "grass"], "answer": 0}"# + "\n"
        try refused(nil, mentioning: ["--eval-suite FILE: no such file"])
        try refused(good + #"{"question": "Which is green?", "choices": ["blood", "grass"], "answer": 2}"# + "\n",
                    mentioning: [#"FILE:2: field "answer": index 2 is out of range; expected 0…1"#])
        try refused(good + "{oops\n", mentioning: ["FILE:2: not valid JSON"])
        try refused("\n\n", mentioning: ["FILE: no questions"])
        try refused(good + good, ["--eval-shots", "2"], mentioning: ["FILE: 2 questions; --eval-shots 2 takes the first 2"])
        // Only the model can tell a choice is too long for it: refused after it is built, still before the run.
        let long = String(repeating: "very ", count: 60)
        try refused(good + #"{"question": "Say it.", "choices": ["no", "\#(long)"], "answer": 0}"# + "\n",
                    mentioning: [#"FILE:2: field "choices[1]": is 301 tokens; the model holds 256 positions"#])

        let shotsAlone = try XRightProcess.run(["train", "--headless", "--max-steps", "1", "--eval-shots", "1"] + TinyRun.options, in: dir)
        assertRefused(shotsAlone, mentioning: ["--eval-shots needs --eval-suite FILE"])
        try refused(good + good, ["--eval-shots", "-1"], mentioning: ["--eval-shots must be at least 0, got -1"])
    }
}
