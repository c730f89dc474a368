import Dashboard
import Foundation
import Training
import XCTest

/// The `--eval-suite` figures where evaluations are shown: the Losses panel's header row (live, attached and
/// replayed alike), the event line, and each run's line of the overlay replay's Runs panel.
final class EvalSuiteDisplayTests: XCTestCase {
    private func evalWithSuite(step: Int, acc: Double, accNorm: Double, time: Double) -> RunRecord {
        Events.decode(["type": "eval", "time": time, "step": step, "seconds": 0.1,
                       "sft": ["loss": 2.0, "tokens": 1] as [String: Any], "dpo": ["loss": 0.5, "tokens": 1] as [String: Any],
                       "multipleChoice": ["questions": 7, "shots": 0, "acc": acc, "accStderr": 0.1, "accNorm": accNorm,
                                          "accNormStderr": 0.1, "answerLogLikelihood": -3.5] as [String: Any]])
    }

    private func records() -> [RunRecord] {
        var records = [Events.started()]
        for n in 1...60 {
            records.append(Events.step(n, sft: 2 + 1 / Double(n), dpo: 0.5 + 1 / Double(n)))
            if n == 20 { records.append(evalWithSuite(step: 20, acc: 3.0 / 7, accNorm: 2.0 / 7, time: 2.01)) }
            if n == 40 { records.append(evalWithSuite(step: 40, acc: 4.0 / 7, accNorm: 3.0 / 7, time: 4.01)) }
            if n == 50 { records.append(Events.eval(step: 50, sft: 1.9, dpo: 0.4, time: 5.01)) }  // the suite failed here
        }
        return records
    }

    func test_live_showsTheNewestSuiteFigures_onTheLossesHeader_at80x24And200x60() {
        let c = DashboardController(run: RecordingSink())
        c.apply(Events.header())
        records().forEach(c.apply)
        XCTAssertEqual(c.state.lastMultipleChoice?.step, 40, "an eval without the figures keeps the newest that had them")
        for (w, h) in [(80, 24), (200, 60)] {
            let surface = TextSurface(width: w, height: h)
            DashboardRenderer().draw(c, on: surface, glyphs: .unicode, colors: true)
            XCTAssertTrue(surface.text.contains("MC acc 57.1% norm 42.9% @40"), "\(w)x\(h):\n\(surface.text)")
            XCTAssertTrue(surface.text.contains("Losses"), surface.text)
        }
        XCTAssertTrue(c.state.messages.contains { $0.text == "eval at step 40: SFT 2.000, DPO 0.5000, MC acc 57.1% (norm 42.9%)" }
                      || c.state.messages.contains { $0.text.hasPrefix("eval at step 40:") && $0.text.hasSuffix("MC acc 57.1% (norm 42.9%)") },
                      c.state.messages.map(\.text).joined(separator: "\n"))
    }

    func test_aResumeBeforeTheNewestSuiteEvaluation_fallsBackToTheOneThatStands() {
        let c = DashboardController(run: RecordingSink())
        c.apply(Events.header())
        records().forEach(c.apply)
        c.apply(Events.started(step: 30))   // resumed from the step-30 checkpoint: step 40's evaluation is superseded
        XCTAssertEqual(c.state.lastMultipleChoice?.step, 20)
        XCTAssertEqual(c.state.lastMultipleChoice?.figures.acc ?? 0, 3.0 / 7, accuracy: 1e-12)
        let surface = TextSurface(width: 120, height: 40)
        DashboardRenderer().draw(c, on: surface, glyphs: .unicode, colors: true)
        XCTAssertTrue(surface.text.contains("MC acc 42.9% norm 28.6% @20"), surface.text)
    }

    func test_withoutASuite_nothingIsShown() {
        let c = DashboardController(run: RecordingSink())
        c.apply(Events.header())
        c.apply(Events.started())
        c.apply(Events.step(1, sft: 2))
        c.apply(Events.eval(step: 1, sft: 2, dpo: 0.5))
        let surface = TextSurface(width: 80, height: 24)
        DashboardRenderer().draw(c, on: surface, glyphs: .unicode, colors: true)
        XCTAssertFalse(surface.text.contains("MC acc"), surface.text)
        XCTAssertNil(c.state.lastMultipleChoice)
    }

    func test_replay_scrubbedToAStep_showsTheFiguresOfThatMoment_andTheOverlayListsThem() throws {
        var timeline = ReplayTimeline(name: "run")
        if case .header(let h) = Events.header().event { timeline.setHeader(h) }
        timeline.append(contentsOf: records())
        let player = ReplayPlayer(timelines: [timeline])
        player.seek(to: 3.05)   // step 30: only step 20's evaluation has happened
        XCTAssertEqual(player.controllers[0].state.lastMultipleChoice?.step, 20)
        let surface = TextSurface(width: 80, height: 24)
        ReplayRenderer().draw(player, on: surface, glyphs: .unicode, colors: true)
        XCTAssertTrue(surface.text.contains("MC acc 42.9% norm 28.6% @20"), surface.text)

        var other = ReplayTimeline(name: "other")
        if case .header(let h) = Events.header().event { other.setHeader(h) }
        other.append(contentsOf: records())
        let overlay = ReplayPlayer(timelines: [timeline, other])
        let wide = TextSurface(width: 160, height: 48)
        ReplayRenderer().draw(overlay, on: wide, glyphs: .unicode, colors: true)
        XCTAssertTrue(wide.text.contains("MC acc 57.1%"), "each run's line in the Runs panel:\n\(wide.text)")
    }
}
