import Foundation
import TestSupport
import XCTest

/// `xright eval` end to end: multiple-choice log-likelihoods equal transformers' (GPT-NeoX and Llama, 0- and
/// 2-shot), a run's checkpoint evaluates to the figures the run logged at that step (full and LoRA), and every
/// bad input is refused with the file, line or flag named.
final class EvalCommandTests: XCTestCase {
    static let fixtures = TestPaths.fixture("CLITests", "eval")
    static let tokenizer = TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json").path

    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    // MARK: Multiple choice against transformers

    func test_multipleChoice_matchesTransformers_neoxAndLlama_zeroAndTwoShot() throws {
        let dir = try scratchDirectory()
        let expected = try json(String(contentsOf: Self.fixtures.appendingPathComponent("expected_mc.json"), encoding: .utf8))
        let mc = Self.fixtures.appendingPathComponent("mc.jsonl").path
        for model in ["neox", "llama"] {
            for shots in [0, 2] {
                let details = dir.appendingPathComponent("\(model)-\(shots).jsonl")
                let r = try XRightProcess.run(["eval", Self.fixtures.appendingPathComponent(model).path, "--tokenizer", Self.tokenizer,
                                               "--mc", mc, "--shots", "\(shots)", "--details", details.path, "--json",
                                               "--threads", "1"], in: dir)
                XCTAssertEqual(r.status, 0, r.transcript)
                let want = try XCTUnwrap((expected[model] as? [String: Any])?["\(shots)"] as? [String: Any])
                let got = try XCTUnwrap(try json(r.stdout)["mc"] as? [String: Any], r.stdout)
                XCTAssertEqual(got["acc"] as? Double, want["acc"] as? Double, "\(model) \(shots)-shot acc")
                XCTAssertEqual(got["acc_norm"] as? Double, want["acc_norm"] as? Double, "\(model) \(shots)-shot acc_norm")
                XCTAssertEqual(got["shots"] as? Int, shots)
                let lines = try String(contentsOf: details, encoding: .utf8).split(separator: "\n").map { try json(String($0)) }
                let lls = try XCTUnwrap(want["loglikelihoods"] as? [[Double]])
                XCTAssertEqual(lines.count, lls.count, "one detail line per scored question (the shots are not scored)")
                XCTAssertEqual(got["questions"] as? Int, lls.count)
                for (i, line) in lines.enumerated() {
                    let mine = try XCTUnwrap(line["loglikelihoods"] as? [Double])
                    XCTAssertEqual(mine.count, lls[i].count)
                    for (a, b) in zip(mine, lls[i]) {
                        XCTAssertEqual(a, b, accuracy: 1e-4 * abs(b), "\(model) \(shots)-shot question \(i): xright \(a), transformers \(b)")
                    }
                    XCTAssertEqual(line["prediction"] as? Int, (want["prediction"] as? [Int])?[i], "\(model) \(shots)-shot q\(i)")
                    XCTAssertEqual(line["prediction_norm"] as? Int, (want["prediction_norm"] as? [Int])?[i], "\(model) \(shots)-shot q\(i)")
                    XCTAssertEqual(line["line"] as? Int, i + 1 + shots)
                }
            }
        }
    }

    // MARK: Runs and checkpoints

    /// Trains a tiny run that evaluates and checkpoints at step 2 and finishes (and checkpoints) at step 4.
    func trainRun(_ dir: URL, _ extra: [String] = []) throws -> URL {
        let run = dir.appendingPathComponent("run")
        let t = try XRightProcess.run(["train", "--headless", "--max-steps", "4", "--eval-every", "2", "--checkpoint-every", "2",
                                       "--eval-fraction", "0.2", "--run-dir", run.path] + TinyRun.options + extra, in: dir)
        XCTAssertEqual(t.status, 0, t.transcript)
        return run
    }

    /// The run's own eval event at `step`.
    func loggedEval(_ run: URL, step: Int) throws -> [String: Any] {
        let log = try String(contentsOf: run.appendingPathComponent("run.jsonl"), encoding: .utf8)
        for line in log.split(separator: "\n") {
            let record = try json(String(line))
            if record["type"] as? String == "eval", record["step"] as? Int == step { return record }
        }
        XCTFail("no eval event at step \(step) in \(run.path)/run.jsonl")
        return [:]
    }

