import Foundation
import TestSupport
import Training
import XCTest

/// The official recipe's options on `xright train`: the reference stage (--sft-from-pref), a reference model,
/// separate batch sizes with gradient accumulation, sample caps and the reference front: recorded in the run
/// header, carried by --like and --print-config, refused on --resume, and refused with a clear message when wrong.
final class RecipeOptionTests: XCTestCase {
    private func header(_ run: URL) throws -> RunHeader { try RunLogReader.header(of: run.appendingPathComponent("run.jsonl")) }

    /// prompt/chosen/rejected JSONL: short arithmetic, so the byte tokenizer and the tiny preset fit it.
    private func preferenceFile(in dir: URL, count: Int = 80) throws -> URL {
        let lines = (0..<count).map { i in
            #"{"prompt": "\#(i % 9)+\#(i % 7)=", "chosen": "\#(i % 9 + i % 7)", "rejected": "\#(i % 9 + i % 7 + 1)"}"#
        }
        let file = dir.appendingPathComponent("pref.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    private func lastEval(_ run: URL) throws -> EvalEvent {
        let records = try RunLogReader.read(run.appendingPathComponent("run.jsonl")).records
        return try XCTUnwrap(records.compactMap { if case .eval(let e) = $0.event { return e } else { return nil } }.last)
    }

    func test_recipeOptions_areRecordedInTheHeader_andCapTheData() throws {
        let dir = try scratchDirectory()
        let result = try XRightProcess.run(["train", "--headless", "--run-dir", "a", "--max-steps", "2", "--strategy", "mix",
                                            "--sft-batch-size", "3", "--pref-batch-size", "2", "--grad-accum", "2",
                                            "--sft-max-samples", "40", "--pref-max-samples", "30", "--eval-fraction", "0.25"]
                                           + TinyRun.options, in: dir)
        XCTAssertEqual(result.status, 0, result.transcript)
        let options = try RunSetup.options(fromRun: RunDirectory(dir.appendingPathComponent("a")))
        XCTAssertEqual(options.sftBatchSize, 3)
        XCTAssertEqual(options.preferenceBatchSize, 2)
        XCTAssertEqual(options.gradientAccumulation, 2)
        XCTAssertEqual(options.sftMaxSamples, 40)
        XCTAssertEqual(options.preferenceMaxSamples, 30)
        // "sft: N training, M held-out": the first 40 records, split.
        func counts(_ prefix: String) throws -> Int {
            let line = try XCTUnwrap(result.stderr.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) },
                                     result.transcript)
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            return numbers[0] + numbers[1]
        }
        XCTAssertEqual(try counts("sft:"), 40)
        XCTAssertEqual(try counts("dpo:"), 30)
        // A mixed step holds 2 micro-batches of 3 SFT sequences and 2 of 2 pairs (4 sequences).
        let records = try RunLogReader.read(dir.appendingPathComponent("a/run.jsonl")).records
        let step = try XCTUnwrap(records.compactMap { if case .step(let s) = $0.event { return s } else { return nil } }.first)
        XCTAssertGreaterThan(step.sft?.tokens ?? 0, 0)
        XCTAssertGreaterThan(step.dpo?.tokens ?? 0, 0)

