import Foundation
import Training

/// `xright report RUN… --svg OUT.svg`: one standalone SVG (no scripts, no external fonts or styles, so GitHub and
/// browsers show it as an image) with the trade-off plane (held-out f_sft across, f_dpo up) holding each run's
/// path of evaluations, the optima and the ideal point when the runs know them, and the training loss of each
/// objective over steps. Every plotted point carries its values in `data-*` attributes, full precision, so the
/// figure can be checked against the logs; each plot area carries its domain and pixel bounds.
enum ReportSVG {
    static let width = 1000.0
    /// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

    static func color(_ index: Int) -> String { palette[index % palette.count] }

    /// The figure for `runs` (at least one with something to plot).
    static func document(_ runs: [ReportCurves]) -> String {
        let legendRows = (runs.count + legendColumns(runs) - 1) / legendColumns(runs)
        let height = 515.0 + Double(legendRows) * 20
        var svg = SVGText()
        svg.line(##"<?xml version="1.0" encoding="UTF-8"?>"##)
        svg.line(##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(n(width))" height="\##(n(height))" viewBox="0 0 \##(n(width)) \##(n(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">"##)
        svg.line("<title>xright report: \(escape(runs.map(\.name).joined(separator: ", ")))</title>")
        svg.line("<desc>Trade-off plane (held-out f_sft vs f_dpo, one path of evaluations per run) and training losses over steps, drawn by xright report --svg.</desc>")
        svg.line(##"<rect x="0" y="0" width="\##(n(width))" height="\##(n(height))" fill="#ffffff"/>"##)
        tradeOffPlane(runs, into: &svg, frame: Frame(left: 80, right: 470, top: 50, bottom: 420))
        lossChart(runs, objective: "sft", title: "SFT training loss", into: &svg, frame: Frame(left: 580, right: 970, top: 50, bottom: 205))
        lossChart(runs, objective: "dpo", title: "DPO training loss", into: &svg, frame: Frame(left: 580, right: 970, top: 265, bottom: 420))
        legend(runs, into: &svg, top: 505)
        svg.line("</svg>")
        return svg.text
    }

    // MARK: Panels

    private static func tradeOffPlane(_ runs: [ReportCurves], into svg: inout SVGText, frame: Frame) {
        let optima = distinctOptima(runs)
        let xs = runs.flatMap { $0.evaluations.map(\.sft) } + optima.map(\.sft)
        let ys = runs.flatMap { $0.evaluations.map(\.dpo) } + optima.map(\.dpo)
        let x = Axis(values: xs, from: frame.left, to: frame.right)
        let y = Axis(values: ys, from: frame.bottom, to: frame.top)
        svg.line(##"<g class="tradeoff" \##(frame.attributes(x, y))>"##)
        svg.line(##"<text x="\##(n(frame.left))" y="\##(n(frame.top - 14))" font-size="14" font-weight="bold">Trade-off: held-out f_sft vs f_dpo</text>"##)
        axes(x, y, frame: frame, xLabel: "f_sft (held-out SFT loss)", yLabel: "f_dpo (held-out DPO loss)", into: &svg)
        if xs.isEmpty { noData("no evaluation with both losses", frame: frame, into: &svg) }
        for o in optima {
            let (px, py) = (x.pixel(o.sft), y.pixel(o.dpo))
            svg.line(##"<line class="optimum" data-objective="sft" data-value="\##(o.sft)" x1="\##(n(px))" y1="\##(n(frame.top))" x2="\##(n(px))" y2="\##(n(frame.bottom))" stroke="#888888" stroke-dasharray="4 3"/>"##)
            svg.line(##"<line class="optimum" data-objective="dpo" data-value="\##(o.dpo)" x1="\##(n(frame.left))" y1="\##(n(py))" x2="\##(n(frame.right))" y2="\##(n(py))" stroke="#888888" stroke-dasharray="4 3"/>"##)
            svg.line(##"<path class="ideal" data-sft="\##(o.sft)" data-dpo="\##(o.dpo)" d="\##(star(px, py))" fill="#222222"><title>ideal point (f_sft* = \##(o.sft), f_dpo* = \##(o.dpo))</title></path>"##)
            svg.line(##"<text x="\##(n(px + 8))" y="\##(n(py - 8))" fill="#222222">ideal (f_sft*, f_dpo*)</text>"##)
        }
        for (index, run) in runs.enumerated() where !run.evaluations.isEmpty {
            let colour = color(index)
            let points = run.evaluations.map { "\(n(x.pixel($0.sft))),\(n(y.pixel($0.dpo)))" }.joined(separator: " ")
            svg.line(##"<polyline class="trajectory" data-run="\##(escape(run.name))" points="\##(points)" fill="none" stroke="\##(colour)" stroke-width="1.5" stroke-opacity="0.7"/>"##)
            for (k, e) in run.evaluations.enumerated() {
                let last = k == run.evaluations.count - 1
                svg.line(##"<circle class="eval" data-run="\##(escape(run.name))" data-step="\##(e.step)" data-sft="\##(e.sft)" data-dpo="\##(e.dpo)" cx="\##(n(x.pixel(e.sft)))" cy="\##(n(y.pixel(e.dpo)))" r="\##(last ? 5 : 3)" fill="\##(last ? colour : "#ffffff")" stroke="\##(colour)" stroke-width="1.5"><title>\##(escape(run.name)) step \##(e.step): f_sft \##(short(e.sft)), f_dpo \##(short(e.dpo))</title></circle>"##)
            }
        }
        svg.line("</g>")
    }

    private static func lossChart(_ runs: [ReportCurves], objective: String, title: String, into svg: inout SVGText, frame: Frame) {
        let series = runs.map { objective == "sft" ? $0.sftLoss : $0.dpoLoss }
        let x = Axis(values: series.flatMap { $0.map { Double($0.step) } }, from: frame.left, to: frame.right, integral: true)
        let y = Axis(values: series.flatMap { $0.map(\.loss) }, from: frame.bottom, to: frame.top)
        svg.line(##"<g class="losses" data-objective="\##(objective)" \##(frame.attributes(x, y))>"##)
        svg.line(##"<text x="\##(n(frame.left))" y="\##(n(frame.top - 14))" font-size="14" font-weight="bold">\##(title)</text>"##)
        axes(x, y, frame: frame, xLabel: "step", yLabel: "loss", into: &svg)
        if series.allSatisfy(\.isEmpty) { noData("no step computed this objective", frame: frame, into: &svg) }
        for (index, points) in series.enumerated() where !points.isEmpty {
            let coordinates = points.map { "\(n(x.pixel(Double($0.step)))),\(n(y.pixel($0.loss)))" }.joined(separator: " ")
            svg.line(##"<polyline class="loss" data-run="\##(escape(runs[index].name))" data-objective="\##(objective)" data-steps="\##(points.map { String($0.step) }.joined(separator: " "))" data-values="\##(points.map { String($0.loss) }.joined(separator: " "))" points="\##(coordinates)" fill="none" stroke="\##(color(index))" stroke-width="1.2"/>"##)
        }
        svg.line("</g>")
    }

    private static func legendLabel(_ run: ReportCurves) -> String {
        "\(run.name) (\(run.strategy.rawValue), λ = \(short(run.lambda)))"
    }

    /// Up to three columns, fewer when the longest label would run into the next column (run directory names are
    /// long): a label's width is estimated at 7 px a character in the 12 px sans-serif the figure uses.
    static func legendColumns(_ runs: [ReportCurves]) -> Int {
        let longest = runs.map { Double(legendLabel($0).count) * 7 + 32 + 16 }.max() ?? 0
        return max(1, min(3, Int(legendSpan / max(longest, 1))))
    }

    private static let legendSpan = 900.0

    private static func legend(_ runs: [ReportCurves], into svg: inout SVGText, top: Double) {
        svg.line(##"<g class="legend">"##)
        let columns = legendColumns(runs)
        for (index, run) in runs.enumerated() {
            let (column, row) = (Double(index % columns), Double(index / columns))
            let (lx, ly) = (80 + column * legendSpan / Double(columns), top + row * 20)
            svg.line(##"<line x1="\##(n(lx))" y1="\##(n(ly - 4))" x2="\##(n(lx + 24))" y2="\##(n(ly - 4))" stroke="\##(color(index))" stroke-width="2.5"/>"##)
            svg.line(##"<circle cx="\##(n(lx + 12))" cy="\##(n(ly - 4))" r="4" fill="\##(color(index))"/>"##)
            let label = legendLabel(run)
            svg.line(##"<text class="legend-entry" data-run="\##(escape(run.name))" x="\##(n(lx + 32))" y="\##(n(ly))">\##(escape(label))</text>"##)
        }
        svg.line(##"<text x="80" y="\##(n(top - 22))" fill="#555555">Filled marker: a run's last evaluation. Dashed lines: f_sft* and f_dpo*; star: the ideal point.</text>"##)
        svg.line("</g>")
    }

    private static func axes(_ x: Axis, _ y: Axis, frame: Frame, xLabel: String, yLabel: String, into svg: inout SVGText) {
        svg.line(##"<rect x="\##(n(frame.left))" y="\##(n(frame.top))" width="\##(n(frame.right - frame.left))" height="\##(n(frame.bottom - frame.top))" fill="none" stroke="#333333"/>"##)
        for t in x.ticks {
            let px = x.pixel(t)
            svg.line(##"<line class="grid" x1="\##(n(px))" y1="\##(n(frame.top))" x2="\##(n(px))" y2="\##(n(frame.bottom))" stroke="#e5e5e5"/>"##)
            svg.line(##"<line x1="\##(n(px))" y1="\##(n(frame.bottom))" x2="\##(n(px))" y2="\##(n(frame.bottom + 5))" stroke="#333333"/>"##)
            svg.line(##"<text class="tick" x="\##(n(px))" y="\##(n(frame.bottom + 18))" text-anchor="middle">\##(x.label(t))</text>"##)
        }
        for t in y.ticks {
            let py = y.pixel(t)
            svg.line(##"<line class="grid" x1="\##(n(frame.left))" y1="\##(n(py))" x2="\##(n(frame.right))" y2="\##(n(py))" stroke="#e5e5e5"/>"##)
            svg.line(##"<line x1="\##(n(frame.left - 5))" y1="\##(n(py))" x2="\##(n(frame.left))" y2="\##(n(py))" stroke="#333333"/>"##)
            svg.line(##"<text class="tick" x="\##(n(frame.left - 8))" y="\##(n(py + 4))" text-anchor="end">\##(y.label(t))</text>"##)
        }
        let midX = (frame.left + frame.right) / 2, midY = (frame.top + frame.bottom) / 2
        svg.line(##"<text x="\##(n(midX))" y="\##(n(frame.bottom + 36))" text-anchor="middle">\##(escape(xLabel))</text>"##)
        svg.line(##"<text x="\##(n(frame.left - 52))" y="\##(n(midY))" text-anchor="middle" transform="rotate(-90 \##(n(frame.left - 52)) \##(n(midY)))">\##(escape(yLabel))</text>"##)
    }

    private static func noData(_ message: String, frame: Frame, into svg: inout SVGText) {
        svg.line(##"<text x="\##(n((frame.left + frame.right) / 2))" y="\##(n((frame.top + frame.bottom) / 2))" text-anchor="middle" fill="#888888">\##(escape(message))</text>"##)
    }

    // MARK: Geometry

    struct Frame {
        var left, right, top, bottom: Double

        /// The plot area and its domain, for checking coordinates against values.
        func attributes(_ x: Axis, _ y: Axis) -> String {
            "data-x-min=\"\(x.lower)\" data-x-max=\"\(x.upper)\" data-y-min=\"\(y.lower)\" data-y-max=\"\(y.upper)\" "
                + "data-left=\"\(n(left))\" data-right=\"\(n(right))\" data-top=\"\(n(top))\" data-bottom=\"\(n(bottom))\""
        }
    }

    /// A linear scale from a domain rounded out to "nice" ticks (1, 2 or 5 × 10^k apart) onto pixels.
    struct Axis {
        let lower, upper, step: Double
        let from, to: Double

        init(values: [Double], from: Double, to: Double, integral: Bool = false) {
            self.from = from
            self.to = to
            var lo = values.min() ?? 0, hi = values.max() ?? 1
            if hi - lo < 1e-12 * max(1, abs(hi)) {
                let pad = lo == 0 ? 1 : abs(lo) * 0.1
                (lo, hi) = (lo - pad, hi + pad)
            }
            var step = Self.niceStep((hi - lo) / 5)
            if integral { step = max(1, step.rounded()) }
            self.step = step
            lower = (lo / step).rounded(.down) * step
            upper = (hi / step).rounded(.up) * step
        }

        static func niceStep(_ raw: Double) -> Double {
            let magnitude = pow(10, (log10(raw)).rounded(.down))
            let fraction = raw / magnitude
            return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude
        }

        var ticks: [Double] {
            let count = Int(((upper - lower) / step).rounded())
            return (0...count).map { lower + Double($0) * step }
        }

        func pixel(_ value: Double) -> Double { from + (value - lower) / (upper - lower) * (to - from) }

        func label(_ value: Double) -> String {
            let decimals = max(0, Int(-(log10(step)).rounded(.down)))
            return String(format: "%.\(decimals)f", abs(value) < step / 2 ? 0 : value)
        }
    }

    static func distinctOptima(_ runs: [ReportCurves]) -> [Optima] {
        var seen = [Optima]()
        for o in runs.compactMap(\.optima) where !seen.contains(o) { seen.append(o) }
        return seen
    }

    /// A five-pointed star around (x, y).
    static func star(_ x: Double, _ y: Double) -> String {
        (0..<10).map { k -> String in
            let radius = k % 2 == 0 ? 8.0 : 3.5, angle = -Double.pi / 2 + Double(k) * Double.pi / 5
            return "\(k == 0 ? "M" : "L")\(n(x + radius * cos(angle))),\(n(y + radius * sin(angle)))"
        }.joined() + "Z"
    }

    // MARK: Text

    /// Pixels to two decimals: enough for any screen, and a diff-friendly file.
    static func n(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    static func short(_ value: Double) -> String { String(format: "%.4g", value) }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 forbids most control characters even escaped.
                if let scalar = c.unicodeScalars.first, c.unicodeScalars.count == 1, scalar.value < 0x20,
                   scalar != "\t", scalar != "\n", scalar != "\r" { out += "?" } else { out.append(c) }
            }
        }
        return out
    }

    struct SVGText {
        var text = ""
        mutating func line(_ s: String) { text += s + "\n" }
    }
}
