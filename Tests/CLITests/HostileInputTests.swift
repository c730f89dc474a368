import Foundation
import XCTest

/// The findings of a hostile-user sweep (issue #18), each as the behaviour a user can rely on now: options
/// given with `--resume` are applied or refused, numbers are validated, signals are named, run directories are
/// bounded and never left empty, and a trained model directory is complete.
final class HostileInputTests: XCTestCase {
    private func train(_ extra: [String], runDir: URL, in dir: URL) throws -> XRightProcess.Result {
        try XRightProcess.run(["train", "--headless", "--run-dir", runDir.path, "--eval-every", "0"] + TinyRun.options + extra, in: dir)
    }

    private func stepCount(_ runDir: URL) throws -> Int {
        let text = try String(contentsOf: runDir.appendingPathComponent("run.jsonl"), encoding: .utf8)
        return Set(text.split(separator: "\n").filter { $0.contains("\"type\":\"step\"") }
            .compactMap { String($0).firstCapture(of: "\"step\":([0-9]+)").flatMap { Int($0) } }).count
    }

    // MARK: - Resume with other options (finding 4)

    func test_resume_refusesOptionsThatWouldChangeWhatTheStepsCompute() throws {
        let dir = try scratchDirectory(), run = dir.appendingPathComponent("r")
        XCTAssertEqual(try train(["--max-steps", "3"], runDir: run, in: dir).status, 0)
        let r = try XRightProcess.run(["train", "--headless", "--resume", run.path, "--lambda", "0.2", "--strategy", "mix"], in: dir)
        assertRefused(r, mentioning: ["cannot change: --lambda, --strategy", "--max-steps"])
        XCTAssertEqual(try stepCount(run), 3, "a refused resume takes no step")
    }

