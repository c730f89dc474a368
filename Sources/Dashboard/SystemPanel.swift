import Foundation
import Telemetry
import Training

/// The System panel. A run that sends `telemetry` events is shown by them — the machine training runs on, which
/// an attached or replaying viewer is not: GPU utilisation and memory, and the trainer's CPU and resident memory
/// (the Swift trainer samples its own process), each as a curve over the samples so far (`MachineHistory`) with
/// the newest reading, and the devices by name where rows allow (a bridge run's devices come first: one row
/// per rank's GPU). Only a run without telemetry shows the viewer's own process, and says so in the title.
enum SystemPanel {
    static func draw(_ state: DashboardState, _ rect: Rect, _ surface: Surface, _ glyphs: Glyphs) {
        if let sample = state.runGPUs {
            drawRun(sample, history: state.machine, age: state.runGPUSampleAge ?? 0, rect, surface, glyphs)
        } else {
            drawViewer(state, rect, surface, glyphs)
        }
    }

    /// One curve row: a label, the curve, the newest reading.
    private struct Curve {
        var label: String
        var values: [Double?]
        var top: Double
        var reading: String
    }

    private static func drawRun(_ sample: RunGPUSample, history: MachineHistory, age: Double, _ rect: Rect,
                                _ surface: Surface, _ glyphs: Glyphs) {
        let event = sample.event
        let ago = "\(Format.duration(age)) ago"
        let name = event.process.map { "System · run pid \($0.pid)" } ?? "Training GPUs"
        let full = "\(name) · step \(event.step) · \(ago)"
        let inner = drawFrame(rect, title: full.count + 4 <= rect.width ? full : "\(name) · \(ago)", on: surface, glyphs: glyphs)
        guard inner.height >= 1 else { return }
        let points = history.points.isEmpty ? [MachineHistory.Point(time: sample.time, event)] : history.points
        let newest = points[points.count - 1]

        var gpuCurves: [Curve] = []
        if !event.gpus.isEmpty {
            gpuCurves.append(Curve(label: "GPU", values: points.map(\.gpuUtilization), top: 100,
                                   reading: newest.gpuUtilization.map { Format.fixed($0, 0) + "%" } ?? "--%"))
            let top = points.compactMap { $0.gpuMemoryTotalBytes ?? $0.gpuMemoryUsedBytes }.max() ?? 0
            gpuCurves.append(Curve(label: "mem", values: points.map(\.gpuMemoryUsedBytes), top: top,
                                   reading: memoryText(newest)))
        }
        var processCurves: [Curve] = []
        if let process = event.process {
            let cpuTop = max(100, points.compactMap(\.cpuPercent).max() ?? 0)
            processCurves.append(Curve(label: "CPU", values: points.map(\.cpuPercent), top: cpuTop,
                                       reading: process.cpuPercent.map { Format.fixed($0, 0) + "%" } ?? "--%"))
            processCurves.append(Curve(label: "RSS", values: points.map(\.residentBytes),
                                       top: points.compactMap(\.residentBytes).max() ?? 0,
                                       reading: process.residentBytes.map { Format.bytes(UInt64($0)) } ?? "--"))
        }
        let unicode = glyphs.usesBraille
        func draw(_ curve: Curve, at row: Int) { drawCurve(curve, row: row, inner, surface, unicode: unicode) }
        /// Two curves in one row: the first's curve with both readings.
        func drawPair(_ pair: [Curve], at row: Int) {
            guard var curve = pair.first else { return }
            if pair.count > 1 { curve.reading += " " + pair[1].label + " " + pair[1].reading }
            draw(curve, at: row)
        }
        let rows = inner.height
        if event.process == nil, !event.gpus.isEmpty {
            // A bridge run lists every rank's device; the curves take the rows the devices leave.
            let curves = gpuCurves.prefix(max(0, rows - event.gpus.count))
            for (row, curve) in curves.enumerated() { draw(curve, at: row) }
            drawDevices(event.gpus, from: curves.count, rows: rows - curves.count, inner, surface)
        } else if event.gpus.isEmpty {
            // Why there is no GPU, over the rows the process curves leave.
            let note = event.note ?? "the run reported no GPU"
            let lines = TrainingGPUText.wrap(note.hasPrefix("no GPU") ? note : "no GPU: " + note, width: inner.width)
                .prefix(max(1, rows - processCurves.count))
            for (row, line) in lines.enumerated() {
                var w = RowWriter(surface, inner, row: row)
                w.write(line, .muted)
            }
            let left = rows - lines.count
            if left >= processCurves.count {
                for (i, curve) in processCurves.enumerated() { draw(curve, at: lines.count + i) }
            } else if left >= 1 {
                drawPair(processCurves, at: lines.count)
            }
        } else if rows >= 4 {
            // The devices (named), then utilisation with memory's reading, memory, CPU with RSS's reading.
            let devices = min(event.gpus.count, rows - 3)
            drawDevices(event.gpus, from: 0, rows: devices, inner, surface, local: true)
            drawPair(gpuCurves, at: devices)
            draw(gpuCurves[1], at: devices + 1)
            drawPair(processCurves, at: devices + 2)
        } else {
            drawPair(gpuCurves, at: 0)
            if rows >= 2 { drawPair(processCurves, at: 1) }
        }
    }

