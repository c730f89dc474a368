import Foundation
import Remote
import TestSupport
import Training
import XCTest

/// Attached over the run's socket — the SSH case — the System panel describes the machine training runs on,
/// from the run's own `telemetry` events, not the viewer's process.
final class AttachTelemetryTests: XCTestCase {
    func test_attachedDashboard_systemPanelShowsTheTrainersProcess_notTheViewers() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux is not installed") }
        let root = try TestPaths.temporaryDirectory("xright-runs")
        let run = try Binary.startDetached(root.appendingPathComponent("telemetry"))
        defer { Binary.stopQuietly(run) }
        let trainer = try XCTUnwrap(RunProbe.livePid(run))
        let tmux = Tmux(name: "xright-telemetry-\(getpid())")
        defer { tmux.killServer() }
        try tmux.run(["new-session", "-d", "-s", "viewer", "-x", "120", "-y", "40", "\(try Binary.path()) attach \(run.url.path)"])
        var screen = ""
        try Fixtures.eventually("the attached System panel shows the trainer's pid with its CPU and RSS", within: 30) {
            screen = tmux.capture("viewer")
            return screen.contains("System · run pid \(trainer)") && screen.contains("CPU ") && screen.contains("RSS ")
        }
        XCTAssertFalse(screen.contains("this viewer"), screen)
        // The same figures are in the run log (flushed within a second): the panel drew the run's events.
        var logged: [Int] = []
        try Fixtures.eventually("run.jsonl holds the trainer's telemetry") {
            logged = try RunLogReader.read(run.log).records.compactMap { record -> Int? in
                if case .telemetry(let t) = record.event { return t.process?.pid } else { return nil }
            }
            return !logged.isEmpty
        }
        XCTAssertEqual(Set(logged), [Int(trainer)])
    }
}
