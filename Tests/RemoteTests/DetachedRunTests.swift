import Foundation
import Remote
import TestSupport
import Training
import XCTest

/// The issue's "must show" list, on the real binary with the tiny preset.
final class DetachedRunTests: XCTestCase {
    func test_detachedRun_twoViewersSeeCtlLambdaChange_statusJSON_stopEndsWithFinalCheckpoint() throws {
        let root = try TestPaths.temporaryDirectory("xright-runs")
        let run = try Binary.startDetached(root.appendingPathComponent("detached"))
        defer { Binary.stopQuietly(run) }

        let viewers = try (0..<2).map { _ in try Binary.Running(["attach", run.url.path]) }
        defer { viewers.forEach { $0.stop() } }
        try Fixtures.eventually("both viewers live") { viewers.allSatisfy { $0.stdout.text.contains("── live") } }

        let lambda = try Binary.run(["ctl", run.url.path, "lambda", "0.3"])
        XCTAssertEqual(lambda.status, 0, lambda.stderr)
        XCTAssertTrue(lambda.stdout.hasPrefix("set-lambda 0.3: applied after step "), lambda.stdout)
        try Fixtures.eventually("both viewers show the λ change") {
            viewers.allSatisfy { $0.stdout.text.contains("λ 0.50 → 0.30 at step") }
        }

        let status = try Binary.status(run)
        XCTAssertEqual(status.state, .running)
        XCTAssertEqual(status.lambda, 0.3)
        XCTAssertGreaterThan(status.step, 0)
        XCTAssertNotNil(status.losses.sft)
        XCTAssertNotNil(status.losses.dpo)
        XCTAssertEqual(status.viewers, 2)
        let json = try Binary.run(["ctl", run.url.path, "status", "--json"]).stdout
        for key in ["\"step\":", "\"lambda\":0.3", "\"state\":\"running\"", "\"losses\":{\"dpo\":"] {
            XCTAssertTrue(json.contains(key), "status --json lacks \(key): \(json)")
        }

        let pid = try XCTUnwrap(RunProbe.livePid(run))
        let stop = try Binary.run(["ctl", run.url.path, "stop"], timeout: 120)
        XCTAssertEqual(stop.status, 0, stop.stderr)
        let stopLine = try XCTUnwrap(stop.stdout.split(separator: "\n").last.map(String.init))
        XCTAssertTrue(stopLine.hasPrefix("stopped at step ") && stopLine.contains("final checkpoint: "), stop.stdout)
        try Fixtures.eventually("the run process exits", within: 60) { kill(pid, 0) != 0 }

        let log = try RunLogReader.read(run.log)
        guard case .finished(let finished)? = log.records.last?.event else { return XCTFail("run.jsonl does not end with finished") }
        XCTAssertEqual(finished.reason, .stopped)
        let checkpoint = try XCTUnwrap(try CheckpointStore(directory: run.checkpoints).latest())
        XCTAssertEqual(checkpoint.step, finished.step, "the final checkpoint is at the step the run stopped")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.controlSocket.path), "the socket is removed on exit")
        try Fixtures.eventually("viewers see the end") { viewers.allSatisfy { $0.stdout.text.contains("no longer live") } }

        let listing = try Binary.run(["ls", "--runs-root", root.path])
        XCTAssertTrue(listing.stdout.contains("detached  finished  alright"), listing.stdout)
        let refused = try Binary.run(["ctl", run.url.path, "pause"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("the run is not live"), refused.stderr)
    }

    func test_foregroundRun_sentSIGHUP_keepsTrainingAndIsReachable() throws {
        let root = try TestPaths.temporaryDirectory("xright-runs")
        let runDir = root.appendingPathComponent("foreground")
        let run = RunDirectory(runDir)
        let trainer = try Binary.Running(Binary.endlessRun(runDir) + ["--headless"])
        defer { trainer.stop() }
        try Fixtures.eventually("the run serves its socket", within: 60) {
            RunProbe.probeSocket(run.controlSocket.path) == .live
        }
        kill(trainer.process.processIdentifier, SIGHUP)
        let before = try Binary.status(run).step
        try Fixtures.eventually("steps after the hangup") { try Binary.status(run).step > before + 20 }
        XCTAssertTrue(trainer.process.isRunning)
        let attach = try Binary.Running(["attach", run.url.path])
        defer { attach.stop() }
        try Fixtures.eventually("xright attach reaches the run") { attach.stdout.text.contains("── live") }
        XCTAssertEqual(try Binary.run(["ctl", run.url.path, "stop"], timeout: 120).status, 0)
        trainer.process.waitUntilExit()
        XCTAssertEqual(trainer.process.terminationStatus, 0)
        let output = try String(contentsOf: run.outputLog, encoding: .utf8)
        XCTAssertTrue(output.contains("terminal hung up (SIGHUP); training goes on"), output)
        XCTAssertTrue(output.contains("finished at step"), "later output went to output.log: \(output)")
    }

    func test_killedRun_isListedCrashed_andItsStaleSocketRemoved() throws {
        let root = try TestPaths.temporaryDirectory("xright-runs")
        let run = try Binary.startDetached(root.appendingPathComponent("killed"))
        try Fixtures.eventually("steps flushed to run.jsonl") {
            (try? RunLogReader.read(run.log))?.records.contains { if case .step = $0.event { return true }; return false } ?? false
        }
        let pid = try XCTUnwrap(RunProbe.livePid(run))
        kill(pid, SIGKILL)
        try Fixtures.eventually("the process is gone") { RunProbe.livePid(run) == nil }
        XCTAssertEqual(RunProbe.probeSocket(run.controlSocket.path), .stale)
        let listing = try Binary.run(["ls", "--runs-root", root.path])
        XCTAssertEqual(listing.status, 0, listing.stderr)
        XCTAssertTrue(listing.stdout.contains("killed  crashed  alright"), listing.stdout)
        XCTAssertEqual(RunProbe.probeSocket(run.controlSocket.path), .absent, "ls removed the stale socket")
        let status = try Binary.status(run)
        XCTAssertEqual(status.state, .crashed)
        XCTAssertGreaterThan(status.step, 0, "the step is read from run.jsonl")
    }

    /// SSH drop in tmux: the attached client's pane is killed; the run goes on; a new attach sees later steps.
    func test_tmux_killedAttachClient_runKeepsStepping_reattachSeesLaterSteps() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let root = try TestPaths.temporaryDirectory("xright-runs")
        let run = try Binary.startDetached(root.appendingPathComponent("tmux"))
        defer { Binary.stopQuietly(run) }
        let tmux = Tmux(name: "xright-test-\(getpid())")
        defer { tmux.killServer() }
        let binary = try Binary.path()

        // On a terminal, attach opens the dashboard; its control panel shows "step N/total".
        func dashboardStep(_ screen: String) -> Int? {
            guard let range = screen.range(of: #"step (\d+)/"#, options: .regularExpression) else { return nil }
            return Int(screen[range].dropFirst(5).prefix { $0.isNumber })
        }
        try tmux.run(["new-session", "-d", "-s", "first", "-x", "160", "-y", "40", "\(binary) attach \(run.url.path)"])
        try Fixtures.eventually("the first attach shows the dashboard with live steps") {
            let screen = tmux.capture("first")
            return screen.contains("Losses") && (dashboardStep(screen) ?? 0) > 0
        }
        try tmux.run(["kill-session", "-t", "first"])  // the client gets SIGHUP, as over a dropped SSH connection
        let atDrop = try Binary.status(run).step
        try Fixtures.eventually("the run keeps stepping") { try Binary.status(run).step > atDrop + 50 }

        try tmux.run(["new-session", "-d", "-s", "second", "-x", "160", "-y", "40", "\(binary) attach \(run.url.path)"])
        try Fixtures.eventually("the second attach shows steps after the drop") {
            (dashboardStep(tmux.capture("second")) ?? 0) > atDrop + 50
        }
    }
}

/// A private tmux server (its own socket name), so the test never touches a user's sessions. Spawned without
/// Foundation's Process, whose exit monitoring waits for every holder of an inherited descriptor, and the tmux
/// server it forks would hold one for ever.
struct Tmux {
    let name: String

    func run(_ arguments: [String]) throws {
        let status = try Self.spawnAndWait(["/usr/bin/tmux", "-L", name, "-f", "/dev/null"] + arguments, output: "/dev/null")
        guard status == 0 else {
            throw RemoteError.refused(socket: "tmux", reason: "tmux \(arguments.joined(separator: " ")) exited with status \(status)")
        }
    }

    func capture(_ session: String) -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-capture-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let arguments = ["/usr/bin/tmux", "-L", name, "capture-pane", "-p", "-J", "-S", "-200", "-t", session]
        guard (try? Self.spawnAndWait(arguments, output: file.path)) == 0 else { return "" }
        return (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }

    func killServer() { try? run(["kill-server"]) }

    static func spawnAndWait(_ argv: [String], output: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard result == 0 else { throw RemoteError.system(path: argv[0], operation: "spawn", code: result) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xFF
    }
}
