import Foundation
import Training

/// Draws a panel's frame with its title; returns the inside.
func drawFrame(_ rect: Rect, title: String, on surface: Surface, glyphs: Glyphs) -> Rect {
    guard rect.width >= 2, rect.height >= 2 else { return Rect(x: rect.x, y: rect.y, width: 0, height: 0) }
    let right = rect.maxX - 1, bottom = rect.maxY - 1
    surface.put(glyphs.topLeft, x: rect.x, y: rect.y, role: .border)
    surface.put(glyphs.topRight, x: right, y: rect.y, role: .border)
    surface.put(glyphs.bottomLeft, x: rect.x, y: bottom, role: .border)
    surface.put(glyphs.bottomRight, x: right, y: bottom, role: .border)
    for x in (rect.x + 1)..<right {
        surface.put(glyphs.horizontal, x: x, y: rect.y, role: .border)
        surface.put(glyphs.horizontal, x: x, y: bottom, role: .border)
    }
    for y in (rect.y + 1)..<bottom {
        surface.put(glyphs.vertical, x: rect.x, y: y, role: .border)
        surface.put(glyphs.vertical, x: right, y: y, role: .border)
    }
    surface.put(" \(title) ", x: rect.x + 2, y: rect.y, role: .title, clip: Rect(x: rect.x + 1, y: rect.y, width: rect.width - 2, height: 1))
    return rect.inset(1)
}

/// Writes label/value runs left to right on one row; stops at the rect's edge.
struct RowWriter {
    let surface: Surface
    let clip: Rect
    var x: Int
    let y: Int

    init(_ surface: Surface, _ rect: Rect, row: Int) {
        self.surface = surface
        clip = rect
        x = rect.x
        y = rect.y + row
    }

    mutating func write(_ text: String, _ role: Role = .text) {
        guard y < clip.maxY else { return }
        surface.put(text, x: x, y: y, role: role, clip: clip)
        x += text.unicodeScalars.count
    }
}

/// The five panels, the event line and the footer, drawn from the controller's state and view.
public final class DashboardRenderer {
    private let sftScratch = LineChart.Scratch()
    private let dpoScratch = LineChart.Scratch()
    private let planeScratch = LineChart.Scratch()
    private var planePoints: [(sft: Double, dpo: Double)] = []
    /// What `planePoints` was built from: the series' generations, the trajectory entries read (and the last of
    /// them) and the last one kept as a point, so a frame after new steps reads only the new entries (a long run
    /// has 10⁵ of them).
    private var planeSource: (sft: Int, dpo: Int, entries: Int, lastEntry: (Int32, Int32), kept: (Int32, Int32))
        = (-1, -1, 0, (0, 0), (0, 0))
    private var planeGeneration = 0

    public init() {}

    /// Draws a whole frame; the caller has cleared the surface.
    public func draw(_ controller: DashboardController, on target: Surface, glyphs: Glyphs, colors: Bool) {
        let surface: Surface = glyphs.usesBraille ? target : ASCIISurface(target)
        guard let layout = DashboardLayout.compute(width: surface.width, height: surface.height) else {
            drawTooSmall(on: surface, question: controller.mode == .confirmQuit ? "Stop the run? y stop · n keep training" : nil)
            return
        }
        let state = controller.state, view = controller.view
        let samples = SamplesPanel(book: state.samples, compare: view.compareSamples, live: controller.canCommand)
        if view.showSamples {
            // In place of the loss charts (with the panel below them when the screen has one: the whole column).
            let below = layout.samples?.height ?? 0
            samples.draw(on: surface, in: Rect(x: layout.losses.x, y: layout.losses.y, width: layout.losses.width,
                                               height: layout.losses.height + below), glyphs: glyphs)
        } else {
            drawLosses(state, view, layout.losses, surface, glyphs)
            if let rect = layout.samples { samples.draw(on: surface, in: rect, glyphs: glyphs) }
        }
        drawObjective(state, layout.objective, surface, glyphs, letters: !colors)
        drawControl(state, controller.mode, layout.control, surface, glyphs)
        drawTradeoff(state, layout.tradeoff, surface, glyphs)
        SystemPanel.draw(state, layout.system, surface, glyphs)
        drawEvents(state, layout.events, surface)
        drawFooter(controller, layout.footer, surface, glyphs)
        if view.showHelp { HelpOverlay.draw(on: surface, glyphs: glyphs) }
    }

