import Dashboard
import Foundation
import Training
import XCTest

/// The renderer keeps what it drew of the trade-off plane between frames and extends it with new steps only:
/// a frame drawn after many incremental frames must equal the frame a fresh renderer draws from the same state,
/// through new steps, a smoothing change and a resume that cuts steps back.
final class IncrementalDrawTests: XCTestCase {
    private func frame(_ renderer: DashboardRenderer, _ controller: DashboardController) -> String {
        let surface = TextSurface(width: 200, height: 60)
        renderer.draw(controller, on: surface, glyphs: .unicode, colors: true)
        return surface.text
    }

    func test_incrementalFrames_equalAFreshDraw_throughStepsSmoothingAndResume() {
        let controller = DashboardController(run: nil)
        controller.apply(Events.header(strategy: .alright, lambda: 0.5, planned: 2000, optima: Optima(sft: 1.5, dpo: 0.1)))
        controller.apply(Events.started())
        let renderer = DashboardRenderer()
        func steps(_ range: ClosedRange<Int>) {
            for n in range {
                let x = Double(n)
                controller.apply(n % 3 == 0 ? Events.step(n, dpo: 0.2 + 0.5 / x + 0.01 * sin(x)) : Events.step(n, sft: 2 + 3 / x + 0.02 * cos(x)))
            }
        }
        for chunk in 0..<12 {
            steps(chunk * 50 + 1...chunk * 50 + 50)
            XCTAssertEqual(frame(renderer, controller), frame(DashboardRenderer(), controller), "after step \(chunk * 50 + 50)")
        }
        XCTAssertTrue(controller.handle(.char("]")), "more smoothing")
        XCTAssertEqual(frame(renderer, controller), frame(DashboardRenderer(), controller), "after a smoothing change")
        // A resume from step 400: steps after it are superseded and run again.
        controller.apply(Events.started(step: 400))
        XCTAssertEqual(frame(renderer, controller), frame(DashboardRenderer(), controller), "after the resume cut")
        steps(401...700)
        XCTAssertEqual(frame(renderer, controller), frame(DashboardRenderer(), controller), "after re-run steps")
    }
}