    func assertSameFigures(_ eval: [String: Any], _ logged: [String: Any], _ label: String,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        let sft = try XCTUnwrap(eval["sft"] as? [String: Any], label, file: file, line: line)
        let pref = try XCTUnwrap(eval["preference"] as? [String: Any], label, file: file, line: line)
        let loggedSFT = try XCTUnwrap(logged["sft"] as? [String: Any], file: file, line: line)
        let loggedDPO = try XCTUnwrap(logged["dpo"] as? [String: Any], file: file, line: line)
        let loggedPreference = try XCTUnwrap(loggedDPO["preference"] as? [String: Any], file: file, line: line)
        func close(_ a: Any?, _ b: Any?, _ what: String) {
            guard let a = a as? Double, let b = b as? Double else { return XCTFail("\(label) \(what): \(String(describing: a)) vs \(String(describing: b))", file: file, line: line) }
            XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "\(label) \(what)", file: file, line: line)
        }
        close(sft["loss"], loggedSFT["loss"], "sft loss")
        close(pref["loss"], loggedDPO["loss"], "dpo loss")
        close(pref["accuracy"], loggedPreference["rewardAccuracy"], "reward accuracy")
        close(pref["margin"], loggedPreference["margin"], "reward margin")
        close(pref["chosen_reward"], loggedPreference["chosenReward"], "chosen reward")
        close(sft["perplexity"], Foundation.exp(sft["loss"] as? Double ?? .nan), "perplexity")
    }

    /// The held-out split, template, reference and β of the run come along: evaluating a checkpoint gives the
    /// figures the run itself logged at that step; the run directory itself means its final/ model.
    func test_runCheckpointAndFinal_reproduceTheRunsOwnEvaluations() throws {
        let dir = try scratchDirectory()
        let run = try trainRun(dir)
        let atTwo = try XRightProcess.run(["eval", run.appendingPathComponent("checkpoints/step-000002").path, "--json",
                                           "--threads", "1"], in: dir)
        XCTAssertEqual(atTwo.status, 0, atTwo.transcript)
        let two = try json(atTwo.stdout)
        XCTAssertEqual((two["model"] as? [String: Any])?["kind"] as? String, "run checkpoint step-000002")
        try assertSameFigures(two, try loggedEval(run, step: 2), "checkpoint step 2")
        let final = try XRightProcess.run(["eval", run.path, "--json", "--threads", "1"], in: dir)
        XCTAssertEqual(final.status, 0, final.transcript)
        let four = try json(final.stdout)
        XCTAssertEqual((four["model"] as? [String: Any])?["kind"] as? String, "run final")
        try assertSameFigures(four, try loggedEval(run, step: 4), "final")
        XCTAssertNotEqual((two["sft"] as? [String: Any])?["loss"] as? Double, (four["sft"] as? [String: Any])?["loss"] as? Double,
                          "steps 2 and 4 differ: the checkpoint's own weights were read")
    }

    /// A LoRA run's checkpoint is the base model plus its saved adapters; its final/ has them merged. Both give
    /// the logged figures, and greedy generation from the last checkpoint equals generation from final/.
    func test_loraRun_checkpointIsBasePlusAdapters_sameAsMergedFinal() throws {
        let dir = try scratchDirectory()
        let run = try trainRun(dir, ["--lora-rank", "4", "--lr", "0.05"])
        let atTwo = try XRightProcess.run(["eval", run.appendingPathComponent("checkpoints/step-000002").path, "--json",
                                           "--threads", "1"], in: dir)
        XCTAssertEqual(atTwo.status, 0, atTwo.transcript)
        try assertSameFigures(try json(atTwo.stdout), try loggedEval(run, step: 2), "LoRA checkpoint step 2")
        // The adapters moved the figures by far more than the tolerance, so matching step 2 needs them applied.
        let first = try XCTUnwrap((try loggedEval(run, step: 1)["sft"] as? [String: Any])?["loss"] as? Double)
        let second = try XCTUnwrap((try loggedEval(run, step: 2)["sft"] as? [String: Any])?["loss"] as? Double)
        XCTAssertGreaterThan(abs(first - second), 1e-3)
        var replies = [String]()
        for model in [run.path, run.appendingPathComponent("checkpoints/step-000004").path] {
            let g = try XRightProcess.run(["generate", "--model", model, "--prompt", "hello", "--max-new-tokens", "6",
                                           "--json", "--threads", "1"], in: dir)
            XCTAssertEqual(g.status, 0, g.transcript)
            replies.append(String(describing: try json(g.stdout)["ids"] ?? "none"))
        }
        XCTAssertEqual(replies[0], replies[1], "final/ (merged) and step-000004 (base + adapters) answer alike")
    }

    func test_textOutput_namesEachFigure() throws {
        let dir = try scratchDirectory()
        let run = try trainRun(dir)
        let r = try XRightProcess.run(["eval", run.path, "--mc", Self.fixtures.appendingPathComponent("mc.jsonl").path,
                                       "--threads", "1"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        for fragment in ["sft ", "perplexity", "dpo ", "accuracy", "margin", "mc ", "acc_norm", "run final"] {
            XCTAssertTrue(r.stdout.contains(fragment), "stdout lacks \(fragment):\n\(r.transcript)")
        }
    }

    func test_configFile_holdsEvalOptions() throws {
        let dir = try scratchDirectory()
        let config = dir.appendingPathComponent("eval.yaml")
        try Data("mc: \(Self.fixtures.appendingPathComponent("mc.jsonl").path)\nshots: 2\ntokenizer: \(Self.tokenizer)\njson: true\n".utf8)
            .write(to: config)
        let r = try XRightProcess.run(["eval", Self.fixtures.appendingPathComponent("neox").path, "--config", config.path,
                                       "--threads", "1"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertEqual((try json(r.stdout)["mc"] as? [String: Any])?["shots"] as? Int, 2)
        let typo = dir.appendingPathComponent("typo.yaml")
        try Data("shot: 2\n".utf8).write(to: typo)
        assertRefused(try XRightProcess.run(["eval", Self.fixtures.appendingPathComponent("neox").path, "--config", typo.path], in: dir),
                      mentioning: ["typo.yaml", "shot"])
    }

    // MARK: Refusals

    func test_missingModel_missingMCFile_andBadMCLine_areNamed() throws {
        let dir = try scratchDirectory()
        let model = Self.fixtures.appendingPathComponent("neox").path
        assertRefused(try XRightProcess.run(["eval", dir.appendingPathComponent("nope").path, "--mc", "x"], in: dir),
                      mentioning: ["MODEL", "nope", "no such file or directory"])
        assertRefused(try XRightProcess.run(["eval", model, "--tokenizer", Self.tokenizer, "--mc", dir.appendingPathComponent("none.jsonl").path], in: dir),
                      mentioning: ["none.jsonl", "no such file"])
        let bad = dir.appendingPathComponent("bad.jsonl")
        try Data("{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"answer\": 0}\n{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"answer\": 7}\n".utf8).write(to: bad)
        assertRefused(try XRightProcess.run(["eval", model, "--tokenizer", Self.tokenizer, "--mc", bad.path], in: dir),
                      mentioning: ["\(bad.path):2", "\"answer\"", "out of range"])
    }

    func test_nothingToEvaluate_andOptionsThatNeedOthers_areRefused() throws {
        let dir = try scratchDirectory()
        let model = Self.fixtures.appendingPathComponent("neox").path
        assertRefused(try XRightProcess.run(["eval", model, "--tokenizer", Self.tokenizer], in: dir),
                      mentioning: ["nothing to evaluate", "--mc"])
        assertRefused(try XRightProcess.run(["eval", model, "--shots", "2"], in: dir), mentioning: ["--shots needs --mc"])
        assertRefused(try XRightProcess.run(["eval", model, "--details", "d.jsonl"], in: dir), mentioning: ["--details", "--mc"])
        assertRefused(try XRightProcess.run(["eval", model, "--mc", "x", "--shots", "-1"], in: dir), mentioning: ["--shots"])
        assertRefused(try XRightProcess.run(["eval", model, "--mc", "x", "--beta", "0"], in: dir), mentioning: ["--beta"])
    }

    func test_tooManyShots_isRefused() throws {
        let dir = try scratchDirectory()
        let mc = Self.fixtures.appendingPathComponent("mc.jsonl").path
        assertRefused(try XRightProcess.run(["eval", Self.fixtures.appendingPathComponent("neox").path, "--tokenizer", Self.tokenizer,
                                             "--mc", mc, "--shots", "7"], in: dir),
                      mentioning: ["7 questions", "--shots 7", "none to score"])
        assertRefused(try XRightProcess.run(["eval", Self.fixtures.appendingPathComponent("neox").path, "--tokenizer", Self.tokenizer,
                                             "--mc", mc, "--shots", "9", "--shots-from", mc], in: dir),
                      mentioning: ["--shots-from", "fewer than --shots 9"])
    }

    func test_preferenceOutsideARun_needsAReference() throws {
        let dir = try scratchDirectory()
        let pref = TestPaths.fixture("CLITests", "score").appendingPathComponent("pref.jsonl").path
        assertRefused(try XRightProcess.run(["eval", Self.fixtures.appendingPathComponent("neox").path, "--tokenizer", Self.tokenizer,
                                             "--pref", pref], in: dir),
                      mentioning: ["--ref-model"])
    }

    /// A reference that tokenizes differently cannot be compared token by token.
    func test_referenceWithAnotherTokenizer_isRefused() throws {
        let dir = try scratchDirectory()
        let policy = dir.appendingPathComponent("policy"), reference = dir.appendingPathComponent("reference")
        for (copy, tokenizer) in [(policy, Self.tokenizer), (reference, try byteTokenizerJSON(dir))] {
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("neox"), to: copy)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: tokenizer), to: copy.appendingPathComponent("tokenizer.json"))
        }
        let pref = TestPaths.fixture("CLITests", "score").appendingPathComponent("pref.jsonl").path
        let r = try XRightProcess.run(["eval", policy.path, "--pref", pref, "--ref-model", reference.path], in: dir)
        assertRefused(r, mentioning: ["different tokenizers", "--ref-model"])
        // The same tokenizer is accepted, and the pairs are scored.
        let ok = try XRightProcess.run(["eval", policy.path, "--pref", pref, "--ref-model", policy.path, "--json"], in: dir)
        XCTAssertEqual(ok.status, 0, ok.transcript)
        let figures = try XCTUnwrap(try json(ok.stdout)["preference"] as? [String: Any])
        XCTAssertEqual(figures["pairs"] as? Int, 3)
        XCTAssertEqual(figures["margin"] as? Double, 0, "the model against itself: every reward is 0")
        XCTAssertEqual(figures["loss"] as? Double ?? 0, Foundation.log(2.0), accuracy: 1e-9)
    }

    /// The tokenizer.json a byte-tokenizer run writes beside its final model.
    func byteTokenizerJSON(_ dir: URL) throws -> String {
        let run = dir.appendingPathComponent("byte-run")
        let t = try XRightProcess.run(["train", "--headless", "--max-steps", "1", "--eval-every", "0", "--run-dir", run.path]
                                      + TinyRun.options, in: dir)
        XCTAssertEqual(t.status, 0, t.transcript)
        return run.appendingPathComponent("final/tokenizer.json").path
    }

    func test_explicitDataWithNoHeldOutRecords_isRefused() throws {
        let dir = try scratchDirectory()
        let sft = TestPaths.fixture("CLITests", "score").appendingPathComponent("sft.jsonl").path
        let r = try XRightProcess.run(["eval", Self.fixtures.appendingPathComponent("neox").path, "--tokenizer", Self.tokenizer,
                                       "--sft", sft, "--split", "heldout", "--eval-fraction", "0.0001"], in: dir)
        assertRefused(r, mentioning: ["sft.jsonl", "no SFT records", "--split all"])
        let all = try XRightProcess.run(["eval", Self.fixtures.appendingPathComponent("neox").path, "--tokenizer", Self.tokenizer,
                                         "--sft", sft, "--json"], in: dir)
        XCTAssertEqual(all.status, 0, all.transcript)
        XCTAssertEqual((try json(all.stdout)["sft"] as? [String: Any])?["examples"] as? Int, 4)
    }

    /// Data files are read as train reads them: a bad record under --strict names file:line.
    func test_badDataRecordUnderStrict_isNamedByLine() throws {
        let dir = try scratchDirectory()
        let sft = dir.appendingPathComponent("sft.jsonl")
        try Data("{\"prompt\": \"a\", \"response\": \"b\"}\n{\"prompt\": \"a\"}\n".utf8).write(to: sft)
        let r = try XRightProcess.run(["eval", Self.fixtures.appendingPathComponent("neox").path, "--tokenizer", Self.tokenizer,
                                       "--sft", sft.path, "--strict"], in: dir)
        assertRefused(r, mentioning: ["sft.jsonl", ":2"])
    }

    func test_incompleteCheckpoint_andRunWithoutModel_areNamed() throws {
        let dir = try scratchDirectory()
        let run = dir.appendingPathComponent("run")
        let step = run.appendingPathComponent("checkpoints/step-000003")
        try FileManager.default.createDirectory(at: step, withIntermediateDirectories: true)
        try Data().write(to: run.appendingPathComponent("run.jsonl"))
        assertRefused(try XRightProcess.run(["eval", step.path, "--mc", "x"], in: dir),
                      mentioning: ["step-000003", "session.json"])
        assertRefused(try XRightProcess.run(["eval", run.path, "--mc", "x"], in: dir),
                      mentioning: ["no final/ model", "no complete checkpoint"])
    }
}
