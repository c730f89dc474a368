import Foundation
import Training

/// Several runs on the same axes: loss charts with one curve per run, a legend naming each run in its colour,
/// the runs' figures side by side, and the trade-off plane with every trajectory and the ideal point.
final class ReplayOverlayRenderer {
    private let sftScratch = LineChart.Scratch()
    private let dpoScratch = LineChart.Scratch()
    private let planeScratch = LineChart.Scratch()

    /// "A", "B", …: tells runs apart where colour cannot (NO_COLOR, a monochrome terminal).
    static func letter(_ index: Int) -> String { String(UnicodeScalar(UInt8(65 + index % 26))) }

    func draw(_ player: ReplayPlayer, layout: DashboardLayout, on surface: Surface, glyphs: Glyphs) {
        let states = player.controllers.map(\.state)
        let view = player.view
        drawLosses(player, states, view, layout.losses, surface, glyphs)
        drawShares(states, layout.objective, surface, glyphs)
        drawRuns(player, states, layout.control, surface, glyphs)
        drawTradeoff(states, layout.tradeoff, surface, glyphs)
        drawProblems(player, layout.system, surface, glyphs)
        let messages = zip(player.timelines.indices, states).flatMap { i, s in
            s.messages.suffix(layout.events.height).map { (i, $0) }
        }.suffix(layout.events.height)
        for (row, (i, message)) in messages.enumerated() {
            var w = RowWriter(surface, layout.events, row: layout.events.height - messages.count + row)
            w.write(" \(Self.letter(i)) ", Role.run(i))
            w.write(message.text, message.kind == .warning ? .error : .text)
        }
    }

    // MARK: Losses

    private func drawLosses(_ player: ReplayPlayer, _ states: [DashboardState], _ view: ViewSettings, _ rect: Rect,
                            _ surface: Surface, _ glyphs: Glyphs) {
        let inner = drawFrame(rect, title: "Losses", on: surface, glyphs: glyphs)
        guard inner.height >= 5 else { return }
        var legend = RowWriter(surface, inner, row: 0)
        for (i, timeline) in player.timelines.enumerated() {
            legend.write(String(glyphs.stripCell) + Self.letter(i) + " ", Role.run(i))
            legend.write(timeline.name + "  ", .text)
        }
        var header = RowWriter(surface, inner, row: 1)
        header.write(view.smoothingWeight == 0 ? "raw" : "EMA \(view.smoothingWeight)", .muted)
        header.write(" · \(view.logScale ? "log" : "linear") · x: \(view.axis == .step ? "step" : "time")", .muted)
        let (_, charts) = inner.splitTop(2)
        let (top, bottom) = charts.splitTop(charts.height / 2)
        let xRange = Self.xRange(states, view)
        drawChart(.sft, states, view, top, surface, glyphs, xRange, sftScratch)
        drawChart(.dpo, states, view, bottom, surface, glyphs, xRange, dpoScratch)
    }

    static func xRange(_ states: [DashboardState], _ view: ViewSettings) -> (Double, Double) {
        let byStep = view.axis == .step
        var first = Double.infinity, last = 0.0
        for s in states {
            for series in [s.sft, s.dpo] {
                let xs = byStep ? series.steps : series.times
                if let a = xs.first { first = min(first, a) }
                if let b = xs.last { last = max(last, b) }
            }
            last = max(last, byStep ? Double(s.step) : s.elapsedSeconds)
        }
        if !first.isFinite { first = 0 }
        switch view.zoom {
        case .whole: return (first, NiceRange.ceiling(max(last, first + 1)))
        case .last(let n): return (max(first, last - n), max(last, first + 1))
        }
    }

    private func drawChart(_ objective: Objective, _ states: [DashboardState], _ view: ViewSettings, _ rect: Rect,
                           _ surface: Surface, _ glyphs: Glyphs, _ xRange: (Double, Double), _ scratch: LineChart.Scratch) {
        guard rect.height >= 3 else { return }
        var legend = RowWriter(surface, rect, row: 0)
        legend.write(objective == .sft ? "SFT" : "DPO", objective == .sft ? .sftSmooth : .dpoSmooth)
        var curves: [LineChart.Curve] = []
        for (i, state) in states.enumerated() {
            let series = state.series(objective)
            let value = view.smoothingWeight > 0 ? series.lastSmoothed : series.last
            legend.write("  \(Self.letter(i)) ", Role.run(i))
            legend.write(value.map(Format.loss) ?? "--", .text)
            let xs = view.axis == .step ? series.steps : series.times
            let ys = view.smoothingWeight > 0 ? series.smoothed : series.raw
            curves.append(LineChart.Curve(xs: xs, ys: ys, role: Role.run(i),
                                          generation: series.generation * 2 + (view.axis == .step ? 0 : 1)))
        }
        var chart = LineChart(curves: curves, xRange: xRange, logScale: view.logScale,
                              xLabel: view.axis == .step ? { String(Int($0)) } : { Format.duration($0) })
        chart.marks = states.flatMap { s in s.evals(objective).map { (view.axis == .step ? Double($0.step) : $0.time, $0.loss) } }
        let (_, plot) = rect.splitTop(1)
        chart.draw(on: surface, in: plot, glyphs: glyphs, scratch: scratch)
    }

