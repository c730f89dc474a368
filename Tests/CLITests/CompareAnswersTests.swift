import Foundation
import TestSupport
import XCTest

/// `xright compare-answers`: two runs answer the same prompts; a reward model or a DPO model (implicit reward)
/// judges; the JSONL holds every pair with both scores; the summary's counts and interval follow from them.
final class CompareAnswersTests: XCTestCase {
    static let tokenizer = TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json")

    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    /// Two tiny runs that differ (seed, steps) and a prompts file.
    func setUpRuns(_ dir: URL) throws -> (a: URL, b: URL, prompts: URL) {
        var runs = [URL]()
        for (name, seed, steps) in [("a", "1", "3"), ("b", "2", "1")] {
            let run = dir.appendingPathComponent(name)
            let t = try XRightProcess.run(["train", "--headless", "--max-steps", steps, "--eval-every", "0", "--seed", seed,
                                           "--run-dir", run.path] + TinyRun.options, in: dir)
            XCTAssertEqual(t.status, 0, t.transcript)
            runs.append(run)
        }
        let prompts = dir.appendingPathComponent("prompts.txt")
        try Data("hi\nname a colour\n{\"prompt\": \"2+2?\"}\nbye\n".utf8).write(to: prompts)
        return (runs[0], runs[1], prompts)
    }

    /// A copy of the reward-model fixture with a tokenizer beside it.
    func rewardJudge(_ dir: URL, _ name: String = "neox") throws -> URL {
        let judge = dir.appendingPathComponent("judge-\(name)")
        try FileManager.default.copyItem(at: TestPaths.fixture("EngineTests", "reward").appendingPathComponent(name), to: judge)
        try FileManager.default.copyItem(at: Self.tokenizer, to: judge.appendingPathComponent("tokenizer.json"))
        return judge
    }

    func readPairs(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { try json(String($0)) }
    }

    func assertSummary(_ summary: [String: Any], agreesWith pairs: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) throws {
        var wins = 0, losses = 0, ties = 0
        for pair in pairs {
            let a = try XCTUnwrap(pair["score_a"] as? Double, file: file, line: line)
            let b = try XCTUnwrap(pair["score_b"] as? Double, file: file, line: line)
            let same = pair["answer_a"] as? String == pair["answer_b"] as? String
            let winner = same || a == b ? "tie" : (a > b ? "a" : "b")
            XCTAssertEqual(pair["winner"] as? String, winner, "\(pair)", file: file, line: line)
            switch winner { case "a": wins += 1; case "b": losses += 1; default: ties += 1 }
        }
        XCTAssertEqual(summary["wins_a"] as? Int, wins, file: file, line: line)
        XCTAssertEqual(summary["wins_b"] as? Int, losses, file: file, line: line)
        XCTAssertEqual(summary["ties"] as? Int, ties, file: file, line: line)
        XCTAssertEqual(summary["prompts"] as? Int, pairs.count, file: file, line: line)
        let rate = try XCTUnwrap(summary["win_rate_a"] as? Double, file: file, line: line)
        XCTAssertEqual(rate, (Double(wins) + 0.5 * Double(ties)) / Double(pairs.count), accuracy: 1e-12, file: file, line: line)
        let interval = try XCTUnwrap(summary["interval95"] as? [Double], file: file, line: line)
        XCTAssertEqual(interval.count, 2, file: file, line: line)
        XCTAssertTrue(interval[0] <= rate && rate <= interval[1] && interval[0] >= 0 && interval[1] <= 1, "\(interval)", file: file, line: line)
        XCTAssertEqual(summary["ties_counted"] as? String, "half", file: file, line: line)
    }