    func test_resume_takesMaxStepsAsANewBudget() throws {
        let dir = try scratchDirectory(), run = dir.appendingPathComponent("r")
        XCTAssertEqual(try train(["--max-steps", "3"], runDir: run, in: dir).status, 0)
        let r = try XRightProcess.run(["train", "--headless", "--resume", run.path, "--max-steps", "7"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stderr.contains("finished at step 7"), r.transcript)
        XCTAssertEqual(try stepCount(run), 7)
    }

    // MARK: - Numbers (findings 6, 7 and the batch size)

    func test_train_refusesNonFiniteMaxGradNorm() throws {
        let dir = try scratchDirectory()
        for value in ["nan", "inf", "-1"] {
            let r = try XRightProcess.run(["train", "--headless", "--max-grad-norm", value] + TinyRun.options, in: dir)
            assertRefused(r, mentioning: ["--max-grad-norm must be a finite number ≥ 0"])
        }
    }

    func test_train_takesNegativeNumbersWithoutEquals() throws {
        let dir = try scratchDirectory()
        let documented = try train(["--max-steps", "2", "--strategy", "maxright", "--max-eval-steps", "-1"],
                                   runDir: dir.appendingPathComponent("r"), in: dir)
        XCTAssertEqual(documented.status, 0, documented.transcript)
        // Out of range, yet read as a number: the refusal says what is wrong with it, not "Missing value".
        let negative = try XRightProcess.run(["train", "--headless", "--lambda", "-0.5"] + TinyRun.options, in: dir)
        assertRefused(negative, mentioning: ["--lambda must be a number in [0, 1]", "-0.5"])
        let epochs = try XRightProcess.run(["train", "--headless", "--epochs", "-3"] + TinyRun.options, in: dir)
        assertRefused(epochs, mentioning: ["--epochs must be at least 1, got -3"])
    }

    func test_train_refusesAnAbsurdBatchSizeByName() throws {
        let r = try XRightProcess.run(["train", "--headless", "--preset", "tiny", "--batch-size", "9223372036854775807"],
                                      in: scratchDirectory())
        assertRefused(r, mentioning: ["--batch-size must be between 2 and", "9223372036854775807"])
    }

    func test_train_capsThreadsAtTheCoreCountWithAWarning() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--headless", "--run-dir", dir.appendingPathComponent("r").path,
                                       "--max-steps", "1", "--preset", "tiny", "--demo-examples", "60", "--threads", "10000"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stderr.contains("--threads 10000 is more than the \(ProcessInfo.processInfo.activeProcessorCount) cores"), r.transcript)
    }

    // MARK: - Checkpoints and run directories (finding 9)

    func test_keepCheckpoints_keepsTheNewestAndResumeStillWorks() throws {
        let dir = try scratchDirectory(), run = dir.appendingPathComponent("r")
        let r = try train(["--max-steps", "12", "--checkpoint-every", "2", "--keep-checkpoints", "2"], runDir: run, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let names = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints").path).sorted()
        XCTAssertEqual(names, ["step-000010", "step-000012"])
        let resumed = try XRightProcess.run(["train", "--headless", "--resume", run.path, "--max-steps", "14"], in: dir)
        XCTAssertEqual(resumed.status, 0, resumed.transcript)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints").path).sorted(),
                       ["step-000012", "step-000014"], "the bound carries over to the resumed run")
    }

    func test_keepCheckpoints_defaultBoundsALongRun() throws {
        let dir = try scratchDirectory(), run = dir.appendingPathComponent("r")
        XCTAssertEqual(try train(["--max-steps", "16", "--checkpoint-every", "1"], runDir: run, in: dir).status, 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints").path)
        XCTAssertEqual(names.filter { $0.hasPrefix("step-") }.count, 5)
    }

    func test_failedStart_leavesNoEmptyRunDirectory() throws {
        let dir = try scratchDirectory(), run = dir.appendingPathComponent("r")
        let r = try train(["--sft", dir.appendingPathComponent("absent.jsonl").path], runDir: run, in: dir)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.path), "failed before training: no directory left\n\(r.transcript)")
    }

    func test_evalFractionZero_warnsThatEvaluationIsOff() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--headless", "--run-dir", dir.appendingPathComponent("r").path, "--max-steps", "1",
                                       "--eval-fraction", "0"] + TinyRun.options, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stderr.contains("no held-out SFT examples or DPO pairs"), r.transcript)
        XCTAssertTrue(r.stderr.contains("held-out evaluation is off"), r.transcript)
    }

    // MARK: - Signals (finding 9)

    func test_SIGTERM_stopsWithACheckpoint_namesTheSignal_andExits143() throws {
        try checkSignal(SIGTERM, name: "SIGTERM", status: 143)
    }

    func test_SIGINT_stopsWithACheckpoint_namesTheSignal_andExits130() throws {
        try checkSignal(SIGINT, name: "SIGINT", status: 130)
    }

    private func checkSignal(_ signal: Int32, name: String, status: Int32) throws {
        let dir = try scratchDirectory(), run = dir.appendingPathComponent("r")
        let (process, _, err) = try XRightProcess.start(["train", "--headless", "--run-dir", run.path, "--epochs", "1000",
                                                         "--eval-every", "0"] + TinyRun.options, in: dir)
        let deadline = Date(timeIntervalSinceNow: 60)
        while process.isRunning, Date() < deadline, ((try? stepCount(run)) ?? 0) < 2 { usleep(20_000) }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, status, stderr)
        let log = try String(contentsOf: run.appendingPathComponent("run.jsonl"), encoding: .utf8)
        let finished = try XCTUnwrap(log.split(separator: "\n").last { $0.contains("\"type\":\"finished\"") })
        XCTAssertTrue(finished.contains("stopped by \(name)"), String(finished))
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("final/model.safetensors").path))
    }

    // MARK: - Score (findings 5 and 9)

    func test_score_readsTheFinalModelOfAByteTokenizerRun() throws {
        let dir = try scratchDirectory(), run = dir.appendingPathComponent("r")
        XCTAssertEqual(try train(["--max-steps", "2"], runDir: run, in: dir).status, 0)
        let data = dir.appendingPathComponent("sft.jsonl")
        try #"{"prompt": "2+2=", "response": "4"}"#.write(to: data, atomically: true, encoding: .utf8)
        let r = try XRightProcess.run(["score", "--model", run.appendingPathComponent("final").path, "--sft", data.path], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stdout.contains("\"sft_loss\":["), r.transcript)
    }

    func test_score_writesNonFiniteValuesAsTheRunLogDoes_andNamesTheRecord() throws {
        let dir = try scratchDirectory(), run = dir.appendingPathComponent("r")
        XCTAssertEqual(try train(["--max-steps", "1"], runDir: run, in: dir).status, 0)
        let final = run.appendingPathComponent("final")
        try poisonWeights(final.appendingPathComponent("model.safetensors"))
        let data = dir.appendingPathComponent("sft.jsonl")
        try "{\"prompt\": \"a\", \"response\": \"b\"}\n{\"prompt\": \"c\", \"response\": \"d\"}\n"
            .write(to: data, atomically: true, encoding: .utf8)
        let r = try XRightProcess.run(["score", "--model", final.path, "--sft", data.path], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stdout.contains("\"sft_loss\":[\"NaN\",\"NaN\"]"), r.transcript)
        XCTAssertTrue(r.stderr.contains("sft_loss of record 1 is nan"), r.transcript)
    }

    /// Every F32 value of the file's first tensor becomes NaN (the header is left as it is).
    private func poisonWeights(_ file: URL) throws {
        var bytes = try Data(contentsOf: file)
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
        let tensor = try XCTUnwrap(header.first { $0.key == "gpt_neox.embed_in.weight" }?.value as? [String: Any])
        XCTAssertEqual(tensor["dtype"] as? String, "F32")
        let offsets = try XCTUnwrap(tensor["data_offsets"] as? [Int])
        let nan = withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Data($0) }
        for offset in stride(from: 8 + headerLength + offsets[0], to: 8 + headerLength + offsets[1], by: 4) {
            bytes.replaceSubrange(offset..<(offset + 4), with: nan)
        }
        try bytes.write(to: file)
    }
}

/// The shipped themes are in the binary: `--theme light` works from a directory with no themes/ folder, and an
/// unknown theme is refused before any run directory is made.
final class ThemeOptionTests: XCTestCase {
    func test_theme_light_isFoundOutsideTheRepository() throws {
        let dir = try scratchDirectory(), run = dir.appendingPathComponent("r")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("themes").path))
        let r = try XRightProcess.run(["train", "--headless", "--theme", "light", "--max-steps", "1", "--run-dir", run.path]
                                      + TinyRun.options, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
    }

    func test_unknownTheme_isRefusedBeforeTheRunStarts_listingTheThemes() throws {
        let dir = try scratchDirectory(), run = dir.appendingPathComponent("r")
        let r = try XRightProcess.run(["train", "--headless", "--theme", "solarized", "--run-dir", run.path] + TinyRun.options, in: dir)
        assertRefused(r, mentioning: ["no theme named 'solarized'", "default, high-contrast, light"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.path))
    }
}
