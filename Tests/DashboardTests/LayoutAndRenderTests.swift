import Dashboard
import Training
import XCTest

final class LayoutAndRenderTests: XCTestCase {
    func test_layout_fitsEveryPanelOnScreenWithoutOverlap() {
        for (w, h) in [(80, 24), (120, 40), (200, 60), (81, 25)] {
            let layout = DashboardLayout.compute(width: w, height: h)!
            let all = layout.panels + [layout.events, layout.footer]
            let screen = Rect(x: 0, y: 0, width: w, height: h)
            for r in all {
                XCTAssertTrue(r.x >= 0 && r.y >= 0 && r.maxX <= w && r.maxY <= h, "\(r) off \(w)×\(h)")
                XCTAssertFalse(r.isEmpty, "\(r) empty at \(w)×\(h)")
            }
            for (i, a) in all.enumerated() {
                for b in all[(i + 1)...] {
                    let overlap = a.x < b.maxX && b.x < a.maxX && a.y < b.maxY && b.y < a.maxY
                    XCTAssertFalse(overlap, "\(a) overlaps \(b) at \(w)×\(h)")
                }
            }
            XCTAssertEqual(all.map { $0.width * $0.height }.reduce(0, +), screen.width * screen.height,
                           "the panels tile the screen at \(w)×\(h)")
        }
    }

    func test_layout_isNilBelow80x24() {
        XCTAssertNil(DashboardLayout.compute(width: 79, height: 24))
        XCTAssertNil(DashboardLayout.compute(width: 80, height: 23))
    }

    func test_renderer_saysSoWhenTheTerminalIsTooSmall() {
        let surface = TextSurface(width: 40, height: 12)
        DashboardRenderer().draw(DashboardController(run: RecordingSink()), on: surface, glyphs: .unicode, colors: true)
        XCTAssertTrue(surface.text.contains("too small"), surface.text)
        XCTAssertTrue(surface.text.contains("80x24"), surface.text)
    }

    private func runningController() -> DashboardController {
        let c = DashboardController(run: RecordingSink())
        c.apply(Events.header(strategy: .alright, lambda: 0.5, planned: 500, optima: Optima(sft: 1.5, dpo: 0.1)))
        c.apply(Events.started())
        for n in 1...300 {
            let x = Double(n)
            c.apply(n % 2 == 0 ? Events.step(n, sft: 2 + 3 / x) : Events.step(n, dpo: 0.2 + 0.5 / x))
        }
        return c
    }

    func test_renderer_drawsEveryPanelWithLiveNumbersAt80x24() {
        let surface = TextSurface(width: 80, height: 24)
        DashboardRenderer().draw(runningController(), on: surface, glyphs: .unicode, colors: true)
        let text = surface.text
        for title in ["Losses", "Objective choice", "Control", "Trade-off", "System"] {
            XCTAssertTrue(text.contains(title), "\(title) missing:\n\(text)")
        }
        XCTAssertTrue(text.contains("step 300/500"), text)
        XCTAssertTrue(text.contains("DPO share 50.0%"), text)
        XCTAssertTrue(text.contains("RUNNING"), text)
        XCTAssertTrue(text.contains("q quit"), text)
        XCTAssertTrue(text.contains("★"), "ideal point drawn:\n\(text)")
    }

    func test_renderer_withoutColourDrawsObjectiveLetters() {
        let surface = TextSurface(width: 80, height: 24)
        DashboardRenderer().draw(runningController(), on: surface, glyphs: .unicode, colors: false)
        XCTAssertTrue(surface.text.contains("SDSDSD") || surface.text.contains("DSDSDS"), surface.text)
    }

    func test_renderer_helpOverlayListsEveryBinding() {
        let c = runningController()
        c.handle(.char("?"))
        let surface = TextSurface(width: 120, height: 40)
        DashboardRenderer().draw(c, on: surface, glyphs: .unicode, colors: true)
        for binding in KeyTable.bindings {
            XCTAssertTrue(surface.text.contains(binding.help), "help lacks '\(binding.help)'")
        }
    }

    func test_renderer_ASCIIGlyphsUseNoNonASCII() {
        let surface = TextSurface(width: 100, height: 30)
        DashboardRenderer().draw(runningController(), on: surface, glyphs: .ascii, colors: false)
        let bad = surface.text.unicodeScalars.filter { $0.value > 127 }
        XCTAssertTrue(bad.isEmpty, "non-ASCII: \(String(String.UnicodeScalarView(bad.prefix(10))))")
    }

    func test_options_fallBackToHeadlessOffATerminal() {
        let env = ["TERM": "xterm-256color"]
        XCTAssertTrue(DashboardOptions.shouldUseTUI(stdoutIsTerminal: true, noTUI: false, environment: env))
        XCTAssertFalse(DashboardOptions.shouldUseTUI(stdoutIsTerminal: false, noTUI: false, environment: env))
        XCTAssertFalse(DashboardOptions.shouldUseTUI(stdoutIsTerminal: true, noTUI: true, environment: env))
        XCTAssertFalse(DashboardOptions.shouldUseTUI(stdoutIsTerminal: true, noTUI: false, environment: ["TERM": "dumb"]))
        XCTAssertFalse(DashboardOptions.shouldUseTUI(stdoutIsTerminal: true, noTUI: false, environment: [:]))
    }

    func test_colorMode_honoursNO_COLORAndTerminalDepth() {
        XCTAssertEqual(ColorMode.detect(terminalColors: 256, hasColors: true, environment: ["NO_COLOR": "1"]), .none)
        XCTAssertEqual(ColorMode.detect(terminalColors: 256, hasColors: true, environment: ["NO_COLOR": ""]), .palette256)
        XCTAssertEqual(ColorMode.detect(terminalColors: 16, hasColors: true, environment: [:]), .sixteen)
        XCTAssertEqual(ColorMode.detect(terminalColors: 8, hasColors: true, environment: [:]), .eight)
        XCTAssertEqual(ColorMode.detect(terminalColors: 256, hasColors: false, environment: [:]), .none)
    }
}