    /// The message, word-wrapped to whatever width there is; a pending question (quit?) comes first, so a key
    /// pressed on a tiny screen never opens a prompt nobody can see.
    func drawTooSmall(on surface: Surface, question: String? = nil) {
        var paragraphs: [(String, Role)] = [
            ("Terminal too small: \(surface.width)x\(surface.height).", .warning),
            ("xright needs at least \(DashboardLayout.minimumWidth)x\(DashboardLayout.minimumHeight).", .text),
            ("Enlarge the window; q quits.", .text),
        ]
        if let question { paragraphs.insert((question, .selected), at: 0) }
        let lines = paragraphs.flatMap { text, role in Self.wrap(text, width: max(1, surface.width)).map { ($0, role) } }
        let top = max(0, (surface.height - lines.count) / 2)
        for (i, (line, role)) in lines.prefix(surface.height).enumerated() {
            surface.put(line, x: max(0, (surface.width - line.count) / 2), y: top + i, role: role)
        }
    }

    /// Greedy word wrap; a word longer than the width is cut into pieces.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            var word = String(word)
            while word.count > width {
                if !current.isEmpty { lines.append(current); current = "" }
                lines.append(String(word.prefix(width)))
                word = String(word.dropFirst(width))
            }
            if current.isEmpty { current = word }
            else if current.count + 1 + word.count <= width { current += " " + word }
            else { lines.append(current); current = word }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    // MARK: Losses

    private func drawLosses(_ state: DashboardState, _ view: ViewSettings, _ rect: Rect, _ surface: Surface, _ glyphs: Glyphs) {
        let inner = drawFrame(rect, title: "Losses", on: surface, glyphs: glyphs)
        guard inner.height >= 4 else { return }
        var headerClip = inner
        if let mc = state.lastMultipleChoice {
            // The --eval-suite's newest figures, right-aligned on the header row; the view settings keep what is left.
            let text = "MC acc \(Format.fixed(100 * mc.figures.acc, 1))% norm \(Format.fixed(100 * mc.figures.accNorm, 1))% @\(mc.step)"
            let x = max(inner.x, inner.maxX - text.count)
            surface.put(text, x: x, y: inner.y, role: .evalMark, clip: inner)
            headerClip = Rect(x: inner.x, y: inner.y, width: max(0, x - inner.x - 1), height: 1)
        }
        var header = RowWriter(surface, headerClip, row: 0)
        header.write(view.smoothingWeight == 0 ? "raw" : "EMA \(view.smoothingWeight)", .muted)
        header.write(" · \(view.logScale ? "log" : "linear")", .muted)
        header.write(" · x: \(view.axis == .step ? "step" : "time")", .muted)
        if case .last(let n) = view.zoom { header.write(" · last \(Int(n))", .muted) }
        header.write(" · \(glyphs.evalMark) eval", .evalMark)

        let (_, charts) = inner.splitTop(1)
        let (top, bottom) = charts.splitTop(charts.height / 2)
        let xRange = self.xRange(state, view)
        drawLossChart(.sft, state, view, top, surface, glyphs, xRange, sftScratch)
        drawLossChart(.dpo, state, view, bottom, surface, glyphs, xRange, dpoScratch)
    }

    private func xRange(_ state: DashboardState, _ view: ViewSettings) -> (Double, Double) {
        let byStep = view.axis == .step
        let last = max(byStep ? Double(state.step) : state.elapsedSeconds,
                       byStep ? (state.sft.steps.last ?? 0) : (state.sft.times.last ?? 0),
                       byStep ? (state.dpo.steps.last ?? 0) : (state.dpo.times.last ?? 0))
        let first = byStep ? min(state.sft.steps.first ?? last, state.dpo.steps.first ?? last)
                           : min(state.sft.times.first ?? last, state.dpo.times.first ?? last)
        switch view.zoom {
        case .whole: return (first, NiceRange.ceiling(max(last, first + 1)))
        case .last(let n): return (max(first, last - n), max(last, first + 1))
        }
    }