    // MARK: Side panels

    private func drawShares(_ states: [DashboardState], _ rect: Rect, _ surface: Surface, _ glyphs: Glyphs) {
        let inner = drawFrame(rect, title: "Objective choice", on: surface, glyphs: glyphs)
        let rows: [(String, (DashboardState) -> String)] = [
            ("DPO share", { $0.dpoShare.map { Format.fixed(100 * $0, 1) + "%" } ?? "--" }),
            ("eval SFT ", { $0.sftEvals.last.map { Format.loss($0.loss) } ?? "--" }),
            ("eval DPO ", { $0.dpoEvals.last.map { Format.loss($0.loss) } ?? "--" }),
        ]
        for (row, (label, value)) in rows.enumerated() where row < inner.height {
            var w = RowWriter(surface, inner, row: row)
            w.write(label, .muted)
            for (i, state) in states.enumerated() {
                w.write("  \(Self.letter(i)) ", Role.run(i))
                w.write(value(state), .text)
            }
        }
    }

    private func drawRuns(_ player: ReplayPlayer, _ states: [DashboardState], _ rect: Rect, _ surface: Surface, _ glyphs: Glyphs) {
        let inner = drawFrame(rect, title: "Runs", on: surface, glyphs: glyphs)
        for (i, state) in states.enumerated() where i < inner.height {
            var w = RowWriter(surface, inner, row: i)
            w.write(String(glyphs.stripCell) + Self.letter(i) + " ", Role.run(i))
            w.write((state.strategy?.rawValue ?? "--") + " ", .title)
            w.write("\(glyphs.lambdaSymbol) " + (state.lambda.map { Format.fixed($0.value, 2) } ?? "--"), .text)
            w.write("  step \(state.step)", .text)
            if let d = state.lastEval?.idealDistance { w.write("  dist " + Format.loss(d), .text) }
            if let mc = state.lastMultipleChoice { w.write("  MC acc " + Format.fixed(100 * mc.figures.acc, 1) + "%", .text) }
            w.write("  " + state.activity.label, state.activity.isLive ? .good : .muted)
        }
        if states.count < inner.height, player.timelines.count > inner.height {
            var w = RowWriter(surface, inner, row: inner.height - 1)
            w.write("+\(player.timelines.count - inner.height) more", .muted)
        }
    }

    private func drawTradeoff(_ states: [DashboardState], _ rect: Rect, _ surface: Surface, _ glyphs: Glyphs) {
        let inner = drawFrame(rect, title: "Trade-off (SFT, DPO)", on: surface, glyphs: glyphs)
        var trajectories: [TradeoffPlane.Trajectory] = []
        for (i, state) in states.enumerated() {
            var points: [(sft: Double, dpo: Double)] = []
            var previous: (Int32, Int32) = (0, 0)
            for entry in state.trajectory where entry.sft > 0 && entry.dpo > 0 && (entry.sft, entry.dpo) != previous {
                previous = (entry.sft, entry.dpo)
                points.append((state.sft.smoothed[Int(entry.sft) - 1], state.dpo.smoothed[Int(entry.dpo) - 1]))
            }
            trajectories.append(TradeoffPlane.Trajectory(points: points, role: Role.run(i), currentRole: Role.run(i)))
        }
        let optima = states.lazy.compactMap(\.optima).first
        TradeoffPlane(trajectories: trajectories, ideal: optima.map { ($0.sft, $0.dpo) })
            .draw(on: surface, in: inner, glyphs: glyphs, scratch: planeScratch)
    }

    private func drawProblems(_ player: ReplayPlayer, _ rect: Rect, _ surface: Surface, _ glyphs: Glyphs) {
        let inner = drawFrame(rect, title: "Logs", on: surface, glyphs: glyphs)
        for (i, timeline) in player.timelines.enumerated() where i < inner.height {
            var w = RowWriter(surface, inner, row: i)
            w.write(Self.letter(i) + " ", Role.run(i))
            w.write("\(timeline.count) records", .muted)
            if let problem = timeline.problems.corruptSummary { w.write("  " + problem, .warning) }
        }
    }
}
