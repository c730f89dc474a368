import Dashboard
import Foundation
import Training
import XCTest

/// The replay player: the dashboard's state at any moment of a log, moved by keys and time.
final class ReplayPlayerTests: XCTestCase {
    private func timeline(_ lines: [String] = ReplayLogs.finishedRun(), name: String = "run") throws -> ReplayTimeline {
        let decoder = RunLogCoding.makeDecoder()
        var t = ReplayTimeline(name: name)
        for (i, line) in lines.enumerated() {
            let record = try decoder.decode(RunRecord.self, from: Data(line.utf8))
            if i == 0, case .header(let h) = record.event { t.setHeader(h) } else { t.append(record) }
        }
        return t
    }

    private func state(_ p: ReplayPlayer, _ i: Int = 0) -> DashboardState { p.controllers[i].state }

    func test_opensAtTheEnd_showingTheFinalStepAndLosses() throws {
        let p = ReplayPlayer(timelines: [try timeline()])
        XCTAssertEqual(state(p).step, 10)
        XCTAssertEqual(state(p).activity, .finished(RunFinished(step: 10, reason: .maxSteps, message: "done")))
        XCTAssertEqual(state(p).sft.last!, 4.1, accuracy: 1e-12)
        XCTAssertEqual(state(p).dpoEvals.last?.loss ?? 0, 0.7, accuracy: 1e-12)
        XCTAssertFalse(p.transport.playing)
    }

    func test_seekStart_showsStepZero_andSpacePlaysBackToTheEnd() throws {
        let p = ReplayPlayer(timelines: [try timeline()])
        p.handle(.char("0"))
        XCTAssertEqual(state(p).step, 0)
        XCTAssertEqual(state(p).sft.count, 0)
        XCTAssertEqual(state(p).activity, .waiting)
        p.handle(.char(" "))
        XCTAssertTrue(p.transport.playing)
        p.tick(seconds: 0.35)   // ×1: run seconds = wall seconds
        XCTAssertEqual(state(p).step, 3)
        p.tick(seconds: 10)
        XCTAssertEqual(state(p).step, 10)
        XCTAssertFalse(p.transport.playing, "playback stops at the end")
        XCTAssertTrue(p.atEnd)
    }

    func test_speed_multipliesPlayback_upToMax() throws {
        let p = ReplayPlayer(timelines: [try timeline()], startAtBeginning: true)
        XCTAssertEqual(p.transport.speedLabel, "×1")
        p.handle(.char(">")); p.handle(.char(">"))
        XCTAssertEqual(p.transport.speedLabel, "×4")
        p.tick(seconds: 0.11)   // 0.44 run seconds
        XCTAssertEqual(state(p).step, 4)
        for _ in 0..<10 { p.handle(.char(">")) }
        XCTAssertEqual(p.transport.speedLabel, "max")
        p.handle(.char("<"))
        XCTAssertEqual(p.transport.speedLabel, "×64")
    }

    func test_stepForwardAndBack_moveOneOptimizerStep() throws {
        let p = ReplayPlayer(timelines: [try timeline()])
        p.handle(.char("0"))
        p.handle(.right); p.handle(.right)
        XCTAssertEqual(state(p).step, 2)
        XCTAssertEqual(state(p).sft.count, 1)
        p.handle(.left)
        XCTAssertEqual(state(p).step, 1)
        p.handle(.left)
        XCTAssertEqual(state(p).step, 0, "back from the first step is the start")
        p.handle(.char("$"))
        p.handle(.left)
        XCTAssertEqual(state(p).step, 9)
        XCTAssertTrue(state(p).activity.isLive, "one step before the end the run was still going")
    }

    func test_jumps_findLambdaChangesPausesCheckpointsAndEvals() throws {
        let p = ReplayPlayer(timelines: [try timeline()])
        p.handle(.char("0"))
        p.handle(.char("l"))
        XCTAssertEqual(state(p).lambda, 0.7)
        XCTAssertEqual(state(p).step, 4, "the λ change shows where it happened")
        p.handle(.char("p"))
        XCTAssertEqual(state(p).activity, .paused)
        XCTAssertEqual(state(p).step, 6)
        p.handle(.char("c"))
        XCTAssertEqual(state(p).step, 8)
        XCTAssertTrue(state(p).latestMessage?.text.contains("checkpoint saved at step 8") ?? false)
        p.handle(.char("E"))
        XCTAssertEqual(state(p).sftEvals.count, 1)
        XCTAssertEqual(state(p).step, 5)
        p.handle(.char("e"))
        XCTAssertEqual(state(p).sftEvals.count, 2)
        p.handle(.char("l"))
        XCTAssertEqual(p.notice, "no later λ change")
        p.handle(.char("L"))
        XCTAssertEqual(state(p).step, 4)
        XCTAssertEqual(state(p).lambda, 0.7)
    }

