import Foundation
import XCTest

/// Fault injection on the run directory: `xright train` killed with SIGKILL at random moments, and at named points
/// inside checkpoint writing and log flushing (`XRIGHT_FAULT`, docs/RELIABILITY.md), then resumed until it finishes,
/// leaves the same run log — every step present, each with the numbers of an uninterrupted run — and the same
/// final weights, byte for byte.
///
/// The suite runs a short version. The long one (more seeds, more kills per seed) is
/// `XRIGHT_KILL_SEEDS=40 XRIGHT_KILLS_PER_SEED=6 swift test -c release --filter KillResumeTests`.
/// `LlamaKillResumeTests` runs the same harness on a Llama model.
class KillResumeTests: XCTestCase {
    class var steps: Int { 240 }

    /// Files besides final/model.safetensors that must be byte-identical to the uninterrupted run's.
    class var identicalFiles: [String] { [] }

    class func arguments(_ runDir: URL) -> [String] {
        ["train", "--headless", "--strategy", "alright", "--lambda", "0.5", "--seed", "11", "--max-steps", String(steps),
         "--epochs", "100", "--checkpoint-every", "20", "--eval-every", "25", "--batch-size", "8", "--run-dir", runDir.path,
         "--preset", "tiny", "--demo-examples", "200", "--threads", "1"]
    }

    static var seeds: [UInt64] {
        let count = ProcessInfo.processInfo.environment["XRIGHT_KILL_SEEDS"].flatMap { Int($0) } ?? 3
        return (1...max(1, count)).map(UInt64.init)
    }

    static var killsPerSeed: Int {
        ProcessInfo.processInfo.environment["XRIGHT_KILLS_PER_SEED"].flatMap { Int($0) } ?? 3
    }

    func test_killedAtRandomMoments_logAndFinalWeightsEqualAnUninterruptedRun() throws {
        let dir = try scratchDirectory()
        let reference = try referenceRun(in: dir)
        for seed in Self.seeds {
            var random = SplitMix(seed: seed)
            let runDir = dir.appendingPathComponent("killed-\(seed)")
            var kills: [String] = []
            var finishedOnItsOwn = false
            while kills.count < Self.killsPerSeed {
                let (process, _, _) = try XRightProcess.start(launchArguments(runDir), in: dir)
                let checkpointsBefore = completeCheckpoints(runDir)
                // Half of the kills land the moment a new checkpoint appears (the log's buffer is then the least
                // likely to have reached the disk), half after a random delay.
                let atCheckpoint = random.next() % 2 == 0
                let delay = Double(random.next() % 1500) / 1000
                let deadline = Date(timeIntervalSinceNow: 60)
                if atCheckpoint {
                    while process.isRunning, Date() < deadline, completeCheckpoints(runDir).count <= checkpointsBefore.count {
                        usleep(1_000)
                    }
                } else {
                    usleep(UInt32(delay * 1e6))
                }
                guard process.isRunning else {
                    process.waitUntilExit()
                    XCTAssertEqual(process.terminationStatus, 0, "seed \(seed): the run failed on its own")
                    finishedOnItsOwn = true
                    break
                }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                kills.append(atCheckpoint ? "at a new checkpoint" : String(format: "after %.3f s", delay))
            }
            if !finishedOnItsOwn { try finishRun(runDir, in: dir) }
            try assertSameRun(runDir, as: reference, context: "seed \(seed), kills: \(kills.joined(separator: ", "))")
        }
    }

