import Dashboard
import XCTest

final class ChartTests: XCTestCase {
    func test_envelope_keepsASpikeAmong100kPoints() {
        let n = 100_000
        let xs = (0..<n).map(Double.init)
        var ys = [Double](repeating: 1, count: n)
        ys[54_321] = 50
        ys[77_777] = -3
        var envelope = ColumnEnvelope()
        envelope.fill(xs: xs, ys: ys, from: 0, to: Double(n - 1), columns: 20)
        XCTAssertEqual(envelope.range?.0, -3)
        XCTAssertEqual(envelope.range?.1, 50)
        let spikeColumn = Int(54_321.0 / Double(n - 1) * 20)
        XCTAssertEqual(envelope.maximum[spikeColumn], 50)
        XCTAssertEqual(envelope.minimum[Int(77_777.0 / Double(n - 1) * 20)], -3)
        XCTAssertEqual(envelope.filled.filter { $0 }.count, 20)
    }

    func test_envelope_zoomWindowSkipsPointsOutside() {
        let xs = (0..<1000).map(Double.init)
        var ys = [Double](repeating: 1, count: 1000)
        ys[10] = 99 // outside the window
        var envelope = ColumnEnvelope()
        envelope.fill(xs: xs, ys: ys, from: 800, to: 999, columns: 10)
        XCTAssertEqual(envelope.range?.1, 1)
    }

    func test_envelope_logTransformDropsNonPositiveAndNaN() {
        var envelope = ColumnEnvelope()
        envelope.fill(xs: [0, 1, 2, 3], ys: [100, 0, .nan, 10], from: 0, to: 3, columns: 4, logScale: true)
        XCTAssertEqual(envelope.filled, [true, false, false, true])
        XCTAssertEqual(envelope.maximum[0], 2, accuracy: 1e-12)
    }

    func test_envelopeUpdate_foldsAppendedPointsLikeAFullFill() {
        var xs = (0..<500).map(Double.init), ys = xs.map { sin($0 / 7) * $0 }
        var incremental = ColumnEnvelope()
        incremental.update(xs: xs, ys: ys, from: 0, to: 1000, columns: 37, logScale: false, generation: 0)
        xs += (500..<900).map(Double.init)
        ys += (500..<900).map { -Double($0) }
        incremental.update(xs: xs, ys: ys, from: 0, to: 1000, columns: 37, logScale: false, generation: 0)
        var full = ColumnEnvelope()
        full.fill(xs: xs, ys: ys, from: 0, to: 1000, columns: 37)
        XCTAssertEqual(incremental.filled, full.filled)
        XCTAssertEqual(incremental.minimum, full.minimum)
        XCTAssertEqual(incremental.maximum, full.maximum)
        XCTAssertEqual(incremental.last, full.last)
        // A new generation (values rewritten in place) rebuilds from scratch.
        let rewritten = ys.map { $0 + 1 }
        incremental.update(xs: xs, ys: rewritten, from: 0, to: 1000, columns: 37, logScale: false, generation: 1)
        XCTAssertEqual(incremental.maximum[0], full.maximum[0] + 1)
    }

    func test_lineChart_drawsTheSpikeInTheTopRow() {
        let n = 100_000
        var ys = [Double](repeating: 1, count: n)
        ys[n / 2] = 10
        let chart = LineChart(curves: [LineChart.Curve(xs: (0..<n).map(Double.init), ys: ys, role: .sftSmooth)],
                              xRange: (0, Double(n - 1)), logScale: false, xLabel: { String(Int($0)) })
        let surface = TextSurface(width: 40, height: 10)
        chart.draw(on: surface, in: surface.bounds, glyphs: .unicode, scratch: LineChart.Scratch())
        let top = surface.line(0)
        XCTAssertTrue(top.contains("10.0"), "the y axis is labelled with the maximum: \(top)")
        let plotTop = top.unicodeScalars.dropFirst(7)
        XCTAssertTrue(plotTop.contains { $0.value >= 0x2801 && $0.value <= 0x28FF }, "the spike reaches the top row: \(top)")
        XCTAssertTrue(surface.line(9).contains("99999"), "the x axis ends at the last step")
    }

    func test_lineChart_fallsBackToASCIIWithoutBraille() {
        let chart = LineChart(curves: [LineChart.Curve(xs: [0, 1, 2], ys: [1, 2, 3], role: .sftSmooth)],
                              xRange: (0, 2), logScale: false, xLabel: { String(Int($0)) })
        let surface = TextSurface(width: 30, height: 6)
        chart.draw(on: surface, in: surface.bounds, glyphs: .ascii, scratch: LineChart.Scratch())
        XCTAssertFalse(surface.text.unicodeScalars.contains { $0.value > 127 }, surface.text)
        XCTAssertTrue(surface.text.contains(":") || surface.text.contains("."))
    }

    func test_brailleCanvas_setsTheRightDots() {
        var canvas = BrailleCanvas(columns: 1, rows: 1)
        canvas.set(0, 0, role: .text)
        canvas.set(1, 3, role: .text)
        // Dot 1 (0x01) and dot 8 (0x80).
        XCTAssertEqual(canvas.glyph(column: 0, row: 0, braille: true)?.0, Unicode.Scalar(0x2881))
        canvas.set(5, 5, role: .text) // outside: ignored
        XCTAssertFalse(canvas.isSet(5, 5))
    }

    func test_gauge_fillsInEighths() {
        let surface = TextSurface(width: 4, height: 1)
        Gauge(fraction: 0.5 + 1.0 / 32).draw(on: surface, x: 0, y: 0, width: 4, glyphs: .unicode)
        XCTAssertEqual(surface.line(0), "██▏░")
        Gauge(fraction: .nan).draw(on: surface, x: 0, y: 0, width: 4, glyphs: .unicode)
        XCTAssertEqual(surface.line(0), "░░░░")
    }
}