    func test_viewKeysWork_butRunCommandsAreNeverSent() throws {
        let p = ReplayPlayer(timelines: [try timeline()])
        p.handle(.char("g"))
        XCTAssertTrue(p.view.logScale)
        let lambda = state(p).lambda
        p.handle(.char("+"))
        XCTAssertTrue(state(p).pendingCommands.isEmpty, "a replay has no run to command")
        XCTAssertEqual(state(p).lambda, lambda)
        p.handle(.char("q"))
        XCTAssertTrue(p.wantsExit)
    }

    func test_overlay_movesRunsOnOneClock() throws {
        let short = try timeline(ReplayLogs.finishedRun(steps: 4), name: "short")
        let long = try timeline(ReplayLogs.finishedRun(steps: 10), name: "long")
        let p = ReplayPlayer(timelines: [short, long])
        XCTAssertTrue(p.isOverlay)
        XCTAssertEqual([state(p, 0).step, state(p, 1).step], [4, 10])
        p.handle(.char("0"))
        p.handle(.right); p.handle(.right); p.handle(.right)
        XCTAssertEqual([state(p, 0).step, state(p, 1).step], [3, 3])
        XCTAssertEqual(p.duration, long.duration)
    }

    func test_follow_showsNewRecordsAtOnceWhileLive_andNotAfterSeekingBack() throws {
        var lines = ReplayLogs.finishedRun(steps: 10)
        lines.removeLast()
        let all = try timeline(lines)
        var records: [RunRecord] = []
        all.forEachRecord(in: 0..<all.count) { records.append($0) }
        var first = ReplayTimeline(name: "run", header: all.header)
        first.append(contentsOf: Array(records.prefix(5)))
        let p = ReplayPlayer(timelines: [first], following: true)
        XCTAssertTrue(p.transport.live)
        let before = state(p).step
        p.append(Array(records.dropFirst(5)), run: 0)
        XCTAssertGreaterThan(state(p).step, before)
        XCTAssertEqual(state(p).step, 10)
        p.handle(.char("0"))
        XCTAssertFalse(p.transport.live)
        p.append([Events.step(11, sft: 1)], run: 0)
        XCTAssertEqual(state(p).step, 0, "looking back, new records wait")
        p.handle(.char("$"))
        XCTAssertTrue(p.transport.live, "the end of a followed run is live again")
        XCTAssertEqual(state(p).step, 11)
    }

    func test_renderer_drawsTheTransportBarAndOverlayLegend() throws {
        let surface = TextSurface(width: 120, height: 32)
        let renderer = ReplayRenderer()
        let single = ReplayPlayer(timelines: [try timeline()])
        renderer.draw(single, on: surface, glyphs: .unicode, colors: true)
        XCTAssertTrue(surface.text.contains("❚❚ PAUSE ×1"), surface.text)
        XCTAssertTrue(surface.text.contains("step 10/10"), surface.text)
        XCTAssertTrue(surface.text.contains("not in the run log"), "no machine is sampled in a replay:\n\(surface.text)")
        XCTAssertFalse(surface.text.contains("sampling…"), surface.text)
        surface.clear()
        let overlay = ReplayPlayer(timelines: [try timeline(name: "alpha"), try timeline(ReplayLogs.finishedRun(steps: 6), name: "beta")])
        renderer.draw(overlay, on: surface, glyphs: .unicode, colors: true)
        XCTAssertTrue(surface.text.contains("▮A alpha"), surface.text)
        XCTAssertTrue(surface.text.contains("▮B beta"), surface.text)
        XCTAssertTrue(surface.text.contains("★"), "the ideal point is on the trade-off plane:\n\(surface.text)")
        XCTAssertTrue(surface.text.contains("step 10/6"), surface.text)
    }
}