    func test_killedInsideCheckpointWritingOrLogFlushing_resumesToTheSameRun() throws {
        let dir = try scratchDirectory()
        let reference = try referenceRun(in: dir)
        // The third time each point is reached: past the first checkpoint, before the end.
        for point in ["checkpoint-state-written", "checkpoint-before-rename", "checkpoint-renamed", "log-synced",
                      "log-mid-flush"] {
            let runDir = dir.appendingPathComponent("fault-\(point)")
            let (process, _, err) = try XRightProcess.start(Self.arguments(runDir), in: dir,
                                                           environment: ["XRIGHT_FAULT": "\(point)@3"])
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .uncaughtSignal,
                           "\(point): the run was expected to die at the fault point\n" + ((try? String(contentsOf: err, encoding: .utf8)) ?? ""))
            XCTAssertEqual(process.terminationStatus, SIGKILL, point)
            try finishRun(runDir, in: dir)
            try assertSameRun(runDir, as: reference, context: "killed at \(point)")
        }
    }

    // MARK: - Harness

    func referenceRun(in dir: URL) throws -> URL {
        let reference = dir.appendingPathComponent("uninterrupted")
        let whole = try XRightProcess.run(Self.arguments(reference), in: dir)
        XCTAssertEqual(whole.status, 0, whole.transcript)
        return reference
    }

    /// A fresh start, or `--resume` once a checkpoint exists. A run killed before its first checkpoint has
    /// nothing to resume from: it is started again, as a user would.
    private func launchArguments(_ runDir: URL) -> [String] {
        if !completeCheckpoints(runDir).isEmpty { return ["train", "--headless", "--resume", runDir.path] }
        try? FileManager.default.removeItem(at: runDir)
        return Self.arguments(runDir)
    }

    func finishRun(_ runDir: URL, in dir: URL) throws {
        let last = try XRightProcess.run(launchArguments(runDir), in: dir)
        XCTAssertEqual(last.status, 0, last.transcript)
    }

    private func completeCheckpoints(_ runDir: URL) -> [String] {
        let checkpoints = runDir.appendingPathComponent("checkpoints")
        return ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path)) ?? []).filter { $0.hasPrefix("step-") }
    }

    private func assertSameRun(_ runDir: URL, as reference: URL, context: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let log = try LogLines(runDir.appendingPathComponent("run.jsonl"))
        let expected = try LogLines(reference.appendingPathComponent("run.jsonl"))
        XCTAssertEqual(log.unparsable, [], "\(context): lines that are not JSON", file: file, line: line)
        // The property kill -9 used to break: when a resume starts from step S, steps 1...S are already logged.
        for (index, from) in log.resumes {
            let missing = (1...max(1, from)).filter { step in !log.stepsBefore(index).contains(step) }
            XCTAssertTrue(from == 0 || missing.isEmpty, "\(context): resumed from step \(from) but the log lacks steps "
                          + "\(missing.prefix(20)) (\(missing.count) in all)", file: file, line: line)
        }
        let actual = log.stepNumbers, wanted = expected.stepNumbers
        XCTAssertEqual(wanted.count, Self.steps, file: file, line: line)
        let firstDifference = (1...Self.steps).first { actual[$0] != wanted[$0] }
        XCTAssertNil(firstDifference, firstDifference.map { "\(context): step \($0): \(actual[$0] ?? ["missing"]) vs "
            + "uninterrupted \(wanted[$0] ?? [])" } ?? "", file: file, line: line)
        // A kill after `finished` is logged but before the process ends (while final/ is written) resumes from the
        // last checkpoint and finishes again: exactly one `finished` after the last start, none in a run never killed.
        let lastStart = log.lines.lastIndex { $0.contains("\"type\":\"started\"") } ?? 0
        XCTAssertEqual(log.lines[lastStart...].filter { $0.contains("\"type\":\"finished\"") }.count, 1, context,
                       file: file, line: line)
        for name in ["final/model.safetensors"] + Self.identicalFiles {
            let weights = try Data(contentsOf: runDir.appendingPathComponent(name))
            let wantedWeights = try Data(contentsOf: reference.appendingPathComponent(name))
            XCTAssertTrue(weights == wantedWeights, "\(context): \(name) differs from the uninterrupted run's",
                          file: file, line: line)
        }
    }
}

/// A run log's lines, read as text: which step lines it holds and where each resume starts.
private struct LogLines {
    let lines: [String]

    init(_ url: URL) throws {
        lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    var unparsable: [String] {
        lines.filter { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) == nil }
    }

    /// (line index, step) of every `started` event that resumed from a checkpoint.
    var resumes: [(Int, Int)] {
        lines.enumerated().compactMap { index, line in
            guard line.contains("\"type\":\"started\""), line.contains("resumedFrom"),
                  let step = line.firstCapture(of: "\"step\":([0-9]+)").flatMap({ Int($0) }) else { return nil }
            return (index, step)
        }
    }

    func stepsBefore(_ index: Int) -> Set<Int> {
        Set(lines[..<index].compactMap { line in
            line.contains("\"type\":\"step\"") ? line.firstCapture(of: "\"step\":([0-9]+)").flatMap { Int($0) } : nil
        })
    }

    /// step → its losses, rewards, gradient norm and learning rate as written (timings excluded). A step re-run
    /// after a resume replaces the killed run's line for it (docs/RUNLOG.md).
    var stepNumbers: [Int: [String]] {
        let number = "(-?[0-9][0-9.eE+-]*|\"NaN\"|\"-?Infinity\")"
        let keys = ["step", "epoch", "loss", "chosenReward", "rejectedReward", "margin", "rewardAccuracy", "gradientNorm",
                    "learningRate", "tokens"]
        let patterns = keys.map { try! NSRegularExpression(pattern: "\"\($0)\":\(number)") }
        var out = [Int: [String]]()
        for s in lines where s.contains("\"type\":\"step\"") {
            let range = NSRange(s.startIndex..., in: s)
            var values = [String]()
            for (key, pattern) in zip(keys, patterns) {
                for m in pattern.matches(in: s, range: range) {
                    values.append(key + "=" + (s as NSString).substring(with: m.range(at: 1)))
                }
            }
            guard let step = s.firstCapture(of: "\"step\":([0-9]+)").flatMap({ Int($0) }) else { continue }
            out[step] = values
        }
        return out
    }
}

/// A small seeded generator so each seed kills at the same moments in the same order.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