    func test_rewardModelJudge_writesEveryPairWithBothScores_andAConsistentSummary() throws {
        let dir = try scratchDirectory()
        let (a, b, prompts) = try setUpRuns(dir)
        let out = dir.appendingPathComponent("pairs.jsonl")
        let r = try XRightProcess.run(["compare-answers", a.path, b.path, "--prompts", prompts.path, "--judge", try rewardJudge(dir).path,
                                       "--out", out.path, "--max-new-tokens", "8", "--json", "--threads", "1"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let summary = try json(r.stdout)
        XCTAssertEqual(summary["judge_kind"] as? String, "reward_model")
        let pairs = try readPairs(out)
        XCTAssertEqual(pairs.map { $0["prompt"] as? String }, ["hi", "name a colour", "2+2?", "bye"])
        try assertSummary(summary, agreesWith: pairs)
        // The judge is not constant: the scores vary across answers.
        let scores: [Double] = pairs.flatMap { pair -> [Double] in [pair["score_a"] as? Double ?? 0, pair["score_b"] as? Double ?? 0] }
        XCTAssertGreaterThan(Set(scores).count, 1, "\(scores)")
        // The Llama reward model judges too.
        let llama = try XRightProcess.run(["compare-answers", a.path, b.path, "--prompts", prompts.path,
                                           "--judge", try rewardJudge(dir, "llama").path, "--max-new-tokens", "8", "--threads", "1"], in: dir)
        XCTAssertEqual(llama.status, 0, llama.transcript)
        XCTAssertTrue(llama.stdout.contains("win rate of A") && llama.stdout.contains("95% Wilson interval"), llama.transcript)
    }

    /// A DPO run judges by its implicit reward against its base model; a model judged against itself gives
    /// every answer the reward 0, so every prompt is a tie.
    func test_dpoJudge_implicitReward_againstItsRunsBase_andAgainstItself() throws {
        let dir = try scratchDirectory()
        let (a, b, prompts) = try setUpRuns(dir)
        let out = dir.appendingPathComponent("pairs.jsonl")
        let r = try XRightProcess.run(["compare-answers", a.path, b.path, "--prompts", prompts.path, "--judge", a.path,
                                       "--out", out.path, "--max-new-tokens", "6", "--json", "--threads", "1"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let summary = try json(r.stdout)
        XCTAssertEqual(summary["judge_kind"] as? String, "dpo_implicit_reward")
        try assertSummary(summary, agreesWith: try readPairs(out))
        let final = a.appendingPathComponent("final").path
        let selfJudged = try XRightProcess.run(["compare-answers", a.path, b.path, "--prompts", prompts.path, "--judge", final,
                                                "--judge-ref", final, "--out", out.path, "--max-new-tokens", "6", "--json",
                                                "--threads", "1"], in: dir)
        XCTAssertEqual(selfJudged.status, 0, selfJudged.transcript)
        let tied = try json(selfJudged.stdout)
        XCTAssertEqual(tied["ties"] as? Int, 4)
        XCTAssertEqual(tied["win_rate_a"] as? Double, 0.5)
        XCTAssertTrue(try readPairs(out).allSatisfy { $0["score_a"] as? Double == 0 && $0["score_b"] as? Double == 0 })
    }

    func test_withoutJudge_printsAnswersSideBySide() throws {
        let dir = try scratchDirectory()
        let (a, b, prompts) = try setUpRuns(dir)
        let r = try XRightProcess.run(["compare-answers", a.path, b.path, "--prompts", prompts.path, "--max-new-tokens", "6",
                                       "--threads", "1"], in: dir, environment: ["COLUMNS": "80"])
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stdout.contains("prompt 1: hi") && r.stdout.contains("prompt 4: bye"), r.stdout)
        XCTAssertTrue(r.stdout.contains("A: \(a.path)") && r.stdout.contains(" │ B: \(b.path)"), r.stdout)
        XCTAssertFalse(r.stdout.contains("win rate"), r.stdout)
    }

    // MARK: Refusals

    func test_judgeErrors_areNamed() throws {
        let dir = try scratchDirectory()
        let (a, b, prompts) = try setUpRuns(dir)
        let base = ["compare-answers", a.path, b.path, "--prompts", prompts.path, "--max-new-tokens", "4"]
        let reward = try rewardJudge(dir)
        assertRefused(try XRightProcess.run(base + ["--judge", reward.path, "--judge-ref", a.path], in: dir),
                      mentioning: ["--judge-ref", "reward model"])
        assertRefused(try XRightProcess.run(base + ["--judge", dir.appendingPathComponent("nope").path], in: dir),
                      mentioning: ["--judge", "nope", "no such file or directory"])
        // A plain language model needs a reference to give an implicit reward.
        let plain = dir.appendingPathComponent("plain")
        try FileManager.default.copyItem(at: TestPaths.fixture("CLITests", "eval").appendingPathComponent("neox"), to: plain)
        try FileManager.default.copyItem(at: Self.tokenizer, to: plain.appendingPathComponent("tokenizer.json"))
        assertRefused(try XRightProcess.run(base + ["--judge", plain.path], in: dir), mentioning: ["--judge-ref"])
        // Judge and reference must tokenize alike (tiny BPE vs the byte tokenizer of run a).
        assertRefused(try XRightProcess.run(base + ["--judge", plain.path, "--judge-ref", a.path], in: dir),
                      mentioning: ["different tokenizers", "--judge-ref"])
        assertRefused(try XRightProcess.run(base + ["--judge-ref", a.path], in: dir), mentioning: ["--judge-ref needs --judge"])
        assertRefused(try XRightProcess.run(base + ["--json"], in: dir), mentioning: ["--json", "--judge"])
    }

    func test_missingPromptsAndModels_areNamed() throws {
        let dir = try scratchDirectory()
        let (a, b, prompts) = try setUpRuns(dir)
        assertRefused(try XRightProcess.run(["compare-answers", a.path, b.path, "--prompts", dir.appendingPathComponent("none.txt").path], in: dir),
                      mentioning: ["--prompts", "none.txt"])
        assertRefused(try XRightProcess.run(["compare-answers", a.path, dir.appendingPathComponent("ghost").path, "--prompts", prompts.path], in: dir),
                      mentioning: ["model B", "ghost", "no such file or directory"])
        let empty = dir.appendingPathComponent("empty.txt")
        try Data("\n".utf8).write(to: empty)
        assertRefused(try XRightProcess.run(["compare-answers", a.path, b.path, "--prompts", empty.path], in: dir),
                      mentioning: ["empty.txt", "no prompts"])
    }
}