    private func drawLossChart(_ objective: Objective, _ state: DashboardState, _ view: ViewSettings, _ rect: Rect,
                               _ surface: Surface, _ glyphs: Glyphs, _ xRange: (Double, Double), _ scratch: LineChart.Scratch) {
        guard rect.height >= 3 else { return }
        let series = state.series(objective)
        let (smoothRole, rawRole): (Role, Role) = objective == .sft ? (.sftSmooth, .sftRaw) : (.dpoSmooth, .dpoRaw)
        var legend = RowWriter(surface, rect, row: 0)
        legend.write(objective == .sft ? "SFT " : "DPO ", smoothRole)
        if let last = series.last {
            legend.write(Format.loss(last), .text)
            if view.smoothingWeight > 0, let s = series.lastSmoothed { legend.write("  ema ", .muted); legend.write(Format.loss(s), smoothRole) }
            if let m = series.minimum { legend.write("  min ", .muted); legend.write(Format.loss(m), .text) }
            if let e = state.evals(objective).last { legend.write("  eval ", .muted); legend.write(Format.loss(e.loss), .evalMark) }
        } else {
            legend.write("no steps yet", .muted)
        }
        let xs = view.axis == .step ? series.steps : series.times
        // The axis choice is part of the generation: step and time curves share the cache slots.
        let generation = series.generation * 2 + (view.axis == .step ? 0 : 1)
        var curves = [LineChart.Curve(xs: xs, ys: series.raw, role: rawRole, generation: generation)]
        if view.smoothingWeight > 0 {
            curves.append(LineChart.Curve(xs: xs, ys: series.smoothed, role: smoothRole, generation: generation))
        }
        var chart = LineChart(curves: curves, xRange: xRange, logScale: view.logScale,
                              xLabel: view.axis == .step ? { String(Int($0)) } : { Format.duration($0) })
        chart.marks = state.evals(objective).map { (view.axis == .step ? Double($0.step) : $0.time, $0.loss) }
        let (_, plot) = rect.splitTop(1)
        chart.draw(on: surface, in: plot, glyphs: glyphs, scratch: scratch)
    }

    // MARK: Objective choice

    private func drawObjective(_ state: DashboardState, _ rect: Rect, _ surface: Surface, _ glyphs: Glyphs, letters: Bool) {
        let inner = drawFrame(rect, title: "Objective choice", on: surface, glyphs: glyphs)
        guard inner.height >= 1 else { return }
        ObjectiveStrip(choices: state.recentChoices, total: state.stepsTaken)
            .draw(on: surface, x: inner.x, y: inner.y, width: inner.width, glyphs: glyphs, letters: letters)
        var share = RowWriter(surface, inner, row: 1)
        share.write("DPO share ", .muted)
        share.write(state.dpoShare.map { Format.fixed(100 * $0, 1) + "%" } ?? "--", .dpoSmooth)
        share.write("  \(glyphs.lambdaSymbol) ", .muted)
        share.write(state.lambda.map { Format.fixed($0.value, 2) } ?? "--", .text)
        let recent = state.recentChoices.suffix(100)
        if !recent.isEmpty {
            let dpo = recent.filter { $0 == .dpo || $0 == .both }.count
            share.write("  last \(recent.count): ", .muted)
            share.write(Format.fixed(100 * Double(dpo) / Double(recent.count), 0) + "%", .text)
        }
        var detail = RowWriter(surface, inner, row: 2)
        if let gaps = state.gaps {
            detail.write("gaps  SFT ", .muted); detail.write(Format.loss(gaps.sft), .sftSmooth)
            detail.write("  DPO ", .muted); detail.write(Format.loss(gaps.dpo), .dpoSmooth)
            detail.write("  → \(gaps.dpo > gaps.sft ? "DPO" : "SFT")", .text)
        } else if let phase = state.phase {
            detail.write("phase ", .muted)
            detail.write(phase == .sft ? "SFT" : "DPO", phase == .sft ? .sftSmooth : .dpoSmooth)
            detail.write("  epoch \(state.epoch + 1)\(state.maxEpochs.map { "/\($0)" } ?? "")", .muted)
        } else if state.stepsTaken > 0 {
            detail.write(letters ? "S = SFT  D = DPO  M = both" : "", .muted)
            if !letters {
                detail.write(String(glyphs.stripCell), .sftSmooth); detail.write(" SFT  ", .muted)
                detail.write(String(glyphs.stripCell), .dpoSmooth); detail.write(" DPO  ", .muted)
                detail.write(String(glyphs.stripCell), .mix); detail.write(" both", .muted)
            }
        }
    }

