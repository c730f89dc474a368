import Foundation

/// A braille line chart of one metric with a y axis (labels at top, middle, bottom), an x axis line with its
/// range, the raw series beneath the smoothed one, and eval points marked.
///
/// Each pixel column takes the min..max of the points that fall in it (see `ColumnEnvelope`), so a spike is
/// never hidden however long the run.
public struct LineChart {
    public struct Curve {
        public var xs: [Double]
        public var ys: [Double]
        public var role: Role
        /// The series' generation (see `MetricSeries.generation`): unchanged means points were only appended.
        public var generation: Int

        public init(xs: [Double], ys: [Double], role: Role, generation: Int = 0) {
            self.xs = xs
            self.ys = ys
            self.role = role
            self.generation = generation
        }
    }

    public var curves: [Curve]
    public var marks: [(x: Double, y: Double)] = []
    public var xRange: (Double, Double)
    public var logScale: Bool
    public var xLabel: (Double) -> String

    /// Reused between frames so drawing allocates only when the size changes.
    public final class Scratch {
        var envelopes: [ColumnEnvelope] = []
        var canvas = BrailleCanvas(columns: 0, rows: 0)
        /// The trade-off plane's first trajectory, extended between frames (`TradeoffPlane.Trajectory.generation`).
        let plane = PlaneCache()
        public init() {}
    }

    /// Running bounds and the deduplicated pixel path of a trajectory that only grows.
    final class PlaneCache {
        var generation: Int?
        var boundsCount = 0
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        var pixelKey: [Double] = []
        var pixelCount = 0
        var pixels: [(Int, Int)] = []

        func reset(_ generation: Int) {
            self.generation = generation
            boundsCount = 0
            minX = .infinity; maxX = -.infinity; minY = .infinity; maxY = -.infinity
            pixelKey = []
            pixelCount = 0
            pixels.removeAll(keepingCapacity: true)
        }
    }

    public init(curves: [Curve], xRange: (Double, Double), logScale: Bool, xLabel: @escaping (Double) -> String) {
        self.curves = curves
        self.xRange = xRange
        self.logScale = logScale
        self.xLabel = xLabel
    }

    static let axisWidth = 7

    public func draw(on surface: Surface, in rect: Rect, glyphs: Glyphs, scratch: Scratch) {
        guard rect.width > Self.axisWidth + 2, rect.height >= 3 else { return }
        let plot = Rect(x: rect.x + Self.axisWidth, y: rect.y, width: rect.width - Self.axisWidth, height: rect.height - 1)
        let pixelColumns = plot.width * 2, pixelRows = plot.height * 4
        if scratch.canvas.columns != plot.width || scratch.canvas.rows != plot.height {
            scratch.canvas = BrailleCanvas(columns: plot.width, rows: plot.height)
        } else {
            scratch.canvas.reset()
        }
        while scratch.envelopes.count < curves.count { scratch.envelopes.append(ColumnEnvelope()) }

        let transform: ((Double) -> Double?)? = logScale ? { $0 > 0 ? log10($0) : nil } : nil
        var lo = Double.infinity, hi = -Double.infinity
        for (i, curve) in curves.enumerated() {
            scratch.envelopes[i].update(xs: curve.xs, ys: curve.ys, from: xRange.0, to: xRange.1, columns: pixelColumns,
                                        logScale: logScale, generation: curve.generation)
            if let (a, b) = scratch.envelopes[i].range { lo = min(lo, a); hi = max(hi, b) }
        }
        for mark in marks where mark.x >= xRange.0 && mark.x <= xRange.1 {
            if let y = transform.map({ $0(mark.y) }) ?? mark.y, y.isFinite { lo = min(lo, y); hi = max(hi, y) }
        }
        guard lo <= hi else {
            drawAxes(on: surface, rect: rect, plot: plot, glyphs: glyphs, range: nil)
            surface.put("waiting for data", x: plot.x + 1, y: plot.y + plot.height / 2, role: .muted, clip: plot)
            return
        }
        if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
        (lo, hi) = NiceRange.expand(lo, hi)
        drawAxes(on: surface, rect: rect, plot: plot, glyphs: glyphs, range: (lo, hi))
        let yScale = Double(pixelRows - 1) / (hi - lo)
        // +0.5 and truncate: the value is never negative here, and round() is a library call per point.
        @inline(__always) func py(_ v: Double) -> Int { pixelRows - 1 - Int((v - lo) * yScale + 0.5) }

        for (i, curve) in curves.enumerated() {
            let env = scratch.envelopes[i]
            // Sparse series leave empty columns between points: join each filled column to the previous one.
            var previous: (column: Int, y: Int)?
            for c in 0..<pixelColumns {
                guard env.filled[c] else { continue }
                let top = py(env.maximum[c]), bottom = py(env.minimum[c])
                scratch.canvas.vertical(c, top, bottom, role: curve.role)
                if let p = previous { scratch.canvas.line(p.column, p.y, c, py(env.first[c]), role: curve.role) }
                previous = (c, py(env.last[c]))
            }
        }
        scratch.canvas.draw(on: surface, at: (plot.x, plot.y), braille: glyphs.usesBraille)
        let span = xRange.1 - xRange.0
        for mark in marks where mark.x >= xRange.0 && mark.x <= xRange.1 {
            guard let y = transform.map({ $0(mark.y) }) ?? mark.y, y.isFinite else { continue }
            let column = span > 0 ? Int((mark.x - xRange.0) / span * Double(pixelColumns - 1)) / 2 : plot.width - 1
            surface.put(glyphs.evalMark, x: plot.x + column, y: plot.y + py(y) / 4, role: .evalMark)
        }
    }

    private func drawAxes(on surface: Surface, rect: Rect, plot: Rect, glyphs: Glyphs, range: (Double, Double)?) {
        for row in plot.y..<plot.maxY { surface.put(glyphs.vertical, x: plot.x - 1, y: row, role: .axis) }
        let axisRow = plot.maxY
        surface.put(glyphs.bottomLeft, x: plot.x - 1, y: axisRow, role: .axis)
        for col in plot.x..<plot.maxX { surface.put(glyphs.horizontal, x: col, y: axisRow, role: .axis) }
        let left = xLabel(xRange.0), right = xLabel(xRange.1)
        surface.put(left, x: plot.x, y: axisRow, role: .muted, clip: rect)
        surface.put(right, x: plot.maxX - right.unicodeScalars.count, y: axisRow, role: .muted, clip: rect)
        guard let (lo, hi) = range else { return }
        let label = { (v: Double) -> String in
            let value = self.logScale ? pow(10, v) : v
            let text = Format.axis(value)
            return String(repeating: " ", count: max(0, Self.axisWidth - 1 - text.count)) + text
        }
        surface.put(label(hi), x: rect.x, y: plot.y, role: .muted, clip: rect)
        if plot.height >= 3 {
            surface.put(label((lo + hi) / 2), x: rect.x, y: plot.y + (plot.height - 1) / 2, role: .muted, clip: rect)
        }
        surface.put(label(lo), x: rect.x, y: plot.maxY - 1, role: .muted, clip: rect)
    }
}
