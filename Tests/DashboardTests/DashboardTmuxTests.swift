import Foundation
import TestSupport
import XCTest

/// The dashboard as a user meets it: the real binary in a tmux pane, keys sent, the screen read back.
final class DashboardTmuxTests: XCTestCase {
    private var pane: TmuxPane?
    private var runDirectory: URL!

    override func setUpWithError() throws {
        try TmuxPane.requirements()
        runDirectory = try TestPaths.temporaryDirectory("dash-run").appendingPathComponent("run")
    }

    override func tearDown() {
        // A run ignores SIGHUP by design (it outlives its terminal), so closing the pane does not end it:
        // end it here through its pid file, or it would train on after the test.
        if let runDirectory,
           let text = try? String(contentsOf: runDirectory.appendingPathComponent("xright.pid"), encoding: .utf8),
           let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 {
            kill(pid, SIGKILL)
        }
        pane?.close()
        if let runDirectory { try? FileManager.default.removeItem(at: runDirectory.deletingLastPathComponent()) }
    }

    private func open(_ width: Int, _ height: Int, gpu: Bool = false, environment: [String: String] = [:]) throws -> TmuxPane {
        let p = try TmuxPane(width: width, height: height,
                             arguments: ["--run-dir", runDirectory.path] + (gpu ? [] : ["--no-gpu"]), environment: environment)
        pane = p
        return p
    }

    private func assertLive(_ p: TmuxPane, file: StaticString = #filePath, line: UInt = #line) {
        let (ok, screen) = p.waitFor { $0.contains("RUNNING") && (TmuxPane.step(in: $0) ?? 0) > 0 }
        XCTAssertTrue(ok, "dashboard never showed a running step:\n\(screen)", file: file, line: line)
        for title in ["Losses", "Objective choice", "Control", "Trade-off", "System"] {
            XCTAssertTrue(screen.contains(title), "\(title) missing:\n\(screen)", file: file, line: line)
        }
        let first = TmuxPane.step(in: screen) ?? 0
        let (moved, later) = p.waitFor(10) { (TmuxPane.step(in: $0) ?? 0) > first }
        XCTAssertTrue(moved, "the step count did not move:\n\(later)", file: file, line: line)
    }

    func test_panelsAppearWithLiveNumbers_at80x24() throws {
        assertLive(try open(80, 24))
    }

    func test_panelsAppearWithLiveNumbers_at200x60() throws {
        assertLive(try open(200, 60))
    }

    func test_samplesPanel_showsTheModelsReplies_at80x24_onA_andRegeneratesOnR() throws {
        let p = try open(80, 24)
        assertLive(p)
        p.send("a")
        // The demo samples its starting weights at step 0: a reply (with its token count) is there at once.
        let (shown, screen) = p.waitFor { $0.contains("Samples · step") && $0.contains(" tok · ") }
        XCTAssertTrue(shown, "no reply in the Samples panel:\n\(screen)")
        p.send("r")
        let (applied, later) = p.waitFor { $0.contains("applied: sample-now") }
        XCTAssertTrue(applied, "r was not applied:\n\(later)")
    }

    func test_samplesPanel_isOnScreenWithoutAKey_at200x60() throws {
        let p = try open(200, 60)
        assertLive(p)
        let (shown, screen) = p.waitFor { $0.contains("Samples · step") && $0.contains(" tok · ") && $0.contains("Losses") }
        XCTAssertTrue(shown, "no Samples panel beside the losses:\n\(screen)")
    }

