import Dashboard
import Training
import XCTest

final class ControllerTests: XCTestCase {
    private func liveController(lambda: Double = 0.5) -> (DashboardController, RecordingSink) {
        let sink = RecordingSink()
        let controller = DashboardController(run: sink, themeCount: 3)
        controller.apply(Events.header(lambda: lambda))
        controller.apply(Events.started(lambda: lambda))
        return (controller, sink)
    }

    func test_plusAndArrows_changeLambdaByAStep() {
        let (c, sink) = liveController()
        c.handle(.char("+"))
        c.handle(.right)
        XCTAssertEqual(sink.sent, [.setLambda(try! Lambda(0.55)), .setLambda(try! Lambda(0.6))],
                       "a second press builds on the λ already asked for")
        c.handle(.char("-"))
        c.handle(.left)
        XCTAssertEqual(sink.sent.last, .setLambda(try! Lambda(0.5)))
    }

    func test_lambdaPastOne_isRefusedWithoutACommand() {
        let (c, sink) = liveController(lambda: 1.0)
        c.handle(.char("+"))
        XCTAssertEqual(sink.sent, [])
        XCTAssertEqual(c.state.latestMessage?.kind, .refused)
        XCTAssertTrue(c.state.latestMessage!.text.contains("out of range"), c.state.latestMessage!.text)
    }

    func test_typedLambda_isSentOnEnter() {
        let (c, sink) = liveController()
        c.handle(.char("l"))
        for ch in "0.3" { c.handle(.char(ch)) }
        XCTAssertEqual(c.mode, .lambdaEntry("0.3"))
        c.handle(.enter)
        XCTAssertEqual(sink.sent, [.setLambda(try! Lambda(0.3))])
        XCTAssertEqual(c.mode, .normal)
    }

    func test_typedLambdaOutOfRange_isRefusedWithTheReason() {
        let (c, sink) = liveController()
        c.handle(.char("l"))
        c.handle(.char("2"))
        c.handle(.enter)
        XCTAssertEqual(sink.sent, [])
        XCTAssertTrue(c.state.latestMessage!.text.contains("[0, 1]"), c.state.latestMessage!.text)
    }

    func test_escape_cancelsLambdaEntry() {
        let (c, sink) = liveController()
        c.handle(.char("l"))
        c.handle(.char("1"))
        c.handle(.escape)
        XCTAssertEqual(c.mode, .normal)
        XCTAssertEqual(sink.sent, [])
    }

    func test_p_pausesAndThenResumes() {
        let (c, sink) = liveController()
        c.handle(.char("p"))
        XCTAssertEqual(sink.sent, [.pause])
        c.apply(Events.paused(step: 3))
        c.handle(.char("p"))
        XCTAssertEqual(sink.sent, [.pause, .resume])
    }

    func test_sessionKeys_sendTheirCommands() {
        let (c, sink) = liveController()
        c.handle(.char("n"))
        c.handle(.char("e"))
        c.handle(.char("c"))
        XCTAssertEqual(sink.sent, [.stepOnce, .evaluateNow, .checkpointNow])
    }

    func test_strategySwitch_choosesWithArrowsAndEnter() {
        let (c, sink) = liveController()
        c.handle(.char("s"))
        XCTAssertEqual(c.mode, .strategyChoice(StrategyName.allCases.firstIndex(of: .alright)!))
        c.handle(.right)
        c.handle(.enter)
        XCTAssertEqual(sink.sent, [.switchStrategy(.maxright)])
    }

    func test_viewKeys_changeTheViewOnly() {
        let (c, sink) = liveController()
        c.handle(.char("g"))
        c.handle(.char("]"))
        c.handle(.char("x"))
        c.handle(.char("t"))
        c.handle(.char("?"))
        XCTAssertTrue(c.view.logScale)
        XCTAssertEqual(c.view.smoothingWeight, 0.95)
        XCTAssertEqual(c.view.axis, .time)
        XCTAssertEqual(c.view.themeIndex, 1)
        XCTAssertTrue(c.view.showHelp)
        XCTAssertEqual(sink.sent, [])
        for _ in 0..<10 { c.handle(.char("[")) }
        XCTAssertEqual(c.view.smoothingWeight, 0, "smoothing bottoms out at off")
    }

    func test_quitWhileLive_asksThenCheckpointsAndStops() {
        let (c, sink) = liveController()
        c.handle(.char("q"))
        XCTAssertEqual(c.mode, .confirmQuit)
        XCTAssertFalse(c.wantsExit)
        c.handle(.char("y"))
        XCTAssertEqual(sink.sent, [.checkpointNow, .stop])
        XCTAssertEqual(c.state.activity, .stopping)
        XCTAssertFalse(c.wantsExit, "waits for the session to finish")
        c.apply(Events.finished(step: 5))
        XCTAssertTrue(c.wantsExit)
    }

    func test_quitDeclined_keepsTraining() {
        let (c, sink) = liveController()
        c.handle(.char("q"))
        c.handle(.char("n"))
        XCTAssertEqual(c.mode, .normal)
        XCTAssertEqual(sink.sent, [])
        XCTAssertFalse(c.wantsExit)
    }

    func test_attachedViewer_qAndDDetachWithoutStoppingTheRun() {
        for key in ["q", "d"] {
            let (c, sink) = liveController()
            c.isViewer = true
            c.handle(.char(Character(key)))
            XCTAssertTrue(c.wantsExit, "\(key) closes an attached view at once")
            XCTAssertEqual(sink.sent, [], "\(key) never stops a run it is only watching")
        }
    }

    func test_d_onTheRunsOwnTerminal_explainsAndKeepsGoing() {
        let (c, sink) = liveController()
        c.handle(.char("d"))
        XCTAssertFalse(c.wantsExit)
        XCTAssertEqual(sink.sent, [])
    }

    func test_quitAfterFinish_exitsAtOnce() {
        let (c, sink) = liveController()
        c.apply(Events.finished(step: 5, reason: .maxSteps))
        c.handle(.char("q"))
        XCTAssertTrue(c.wantsExit)
        XCTAssertEqual(sink.sent, [])
    }

    func test_keyTable_bindsEveryActionAndFooterFitsWidth() {
        for action in DashboardAction.allCases {
            XCTAssertTrue(KeyTable.bindings.contains { $0.action == action }, "\(action) has no key")
        }
        let footer = KeyTable.footer(width: 78, lambdaSymbol: "λ")
        XCTAssertLessThanOrEqual(footer.count, 78)
        XCTAssertTrue(footer.contains("q quit"), footer)
        XCTAssertTrue(footer.contains("? help"), footer)
        XCTAssertTrue(footer.hasPrefix("←/→ λ"))
    }
}
