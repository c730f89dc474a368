import Dashboard
import Foundation
import Training
import XCTest

/// The Samples panel: what the model answers the probe prompts, live and in a replay, and in-step progress.
final class SamplesPanelTests: XCTestCase {
    private func sample(_ step: Int, probe: Int = 0, prompt: String = "Name a primary colour.", reply: String,
                        time: Double? = nil) -> RunRecord {
        RunRecord(time: time ?? Double(step) * 0.1, event: .sample(SampleEvent(
            step: step, probe: probe, prompt: prompt, reply: reply, tokens: 5, seconds: 0.25)))
    }

    private func progress(step: Int, phase: StepProgress.Phase, objective: Objective = .sft, seconds: Double = 1.5) -> RunRecord {
        RunRecord(time: 1, event: .progress(StepProgress(step: step, activity: .training, phase: phase,
                                                         objective: objective, seconds: seconds)))
    }

    /// A run at step 40 with two probes sampled at steps 0, 20 and 40.
    private func controller(run: RunEventSource? = RecordingSink()) -> DashboardController {
        let c = DashboardController(run: run)
        c.apply(Events.header(strategy: .alright, lambda: 0.5, planned: 100))
        c.apply(Events.started())
        for n in 0...40 {
            if n > 0 { c.apply(n % 2 == 0 ? Events.step(n, sft: 2 + 3 / Double(n)) : Events.step(n, dpo: 0.5 / Double(n))) }
            if n % 20 == 0 {
                c.apply(sample(n, probe: 0, reply: "reply at step \(n): blue"))
                c.apply(sample(n, probe: 1, prompt: "Say hello politely.", reply: "hello number \(n)"))
            }
        }
        return c
    }

    private func render(_ c: DashboardController, _ width: Int, _ height: Int) -> String {
        let surface = TextSurface(width: width, height: height)
        DashboardRenderer().draw(c, on: surface, glyphs: .unicode, colors: true)
        return surface.text
    }

    func test_state_keepsEachProbesFirstAndNewestSample() {
        let book = controller().state.samples
        XCTAssertEqual(book.probes.count, 2)
        XCTAssertEqual(book.probes[0]?.first.reply, "reply at step 0: blue")
        XCTAssertEqual(book.probes[0]?.latest.reply, "reply at step 40: blue")
        XCTAssertEqual(book.probes[1]?.latest.prompt, "Say hello politely.")
        XCTAssertEqual(book.probes[1]?.count, 3)
        XCTAssertEqual(book.latestStep, 40)
    }

    func test_state_aResumeFromAnEarlierStep_dropsTheSamplesAfterIt() {
        let c = controller()
        c.apply(Events.started(step: 30))
        XCTAssertEqual(c.state.samples.probes[0]?.latest.step, 0, "step 40's sample no longer stands; the first does")
        c.apply(sample(32, reply: "after the resume"))
        XCTAssertEqual(c.state.samples.probes[0]?.latest.reply, "after the resume")
        XCTAssertEqual(c.state.samples.probes[0]?.first.step, 0)
    }

    func test_80x24_aShowsTheSamplesInPlaceOfTheLossCharts() {
        let c = controller()
        XCTAssertFalse(render(c, 80, 24).contains("Samples"), "below 40 rows the samples wait for a")
        c.handle(.char("a"))
        let text = render(c, 80, 24)
        XCTAssertTrue(text.contains("Samples · step 40"), text)
        XCTAssertTrue(text.contains("reply at step 40: blue"), text)
        XCTAssertTrue(text.contains("hello number 40"), text)
        XCTAssertTrue(text.contains("Name a primary colour."), text)
        XCTAssertFalse(text.contains("Losses"), text)
        c.handle(.char("a"))
        XCTAssertTrue(render(c, 80, 24).contains("Losses"))
    }

    func test_200x60_showsTheSamplesPanelBelowTheLosses() {
        let text = render(controller(), 200, 60)
        XCTAssertTrue(text.contains("Losses"), text)
        XCTAssertTrue(text.contains("Samples · step 40 · r new"), text)
        XCTAssertTrue(text.contains("reply at step 40: blue"), text)
        XCTAssertTrue(text.contains("@40 · 5 tok · 0.2s") || text.contains("@40 · 5 tok · 0.3s"), text)
    }