    // MARK: Control

    private func drawControl(_ state: DashboardState, _ mode: DashboardController.InputMode, _ rect: Rect,
                             _ surface: Surface, _ glyphs: Glyphs) {
        let inner = drawFrame(rect, title: "Control", on: surface, glyphs: glyphs)
        var row0 = RowWriter(surface, inner, row: 0)
        row0.write(state.strategy?.rawValue ?? "--", .title)
        row0.write("  ")
        let activityRole: Role = {
            switch state.activity {
            case .running: return .good
            case .paused, .stopping: return .warning
            case .waiting: return .muted
            case .finished(let f): return f.reason == .failed || f.reason == .nonFinite ? .error : .muted
            }
        }()
        row0.write(state.activity.label.uppercased(), activityRole)

        var row1 = RowWriter(surface, inner, row: 1)
        row1.write("\(glyphs.lambdaSymbol) ", .muted)
        let gaugeWidth = max(4, inner.width - row1.x + inner.x - 12)
        Gauge(fraction: state.lambda?.value ?? 0).draw(on: surface, x: row1.x, y: row1.y, width: gaugeWidth, glyphs: glyphs)
        row1.x += gaugeWidth
        row1.write(" " + (state.lambda.map { Format.fixed($0.value, 2) } ?? "--"), .text)
        if let pending = state.pendingCommands.last(where: { if case .setLambda = $0 { return true } else { return false } }),
           case .setLambda(let l) = pending {
            row1.write(" →" + Format.fixed(l.value, 2), .warning)
        }

        var row2 = RowWriter(surface, inner, row: 2)
        row2.write("\(glyphs.betaSymbol) ", .muted); row2.write(state.beta.map { Format.loss($0) } ?? "--")
        row2.write("  lr ", .muted); row2.write(state.learningRate.map { Format.loss($0) } ?? "--")

        var row3 = RowWriter(surface, inner, row: 3)
        row3.write("step ", .muted)
        row3.write("\(state.step)" + (state.plannedSteps.map { "/\($0)" } ?? ""), .text)
        row3.write("  epoch ", .muted)
        row3.write("\(state.epoch + 1)" + (state.maxEpochs.map { "/\($0)" } ?? ""), .text)

        var row4 = RowWriter(surface, inner, row: 4)
        row4.write("tok/s ", .muted); row4.write(state.tokensPerSecond.map { Format.count($0) } ?? "--")
        row4.write("  elapsed ", .muted); row4.write(Format.duration(state.elapsedSeconds))

        var row5 = RowWriter(surface, inner, row: 5)
        row5.write("ETA ", .muted); row5.write(state.etaSeconds.map { Format.duration($0) } ?? "--")
        if let planned = state.plannedSteps, planned > 0 {
            row5.write("  ")
            let width = max(0, inner.maxX - row5.x)
            Gauge(fraction: Double(state.step) / Double(planned)).draw(on: surface, x: row5.x, y: row5.y, width: width, glyphs: glyphs)
        }
        var row6 = RowWriter(surface, inner, row: 6)
        row6.write("tokens ", .muted); row6.write(Format.count(Double(state.tokensSeen)))
        if let d = state.lastEval?.idealDistance { row6.write("  ideal dist ", .muted); row6.write(Format.loss(d)) }
    }

    // MARK: Trade-off

    private func drawTradeoff(_ state: DashboardState, _ rect: Rect, _ surface: Surface, _ glyphs: Glyphs) {
        let inner = drawFrame(rect, title: "Trade-off (SFT, DPO)", on: surface, glyphs: glyphs)
        let trajectory = state.trajectory
        var source = planeSource
        // Entries are only appended while both series keep their generation; anything else (a smoothing change,
        // a resume's truncation, another run's state) rebuilds from the start.
        let extendsLast = source.sft == state.sft.generation && source.dpo == state.dpo.generation
            && source.entries <= trajectory.count
            && (source.entries == 0 || (trajectory[source.entries - 1].sft, trajectory[source.entries - 1].dpo) == source.lastEntry)
        if !extendsLast {
            planePoints.removeAll(keepingCapacity: true)
            planeGeneration += 1
            source = (state.sft.generation, state.dpo.generation, 0, (0, 0), (0, 0))
        }
        // One point per change of either smoothed loss is enough (mix steps change both, alright one).
        for i in source.entries..<trajectory.count {
            let entry = trajectory[i]
            guard entry.sft > 0, entry.dpo > 0, (entry.sft, entry.dpo) != source.kept else { continue }
            source.kept = (entry.sft, entry.dpo)
            planePoints.append((state.sft.smoothed[Int(entry.sft) - 1], state.dpo.smoothed[Int(entry.dpo) - 1]))
        }
        source.entries = trajectory.count
        source.lastEntry = trajectory.last.map { ($0.sft, $0.dpo) } ?? (0, 0)
        planeSource = source
        TradeoffPlane(trajectories: [TradeoffPlane.Trajectory(points: planePoints, generation: planeGeneration)],
                      ideal: state.optima.map { ($0.sft, $0.dpo) })
            .draw(on: surface, in: inner, glyphs: glyphs, scratch: planeScratch)
    }