    private static func memoryText(_ point: MachineHistory.Point) -> String {
        guard let used = point.gpuMemoryUsedBytes else { return "--" }
        let gib = { Format.fixed($0 / 1_073_741_824, 1) }
        return gib(used) + (point.gpuMemoryTotalBytes.map { "/" + gib($0) } ?? "") + "G"
    }

    private static func drawCurve(_ curve: Curve, row: Int, _ inner: Rect, _ surface: Surface, unicode: Bool) {
        var w = RowWriter(surface, inner, row: row)
        let label = curve.label.padding(toLength: 4, withPad: " ", startingAt: 0)
        w.write(label, .title)
        let room = inner.width - label.count - curve.reading.count - 1
        if room >= 3 {
            w.write(Sparkline.text(curve.values, width: room, top: curve.top, unicode: unicode), .gaugeFill)
            w.write(" ")
        }
        w.write(curve.reading, .text)
    }

    /// One row per device in `rows` rows from `first`, "+N more" with their mean use when they do not fit. The
    /// Swift trainer's devices (`local`) are all its own: "GPU0", without host and rank.
    private static func drawDevices(_ gpus: [TelemetryEvent.GPU], from first: Int, rows: Int, _ inner: Rect,
                                    _ surface: Surface, local: Bool = false) {
        guard rows > 0, !gpus.isEmpty else { return }
        let shown = gpus.count <= rows ? gpus.count : rows - 1
        for (i, gpu) in gpus.prefix(shown).enumerated() {
            // Every reading first; the name gets the room left over (GPUs of one run mostly share it).
            let location = local ? "GPU\(gpu.index)" : TrainingGPUText.location(gpu, hostLimit: 12)
            let readings = TrainingGPUText.readings(gpu)
            let room = inner.width - location.count - readings.count - 2
            var w = RowWriter(surface, inner, row: first + i)
            w.write(location + " ", .title)
            if let name = gpu.name, room >= 4 {
                w.write(name.prefix(room).trimmingCharacters(in: .whitespaces) + " ", .muted)
            }
            w.write(readings, .text)
        }
        if shown < gpus.count {
            var w = RowWriter(surface, inner, row: first + shown)
            let rest = Array(gpus[shown...])
            w.write("+\(rest.count) more", .muted)
            if let mean = TrainingGPUText.meanUtilization(rest) { w.write(" · mean " + Format.fixed(mean, 0) + "%", .muted) }
        }
    }

    /// The viewer's own process and GPUs: all there is to show when the run sends no telemetry.
    private static func drawViewer(_ state: DashboardState, _ rect: Rect, _ surface: Surface, _ glyphs: Glyphs) {
        let inner = drawFrame(rect, title: state.system == nil ? "System" : "System · this viewer", on: surface, glyphs: glyphs)
        guard inner.height >= 1 else { return }
        var row = 0
        guard let sample = state.system else {
            var w = RowWriter(surface, inner, row: 0)
            w.write(state.systemUnsampled ?? "sampling…", .muted)
            return
        }
        if sample.gpus.isEmpty {
            var w = RowWriter(surface, inner, row: row)
            w.write("no GPU", .muted)
            if case .none(let reason) = sample.gpuSource { w.write(" (\(reason))", .muted) }
            row += 1
        }
        for gpu in sample.gpus where row < inner.height - 1 {
            var w = RowWriter(surface, inner, row: row)
            w.write("GPU\(gpu.index) ", .title)
            w.write(String(gpu.name.prefix(18)) + " ", .text)
            w.write(gpu.utilizationPercent.map { Format.fixed($0, 0) + "%" } ?? "--%", .text)
            if let used = gpu.memoryUsedMiB {
                w.write(" mem ", .muted)
                w.write(Format.fixed(used / 1024, 1) + (gpu.memoryTotalMiB.map { "/" + Format.fixed($0 / 1024, 1) } ?? "") + "G")
            }
            if let t = gpu.temperatureCelsius { w.write(" " + Format.fixed(t, 0) + "C") }
            if let p = gpu.powerWatts { w.write(" " + Format.fixed(p, 0) + "W") }
            row += 1
        }
        var w = RowWriter(surface, inner, row: min(row, inner.height - 1))
        w.write("CPU ", .muted); w.write(sample.processCPUPercent.map { Format.fixed($0, 0) + "%" } ?? "--")
        w.write("  RSS ", .muted); w.write(sample.residentBytes.map(Format.bytes) ?? "--")
    }
}