    func test_b_putsTheFirstReplyBesideTheNewest() {
        let c = controller()
        c.handle(.char("b"))
        let text = render(c, 200, 60)
        let line = text.split(separator: "\n").first { $0.contains("reply at step 0: blue") }
        XCTAssertNotNil(line, text)
        XCTAssertTrue(line?.contains("reply at step 40: blue") ?? false, "first and newest side by side:\n\(text)")
        XCTAssertTrue(text.contains("step 0") && text.contains("step 40"), text)
    }

    func test_aReplysControlCharacters_neverReachTheTerminal() {
        let c = controller()
        c.apply(sample(41, reply: "bad\u{1B}[2Jbytes\u{07}"))
        c.handle(.char("a"))
        let text = render(c, 80, 24)
        XCTAssertTrue(text.contains("bad·[2Jbytes·"), text)
        XCTAssertFalse(text.contains("\u{1B}"))
    }

    func test_noSamplesYet_saysHowToGetThem() {
        let c = DashboardController(run: RecordingSink())
        c.apply(Events.header())
        c.apply(Events.started())
        XCTAssertTrue(render(c, 200, 60).contains("no samples yet: r generates them now"))
    }

    func test_r_asksTheRunForSamplesNow_butNotInAReplay() {
        let sink = RecordingSink()
        let c = controller(run: sink)
        XCTAssertTrue(c.handle(.char("r")))
        XCTAssertEqual(sink.sent, [.sampleNow])
        let replay = controller(run: nil)
        XCTAssertFalse(replay.handle(.char("r")))
    }

    func test_progressInsideAStep_isShownUntilTheStepArrives() {
        let c = controller()
        c.apply(progress(step: 40, phase: .backward, objective: .dpo))
        XCTAssertEqual(c.state.stepProgress?.progress.phase, .backward)
        XCTAssertGreaterThanOrEqual(c.state.progressSeconds() ?? 0, 1.5)
        XCTAssertTrue(render(c, 80, 24).contains("step 41: dpo backward (pass 1) · 1."), render(c, 80, 24))
        c.apply(Events.step(41, sft: 2))
        XCTAssertNil(c.state.stepProgress)
        XCTAssertFalse(render(c, 80, 24).contains("dpo backward"))
    }

    func test_keysDuringASlowStep_areAnsweredAtOnce_withWhenTheyApply() {
        let sink = RecordingSink()
        let c = controller(run: sink)
        c.apply(progress(step: 40, phase: .forward))
        c.handle(.char("+"))
        XCTAssertEqual(sink.sent, [.setLambda(try! Lambda(0.55))])
        XCTAssertEqual(c.state.latestMessage?.text,
                       "λ 0.55 sent: applies at the next step boundary (now step 41: sft forward (pass 1))")
        c.handle(.char("p"))
        XCTAssertTrue(c.state.latestMessage?.text.hasPrefix("pause sent: applies at the next step boundary") ?? false)
        // Between steps there is nothing to wait for: no such line.
        c.apply(Events.step(41, sft: 2))
        let before = c.state.messages.count
        c.handle(.char("e"))
        XCTAssertEqual(c.state.messages.count, before)
    }

    func test_replay_scrubbedToAStep_showsTheNewestSampleAtOrBeforeIt() throws {
        var lines: [RunRecord] = [Events.started()]
        for n in 0...30 {
            if n > 0 { lines.append(Events.step(n, sft: 2)) }
            if n % 10 == 0 { lines.append(sample(n, reply: "said at \(n)", time: Double(n) * 0.1 + 0.01)) }
        }
        var timeline = ReplayTimeline(name: "run")
        if case .header(let h) = Events.header().event { timeline.setHeader(h) }
        timeline.append(contentsOf: lines)
        let player = ReplayPlayer(timelines: [timeline])
        XCTAssertEqual(player.controllers[0].state.samples.probes[0]?.latest.reply, "said at 30")
        player.seek(to: 1.55)   // step 15
        XCTAssertEqual(player.controllers[0].state.step, 15)
        XCTAssertEqual(player.controllers[0].state.samples.probes[0]?.latest.reply, "said at 10")
        XCTAssertEqual(player.controllers[0].state.samples.probes[0]?.first.reply, "said at 0")
        player.handle(.char("a"))
        let surface = TextSurface(width: 80, height: 24)
        ReplayRenderer().draw(player, on: surface, glyphs: .unicode, colors: true)
        XCTAssertTrue(surface.text.contains("said at 10"), surface.text)
        XCTAssertTrue(surface.text.contains("Samples · step 10 · b first|now"), surface.text)
    }
}
