import Foundation
import XCTest

/// A run killed with SIGKILL and resumed from its last checkpoint takes the same steps, bit for bit, as a run that
/// was never interrupted: the per-step numbers in run.jsonl are compared as written.
final class ResumeExactnessTests: XCTestCase {
    static let steps = 900

    func arguments(_ runDir: URL, strategy: String) -> [String] {
        ["train", "--headless", "--strategy", strategy, "--lambda", "0.5", "--seed", "7", "--max-steps", String(Self.steps),
         "--epochs", "100", "--checkpoint-every", "150", "--eval-every", "0", "--batch-size", "8", "--run-dir", runDir.path]
            + ["--preset", "tiny", "--demo-examples", "200", "--threads", "1"]
    }

    func test_resumeAfterSIGKILL_reproducesUninterruptedStepsBitForBit_alright() throws {
        try checkResume(strategy: "alright")
    }

    func test_resumeAfterSIGKILL_reproducesUninterruptedStepsBitForBit_maxright() throws {
        try checkResume(strategy: "maxright")
    }

    private func checkResume(strategy: String) throws {
        let dir = try scratchDirectory()
        let reference = dir.appendingPathComponent("uninterrupted"), killed = dir.appendingPathComponent("killed")
        let whole = try XRightProcess.run(arguments(reference, strategy: strategy), in: dir)
        XCTAssertEqual(whole.status, 0, whole.transcript)

        let (process, _, _) = try XRightProcess.start(arguments(killed, strategy: strategy), in: dir)
        let log = killed.appendingPathComponent("run.jsonl")
        let deadline = Date(timeIntervalSinceNow: 60)
        // Kill as soon as a complete checkpoint exists (a step-* directory appears by an atomic rename).
        let checkpoints = killed.appendingPathComponent("checkpoints")
        func complete() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path)) ?? []).filter { $0.hasPrefix("step-") }
        }
        while process.isRunning, Date() < deadline, complete().isEmpty { usleep(2_000) }
        XCTAssertTrue(process.isRunning, "the run ended before it could be killed; make it longer")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(countLines(log, containing: "\"type\":\"finished\""), 0, "killed before finishing")
        XCTAssertFalse(complete().contains("step-000900"), "killed before the last checkpoint")

        let resumed = try XRightProcess.run(["train", "--headless", "--resume", killed.path], in: dir)
        XCTAssertEqual(resumed.status, 0, resumed.transcript)

        // The resumed session's `started` event names the step it continues from; the killed run's lines after
        // that step (if its buffer reached the disk) are superseded by the re-run ones.
        let text = try String(contentsOf: log, encoding: .utf8)
        let started = try XCTUnwrap(text.split(separator: "\n").last { $0.contains("\"type\":\"started\"") && $0.contains("resumedFrom") })
        let from = try XCTUnwrap(Int(String(started).firstCapture(of: "\"step\":([0-9]+)") ?? ""), String(started))
        XCTAssertGreaterThan(from, 0)
        XCTAssertLessThan(from, Self.steps)
        let expected = stepNumbers(reference.appendingPathComponent("run.jsonl"))
        let actual = stepNumbers(log)
        XCTAssertEqual(expected.count, Self.steps)
        let firstDifference = (from + 1...Self.steps).first { actual[$0] != expected[$0] }
        XCTAssertNil(firstDifference, firstDifference.map { "step \($0) after resuming from step \(from): "
            + "\(actual[$0] ?? ["missing"]) vs uninterrupted \(expected[$0] ?? [])" } ?? "")
    }

    private func countLines(_ url: URL, containing fragment: String) -> Int {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { $0.contains(fragment) }.count
    }

    /// step → its losses, rewards, gaps, gradient norm and learning rate, as the JSON text wrote them (timings
    /// excluded). A step re-run after the resume replaces the killed run's line for it.
    private func stepNumbers(_ url: URL) -> [Int: [String]] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [:] }
        let number = "(-?[0-9][0-9.eE+-]*|\"NaN\"|\"-?Infinity\")"
        let keys = ["loss", "chosenReward", "rejectedReward", "margin", "rewardAccuracy", "gradientNorm", "learningRate",
                    "sft", "dpo", "tokens", "step", "epoch"]
        let patterns = keys.map { try! NSRegularExpression(pattern: "\"\($0)\":\(number)") }
        var out = [Int: [String]]()
        for line in text.split(separator: "\n") where line.contains("\"type\":\"step\"") {
            let s = String(line), range = NSRange(s.startIndex..., in: s)
            var values = [String]()
            for (key, pattern) in zip(keys, patterns) {
                for m in pattern.matches(in: s, range: range) {
                    values.append(key + "=" + (s as NSString).substring(with: m.range(at: 1)))
                }
            }
            guard let stepMatch = patterns[keys.firstIndex(of: "step")!].firstMatch(in: s, range: range),
                  let step = Int((s as NSString).substring(with: stepMatch.range(at: 1))) else { continue }
            out[step] = values
        }
        return out
    }
}

extension String {
    /// The first capture group of the first match of `pattern`.
    func firstCapture(of pattern: String) -> String? {
        let regex = try! NSRegularExpression(pattern: pattern)
        guard let m = regex.firstMatch(in: self, range: NSRange(startIndex..., in: self)), m.numberOfRanges > 1 else { return nil }
        return (self as NSString).substring(with: m.range(at: 1))
    }
}