    func test_plus_raisesLambdaOnScreenAndInTheRunLog() throws {
        let p = try open(80, 24)
        assertLive(p)
        p.send("+")
        let (ok, screen) = p.waitFor { $0.contains("0.50 → 0.55") && $0.contains(" 0.55") }
        XCTAssertTrue(ok, "λ change not acknowledged on screen:\n\(screen)")
        // The log is flushed at least once a second.
        let log = runDirectory.appendingPathComponent("run.jsonl")
        var logged = false
        let deadline = Date(timeIntervalSinceNow: 5)
        while !logged && Date() < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            logged = text.split(separator: "\n").contains { $0.contains("\"type\":\"lambda-changed\"") && $0.contains("\"to\":0.55") }
            if !logged { usleep(200_000) }
        }
        XCTAssertTrue(logged, "run.jsonl has no lambda-changed to 0.55")
    }

    func test_p_freezesTheStepCountAndResumesIt() throws {
        let p = try open(80, 24)
        assertLive(p)
        p.send("p")
        let (paused, screen) = p.waitFor { $0.contains("PAUSED") }
        XCTAssertTrue(paused, screen)
        let frozen = TmuxPane.step(in: screen)
        sleep(2)
        XCTAssertEqual(TmuxPane.step(in: p.capture()), frozen, "steps were taken while paused")
        p.send("p")
        let (resumed, after) = p.waitFor { $0.contains("RUNNING") && (TmuxPane.step(in: $0) ?? 0) > (frozen ?? 0) }
        XCTAssertTrue(resumed, after)
    }

    func test_q_asksThenExitsAndGivesTheTerminalBack() throws {
        let p = try open(80, 24)
        assertLive(p)
        p.send("q")
        let (asked, screen) = p.waitFor { $0.contains("Stop the run?") }
        XCTAssertTrue(asked, screen)
        p.send("y")
        // The pane prints EXITED, then `stty -a` ("speed … baud; …"): wait for both, or the check below races it.
        let (exited, final) = p.waitFor(20) { $0.contains("EXITED:") && $0.contains("baud") }
        XCTAssertTrue(exited, final)
        XCTAssertTrue(final.contains("EXITED:0"), final)
        // Echo and canonical input are back on (stty prints "-echo" / "-icanon" when they are off).
        XCTAssertTrue(final.contains(" echo ") || final.contains(" echo\n"), final)
        XCTAssertFalse(final.contains("-icanon"), final)
        XCTAssertFalse(final.contains("Losses"), "the dashboard is gone from the screen:\n\(final)")
        let log = try String(contentsOf: runDirectory.appendingPathComponent("run.jsonl"), encoding: .utf8)
        XCTAssertTrue(log.contains("\"type\":\"finished\""), "the run finished cleanly")
        XCTAssertTrue(log.contains("\"reason\":\"stopped\""))
    }

    func test_tinyPane_showsTheTooSmallMessage() throws {
        let p = try open(40, 12)
        let (ok, screen) = p.waitFor { $0.contains("too small") }
        XCTAssertTrue(ok, screen)
        XCTAssertTrue(screen.contains("80x24"), screen)
        p.tmux(["resize-window", "-t", p.session, "-x", "80", "-y", "24"])
        let (recovered, after) = p.waitFor { $0.contains("Losses") }
        XCTAssertTrue(recovered, "no recovery after growing:\n\(after)")
    }

    func test_NO_COLOR_drawsNoColourEscapes() throws {
        let p = try open(80, 24, environment: ["NO_COLOR": "1"])
        assertLive(p)
        let screen = p.capture(escapes: true)
        for sgr in Self.sgrSequences(screen) {
            for parameter in sgr.split(separator: ";").compactMap({ Int($0) }) {
                let colour = (30...38).contains(parameter) || (40...48).contains(parameter) || (90...107).contains(parameter)
                XCTAssertFalse(colour, "colour escape ESC[\(sgr)m under NO_COLOR")
            }
        }
    }

    /// The run samples its GPU itself (telemetry events); at 120×40 the System panel names the device above the
    /// curves.
    func test_fakeNvidiaSMIOnPath_showsItsGPU() throws {
        let bin = try fakeNvidiaSMI("echo '0, Fake Tensor GPU, 73, 2048, 16384, 61, 142.0'")
        let p = try open(120, 40, gpu: true, environment: ["PATH": bin.path + ":/usr/bin:/bin"])
        let (ok, screen) = p.waitFor { $0.contains("Fake Tensor GPU") }
        XCTAssertTrue(ok, screen)
        XCTAssertTrue(screen.contains("73% mem 2.0/16.0G"), screen)
        XCTAssertTrue(screen.contains("System · run pid "), screen)
    }

    func test_brokenNvidiaSMI_showsNoGPUAndAWarning() throws {
        let bin = try fakeNvidiaSMI("echo 'Failed to initialize NVML: Driver/library version mismatch' >&2; exit 18")
        let p = try open(100, 30, gpu: true, environment: ["PATH": bin.path + ":/usr/bin:/bin"])
        let (ok, screen) = p.waitFor { $0.contains("no GPU") && $0.contains("GPU readings off") }
        XCTAssertTrue(ok, screen)
        assertLive(p)
    }

    private func fakeNvidiaSMI(_ body: String) throws -> URL {
        let dir = runDirectory.deletingLastPathComponent().appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tool = dir.appendingPathComponent("nvidia-smi")
        try "#!/bin/sh\n\(body)\n".write(to: tool, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.path)
        return dir
    }

    /// The parameter strings of every SGR escape (ESC [ … m).
    static func sgrSequences(_ text: String) -> [String] {
        var result: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "\u{1B}[") {
            let after = rest[start.upperBound...]
            guard let end = after.firstIndex(where: { !($0.isNumber || $0 == ";") }) else { break }
            if after[end] == "m" { result.append(String(after[..<end])) }
            rest = after[end...]
        }
        return result
    }
}