        let printed = try XRightProcess.run(["train", "--like", dir.appendingPathComponent("a").path, "--print-config"], in: dir, timeout: 30)
        XCTAssertEqual(printed.status, 0, printed.transcript)
        for line in ["sft-batch-size: 3", "pref-batch-size: 2", "grad-accum: 2", "sft-max-samples: 40", "pref-max-samples: 30"] {
            XCTAssertTrue(printed.stdout.contains(line + "\n"), "\(line) in\n\(printed.stdout)")
        }
    }

    /// --grad-accum 2 with micro-batches of 2 trains exactly what batches of 4 train (up to float rounding).
    func test_gradAccumTwoOfTwo_matchesBatchOfFour() throws {
        let dir = try scratchDirectory()
        let common = ["train", "--headless", "--max-steps", "6", "--eval-every", "6", "--strategy", "mix",
                      "--preset", "tiny", "--demo-examples", "200", "--threads", "1"]
        let whole = try XRightProcess.run(common + ["--run-dir", "whole", "--batch-size", "4"], in: dir)
        XCTAssertEqual(whole.status, 0, whole.transcript)
        let accumulated = try XRightProcess.run(common + ["--run-dir", "acc", "--batch-size", "2", "--sft-batch-size", "2",
                                                          "--pref-batch-size", "1", "--grad-accum", "2"], in: dir)
        XCTAssertEqual(accumulated.status, 0, accumulated.transcript)
        let a = try lastEval(dir.appendingPathComponent("whole")), b = try lastEval(dir.appendingPathComponent("acc"))
        XCTAssertEqual(a.step, 6)
        XCTAssertEqual(try XCTUnwrap(b.sft?.loss), try XCTUnwrap(a.sft?.loss), accuracy: 1e-4)
        XCTAssertEqual(try XCTUnwrap(b.dpo?.loss), try XCTUnwrap(a.dpo?.loss), accuracy: 1e-4)
    }

    func test_sftFromPref_trainsOnTheChosenResponses_holdingOutTheHeldOutPairs() throws {
        let dir = try scratchDirectory()
        let pref = try preferenceFile(in: dir)
        let result = try XRightProcess.run(["train", "--headless", "--run-dir", "ref", "--strategy", "sft-only", "--max-steps", "2",
                                            "--sft-from-pref", pref.path, "--pref", pref.path, "--eval-fraction", "0.2"]
                                           + TinyRun.options, in: dir)
        XCTAssertEqual(result.status, 0, result.transcript)
        XCTAssertTrue(result.stderr.contains("chosen responses of \(pref.path)"), result.transcript)
        let lines = result.stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let sft = try XCTUnwrap(lines.first { $0.hasPrefix("sft:") }).split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        let dpo = try XCTUnwrap(lines.first { $0.hasPrefix("dpo:") }).split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        XCTAssertEqual(Array(sft.prefix(2)), Array(dpo.prefix(2)), "the same records train and are held out:\n\(result.stderr)")
        XCTAssertGreaterThan(sft[1], 0)
        XCTAssertEqual(try RunSetup.options(fromRun: RunDirectory(dir.appendingPathComponent("ref"))).sftFromPreference, pref.path)

        // Without a held-out split, the SFT data is exactly an SFT file of the prompts and chosen responses.
        let sftFile = dir.appendingPathComponent("chosen.jsonl")
        let chosen = (0..<80).map { i in #"{"prompt": "\#(i % 9)+\#(i % 7)=", "response": "\#(i % 9 + i % 7)"}"# }
        try (chosen.joined(separator: "\n") + "\n").write(to: sftFile, atomically: true, encoding: .utf8)
        for (name, data) in [("p", ["--sft-from-pref", pref.path]), ("s", ["--sft", sftFile.path])] {
            let r = try XRightProcess.run(["train", "--headless", "--run-dir", name, "--strategy", "sft-only", "--max-steps", "1",
                                           "--pref", pref.path, "--eval-fraction", "0"] + data + TinyRun.options, in: dir)
            XCTAssertEqual(r.status, 0, r.transcript)
        }
        XCTAssertEqual(try header(dir.appendingPathComponent("p")).dataFingerprints["sft"],
                       try header(dir.appendingPathComponent("s")).dataFingerprints["sft"])
    }

    func test_refModel_isTheReferenceOfDPO_fromARunDirectory() throws {
        let dir = try scratchDirectory()
        let first = try XRightProcess.run(["train", "--headless", "--run-dir", "sft", "--strategy", "sft-only", "--max-steps", "5",
                                           "--lr", "0.01", "--eval-every", "0"] + TinyRun.options, in: dir)
        XCTAssertEqual(first.status, 0, first.transcript)
        func firstDPOLoss(_ run: String, _ extra: [String]) throws -> (Double, RunHeader) {
            let r = try XRightProcess.run(["train", "--headless", "--run-dir", run, "--strategy", "dpo-only", "--max-steps", "1",
                                           "--eval-every", "0"] + extra + TinyRun.options, in: dir)
            XCTAssertEqual(r.status, 0, r.transcript)
            let records = try RunLogReader.read(dir.appendingPathComponent(run + "/run.jsonl")).records
            let step = try XCTUnwrap(records.compactMap { if case .step(let s) = $0.event { return s } else { return nil } }.first)
            return (try XCTUnwrap(step.dpo?.loss), try header(dir.appendingPathComponent(run)))
        }
        let (own, ownHeader) = try firstDPOLoss("own", [])
        XCTAssertEqual(own, log(2), accuracy: 1e-5, "the policy's start is its own reference: z = 0")
        let (other, otherHeader) = try firstDPOLoss("other", ["--ref-model", dir.appendingPathComponent("sft").path])
        XCTAssertGreaterThan(abs(other - log(2)), 1e-3, "a trained reference moves the first loss off log 2")
        XCTAssertNotEqual(ownHeader.settings["reference_model"], otherHeader.settings["reference_model"])
        XCTAssertNotNil(otherHeader.settings["reference_model"])

        // Resume loads the same reference and continues; changing it on resume is refused.
        let resumed = try XRightProcess.run(["train", "--headless", "--resume", dir.appendingPathComponent("other").path,
                                             "--max-steps", "2"], in: dir)
        XCTAssertEqual(resumed.status, 0, resumed.transcript)
        let changed = try XRightProcess.run(["train", "--headless", "--resume", dir.appendingPathComponent("other").path,
                                             "--ref-model", dir.appendingPathComponent("own").path], in: dir)
        assertRefused(changed, mentioning: ["these cannot change: --ref-model"])
    }

    func test_refFront_stopsAtAFrontPoint() throws {
        let dir = try scratchDirectory()
        // A front point no loss can be above: the first evaluation is within ε of it on both losses.
        let front = dir.appendingPathComponent("front.csv")
        try "f_sft,f_dpo\n1000,1000\n".write(to: front, atomically: true, encoding: .utf8)
        let base = ["train", "--headless", "--max-steps", "4", "--eval-every", "1", "--stop-rule", "--sft-opt", "0",
                    "--dpo-opt", "0", "--preset", "tiny", "--demo-examples", "400", "--batch-size", "4", "--threads", "1"]
        let stopped = try XRightProcess.run(base + ["--run-dir", "front", "--ref-front", front.path], in: dir)
        XCTAssertEqual(stopped.status, 0, stopped.transcript)
        XCTAssertTrue(stopped.stderr.contains("finished at step 1"), stopped.transcript)
        XCTAssertEqual(try header(dir.appendingPathComponent("front")).config.stopRule?.referenceFront, [Optima(sft: 1000, dpo: 1000)])
        let free = try XRightProcess.run(base + ["--run-dir", "free"], in: dir)
        XCTAssertTrue(free.stderr.contains("finished at step 4"), free.transcript)
    }

    func test_badRecipeOptions_areRefusedClearly() throws {
        let dir = try scratchDirectory()
        let pref = try preferenceFile(in: dir)
        let cases: [([String], [String])] = [
            (["--grad-accum", "0"], ["--grad-accum must be at least 1, got 0"]),
            (["--sft-batch-size", "0"], ["--sft-batch-size must be at least 1, got 0"]),
            (["--pref-batch-size=-2"], ["--pref-batch-size must be at least 1, got -2"]),
            (["--sft-max-samples", "0"], ["--sft-max-samples must be at least 1, got 0"]),
            (["--pref-max-samples", "0"], ["--pref-max-samples must be at least 1, got 0"]),
            (["--grad-accum", "1048576"], ["--grad-accum 1048576: a SFT step would hold more than"]),
            (["--sft", pref.path, "--sft-from-pref", pref.path], ["give --sft or --sft-from-pref, not both"]),
            (["--ref-front", pref.path], ["--ref-front adds points to the stop rule's check: give --stop-rule"]),
            (["--stop-rule", "--sft-opt", "1", "--dpo-opt", "1", "--ref-front", "missing.csv"], ["missing.csv: cannot read the file"]),
            (["--stop-rule", "--sft-opt", "1", "--dpo-opt", "1", "--ref-front", pref.path], ["pref.jsonl:1: expected two numbers"]),
            (["--ref-model", "no-such-model"], ["--ref-model no-such-model: no such file or directory"]),
        ]
        for (options, fragments) in cases {
            let r = try XRightProcess.run(["train", "--headless", "--max-steps", "1"] + options + TinyRun.options, in: dir, timeout: 60)
            assertRefused(r, mentioning: fragments)
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)) ?? []
        XCTAssertEqual(left, [], "a refused run left a directory behind")
    }

    func test_recipeOptions_areRefusedOnResume() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--headless", "--run-dir", "a", "--max-steps", "1"] + TinyRun.options, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        for option in [["--grad-accum", "2"], ["--sft-batch-size", "2"], ["--pref-batch-size", "2"], ["--sft-max-samples", "5"],
                       ["--pref-max-samples", "5"], ["--sft-from-pref", "x.jsonl"], ["--ref-model", "elsewhere"],
                       ["--stop-rule", "--sft-opt", "1", "--dpo-opt", "1", "--ref-front", "f.csv"]] {
            let resumed = try XRightProcess.run(["train", "--headless", "--resume", dir.appendingPathComponent("a").path] + option,
                                                in: dir, timeout: 60)
            assertRefused(resumed, mentioning: ["these cannot change: \(option[0])", option.count > 2 ? "--ref-front" : option[0]])
        }
    }

    func test_configFiles_holdTheRecipeOptions() throws {
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("recipe.yaml")
        try "grad-accum: 4\nsft-batch-size: 8\npref-batch-size: 2\nref-model: some/model\nsft-max-samples: 100\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let printed = try XRightProcess.run(["train", "--config", file.path, "--print-config"], in: dir, timeout: 30)
        XCTAssertEqual(printed.status, 0, printed.transcript)
        for line in ["grad-accum: 4", "sft-batch-size: 8", "pref-batch-size: 2", "ref-model: 'some/model'", "sft-max-samples: 100",
                     "pref-max-samples: null", "sft-from-pref: null", "ref-front: null"] {
            XCTAssertTrue(printed.stdout.contains(line + "\n"), "\(line) in\n\(printed.stdout)")
        }
        try "grad-accum: two\n".write(to: file, atomically: true, encoding: .utf8)
        let bad = try XRightProcess.run(["train", "--config", file.path, "--print-config"], in: dir, timeout: 30)
        assertRefused(bad, mentioning: ["recipe.yaml:1", "grad-accum", "expected an integer"])
    }
}
