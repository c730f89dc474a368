import Dashboard
import Training
import XCTest

/// A tiny terminal still says everything it needs to (wrapped, not cut), a quit question asked there is on screen,
/// and a typed λ that is not a number is refused naming what was typed.
final class SmallScreenAndEntryTests: XCTestCase {
    private func liveController() -> DashboardController {
        let c = DashboardController(run: RecordingSink(), themeCount: 3)
        c.apply(Events.header(lambda: 0.5))
        c.apply(Events.started(lambda: 0.5))
        return c
    }

    func test_tooSmallMessage_wrapsToA20x6Screen_withoutCuttingWords() {
        let surface = TextSurface(width: 20, height: 6)
        DashboardRenderer().draw(liveController(), on: surface, glyphs: .unicode, colors: true)
        let text = surface.text
        for word in ["Terminal", "too", "small:", "20x6.", "80x24."] {
            XCTAssertTrue(text.contains(word), "'\(word)' missing:\n\(text)")
        }
    }

    func test_quitPressedOnATooSmallScreen_showsTheQuestion() {
        let c = liveController()
        c.handle(.char("q"))
        XCTAssertEqual(c.mode, .confirmQuit)
        let surface = TextSurface(width: 40, height: 12)
        DashboardRenderer().draw(c, on: surface, glyphs: .unicode, colors: true)
        XCTAssertTrue(surface.text.contains("Stop the run?"), surface.text)
        XCTAssertTrue(surface.text.contains("y stop"), surface.text)
    }

    func test_typedLambdaWithLetters_isRefusedNamingWhatWasTyped() {
        let c = liveController()
        c.handle(.char("l"))
        for ch in "0.x5" { c.handle(.char(ch)) }
        XCTAssertEqual(c.mode, .lambdaEntry("0.x5"))
        c.handle(.enter)
        let message = c.state.latestMessage?.text ?? ""
        XCTAssertTrue(message.contains("0.x5"), message)
    }
}
