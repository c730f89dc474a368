#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport
import XCTest

/// `xright replay` as a user meets it: real runs trained by the binary, replayed in a tmux pane, keys sent,
/// the screen read back.
final class ReplayTmuxTests: XCTestCase {
    private let socket = "xright-replay-\(UUID().uuidString.prefix(8))"
    private var directory: URL!
    private var writer: Process?

    override func setUpWithError() throws {
        guard TmuxPane.run("/usr/bin/env", ["tmux", "-V"]).status == 0 else { throw XCTSkip("tmux is not installed") }
        guard FileManager.default.isExecutableFile(atPath: TmuxPane.binary.path) else {
            throw XCTSkip("\(TmuxPane.binary.path) is not built (swift build first)")
        }
        directory = try TestPaths.temporaryDirectory("replay-tmux")
    }

    override func tearDown() {
        if let writer, writer.isRunning { kill(writer.processIdentifier, SIGKILL); writer.waitUntilExit() }
        tmux(["kill-server"])
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    @discardableResult
    private func tmux(_ arguments: [String]) -> (status: Int32, output: String) {
        TmuxPane.run("/usr/bin/env", ["tmux", "-L", socket, "-f", "/dev/null"] + arguments)
    }

    private static let tiny = ["--headless", "--preset", "tiny", "--threads", "1", "--eval-every", "20"]

    /// Trains a short run to its end with the real binary.
    private func train(_ name: String, _ extra: [String] = []) throws -> URL {
        let run = directory.appendingPathComponent(name)
        let result = TmuxPane.run(TmuxPane.binary.path, ["train"] + Self.tiny + ["--max-steps", "40", "--run-dir", run.path] + extra)
        // The trainer failing is a failure of this product, never a reason to skip.
        guard result.status == 0 else { throw TrainingFailed(output: result.output) }
        return run
    }

    private func replay(_ arguments: [String], width: Int = 120, height: Int = 32) throws {
        let command = ([TmuxPane.binary.path, "replay"] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let result = tmux(["new-session", "-d", "-s", "replay", "-x", String(width), "-y", String(height), "sh", "-c",
                           "env TERM=tmux-256color \(command); echo EXITED:$?; exec sleep 600"])
        guard result.status == 0 else { throw XCTSkip("tmux could not start a session: \(result.output)") }
    }

    private func waitFor(_ timeout: TimeInterval = 15, _ predicate: (String) -> Bool) -> (Bool, String) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var screen = tmux(["capture-pane", "-p", "-t", "replay"]).output
        while !predicate(screen) {
            if Date() > deadline { return (false, screen) }
            usleep(100_000)
            screen = tmux(["capture-pane", "-p", "-t", "replay"]).output
        }
        return (true, screen)
    }

    private func lastEval(_ run: URL) throws -> (sft: String, dpo: String) {
        let log = try String(contentsOf: run.appendingPathComponent("run.jsonl"), encoding: .utf8)
        let line = log.split(separator: "\n").last { $0.contains(#""type":"eval""#) }!
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        let sft = (object["sft"] as! [String: Any])["loss"] as! Double, dpo = (object["dpo"] as! [String: Any])["loss"] as! Double
        return (String(format: "%.4g", sft), String(format: "%.4g", dpo))
    }

    func test_replayOfAFinishedRun_showsItsFinalStepAndLosses_andSeekingToStartShowsStepZero() throws {
        let run = try train("finished")
        let (sft, dpo) = try lastEval(run)
        try replay([run.path])
        let (ok, screen) = waitFor { $0.contains("FINISHED") && $0.contains("step 40") }
        XCTAssertTrue(ok, "the final step is not on screen:\n\(screen)")
        XCTAssertTrue(screen.contains("eval \(sft)") && screen.contains("eval \(dpo)"),
                      "the final eval losses \(sft), \(dpo) are not on screen:\n\(screen)")
        tmux(["send-keys", "-t", "replay", "0"])
        let (start, atStart) = waitFor { $0.contains("step 0/") && $0.contains("0:00/") }
        XCTAssertTrue(start, "seeking to the start did not show step 0:\n\(atStart)")
        tmux(["send-keys", "-t", "replay", "Right"])
        let (stepped, afterStep) = waitFor { $0.contains("step 1/") }
        XCTAssertTrue(stepped, "→ did not step forward:\n\(afterStep)")
        tmux(["send-keys", "-t", "replay", "q"])
        let (quit, after) = waitFor { $0.contains("EXITED:0") }
        XCTAssertTrue(quit, after)
    }

    func test_follow_advancesOnScreenWhileAnotherProcessWritesTheRun() throws {
        let run = directory.appendingPathComponent("live")
        let process = Process()
        process.executableURL = TmuxPane.binary
        process.arguments = ["train"] + Self.tiny + ["--max-steps", "6000", "--epochs", "100", "--run-dir", run.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        writer = process
        try replay(["--follow", run.path])
        let (live, screen) = waitFor(30) { $0.contains("LIVE") && (TmuxPane.step(in: $0) ?? 0) > 0 }
        XCTAssertTrue(live, "the followed run never showed a step:\n\(screen)")
        let first = TmuxPane.step(in: screen) ?? 0
        let (moved, later) = waitFor(20) { (TmuxPane.step(in: $0) ?? 0) > first + 20 }
        XCTAssertTrue(moved, "the step count did not advance past \(first):\n\(later)")
    }

    func test_twoRunsOverlaid_showBothLegends() throws {
        let a = try train("alright-run")
        let b = try train("maxright-run", ["--strategy", "maxright", "--lambda", "0.25"])
        try replay([a.path, b.path])
        let (ok, screen) = waitFor { $0.contains("A alright-run") && $0.contains("B maxright-run") }
        XCTAssertTrue(ok, "both legends should be on screen:\n\(screen)")
        XCTAssertTrue(screen.contains("Trade-off"), screen)
        XCTAssertTrue(screen.contains("maxright λ 0.25"), "the runs panel names each run's strategy and λ:\n\(screen)")
    }

    func test_unreadableLog_exitsWithAClearMessage() throws {
        let bad = directory.appendingPathComponent("bad.jsonl")
        try Data(#"{"prompt":"p","response":"r"}"#.utf8).write(to: bad)
        try replay([bad.path])
        let (ok, screen) = waitFor { $0.contains("EXITED:") }
        XCTAssertTrue(ok, screen)
        XCTAssertTrue(screen.contains("expected the run header"), screen)
        XCTAssertFalse(screen.contains("EXITED:0"), screen)
    }
}

private struct TrainingFailed: Error, CustomStringConvertible {
    var output: String
    var description: String { "training the run to replay failed: \(output)" }
}