    // MARK: Events and footer

    private func drawEvents(_ state: DashboardState, _ rect: Rect, _ surface: Surface) {
        var rect = rect
        // Inside a slow step: where it is and for how long, at the right of the last row (messages keep the rest).
        if let progress = state.stepProgress?.progress, let seconds = state.progressSeconds() {
            let text = "\(progress.summary) · \(Format.fixed(seconds, 1))s "
            let x = max(rect.x, rect.maxX - text.count)
            surface.put(text, x: x, y: rect.maxY - 1, role: .warning, clip: rect)
            if rect.height == 1 { rect.width = max(0, x - rect.x - 1) }
        }
        let shown = state.messages.suffix(rect.height)
        let firstRow = rect.maxY - shown.count
        for (i, message) in shown.enumerated() {
            let role: Role = {
                switch message.kind {
                case .info: return .text
                case .acknowledged: return .good
                case .refused: return .warning
                case .warning: return .error
                }
            }()
            surface.put(message.text, x: rect.x + 1, y: firstRow + i, role: role, clip: rect)
        }
    }

    private func drawFooter(_ controller: DashboardController, _ rect: Rect, _ surface: Surface, _ glyphs: Glyphs) {
        var w = RowWriter(surface, rect, row: 0)
        w.write(" ")
        switch controller.mode {
        case .normal:
            w.write(KeyTable.footer(width: rect.width - 2, lambdaSymbol: glyphs.lambdaSymbol), .muted)
        case .lambdaEntry(let typed):
            w.write("\(glyphs.lambdaSymbol) = ", .title)
            w.write(typed + "_", .selected)
            w.write("   Enter apply · Esc cancel", .muted)
        case .strategyChoice(let index):
            w.write("strategy: ", .title)
            for (i, name) in StrategyName.allCases.enumerated() {
                w.write(i == index ? "[\(name.rawValue)]" : " \(name.rawValue) ", i == index ? .selected : .text)
            }
            w.write("  ←/→ Enter Esc", .muted)
        case .confirmQuit:
            w.write("Stop the run? A checkpoint is written first.  y stop and quit · n keep training", .warning)
        }
    }
}

/// The `?` overlay: key bindings in a box in the middle of the screen (the live dashboard's and the replay's).
enum HelpOverlay {
    /// The live dashboard's: every binding from the key table.
    static func draw(on surface: Surface, glyphs: Glyphs) {
        let lines = KeyTable.bindings.map { b -> String in
            let label = b.label.replacingOccurrences(of: "λ", with: glyphs.lambdaSymbol)
            return label.padding(toLength: 6, withPad: " ", startingAt: 0) + b.help.replacingOccurrences(of: "λ", with: glyphs.lambdaSymbol)
        }
        draw(lines, title: "Keys (? or Esc closes)", on: surface, glyphs: glyphs)
    }

    static func draw(_ lines: [String], title: String, on surface: Surface, glyphs: Glyphs) {
        let width = min(surface.width - 2, (lines.map(\.count).max() ?? 0) + 4)
        let height = min(surface.height - 2, lines.count + 4)
        let box = Rect(x: (surface.width - width) / 2, y: (surface.height - height) / 2, width: width, height: height)
        surface.fill(box)
        let inner = drawFrame(box, title: title, on: surface, glyphs: glyphs)
        for (i, line) in lines.enumerated() where i + 1 < inner.height {
            surface.put(line, x: inner.x + 1, y: inner.y + 1 + i, role: .text, clip: inner)
        }
    }
}
