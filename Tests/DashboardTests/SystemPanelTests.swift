import Dashboard
import Telemetry
import Training
import XCTest

/// The System panel draws the run's machine from its `telemetry` events — the same events live, attached and in
/// a replay — as curves over the samples with the newest readings; the viewer's own process only when the run
/// sends none, labelled as the viewer's.
final class SystemPanelTests: XCTestCase {
    /// The Swift trainer's sample: its process, and one GPU unless `gpu` is false (then the note says why).
    private func sample(_ i: Int, time: Double, pid: Int = 4242, gpu: Bool = true, cpu: Double? = nil) -> RunRecord {
        let gpus = gpu ? [TelemetryEvent.GPU(host: "box", rank: 0, index: 0, name: "Fake Tensor GPU", utilization: Double(5 * i),
                                             memoryUsedBytes: (i + 1) << 29, memoryTotalBytes: 16 << 30, temperatureC: 61)] : []
        return RunRecord(time: time, event: .telemetry(TelemetryEvent(
            step: i, gpus: gpus, note: gpu ? nil : "no GPU: no NVIDIA driver (libnvidia-ml.so.1) and no nvidia-smi on PATH",
            process: TelemetryEvent.ProcessReading(host: "box", pid: pid, cpuPercent: cpu ?? Double(100 + 10 * i),
                                                   residentBytes: (300 + i) << 20))))
    }

    /// A run of `samples` telemetry events two seconds apart, one step between each.
    private func run(samples: Int, gpu: Bool = true) -> DashboardController {
        let c = DashboardController(run: RecordingSink())
        c.apply(Events.header(strategy: .alright, lambda: 0.5, planned: 100))
        c.apply(Events.started())
        for i in 0..<samples {
            c.apply(sample(i, time: 2 * Double(i), gpu: gpu))
            c.apply(RunRecord(time: 2 * Double(i) + 1, event: Events.step(i + 1, sft: 2).event))
        }
        return c
    }

    private func screen(_ c: DashboardController, width: Int = 120, height: Int = 40, glyphs: Glyphs = .unicode) -> String {
        let surface = TextSurface(width: width, height: height)
        DashboardRenderer().draw(c, on: surface, glyphs: glyphs, colors: true)
        return surface.text
    }

    /// The rows inside the panel whose title starts with `title` (drawn at the frame's x + 3), up to its bottom edge.
    private func panelRows(_ text: String, title: String = "System ·") -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        let t = Array(title)
        guard let top = lines.firstIndex(where: { String($0).contains(title) }) else { return [] }
        let line = lines[top]
        guard let at = (0...(line.count - t.count)).first(where: { Array(line[$0..<($0 + t.count)]) == t }) else { return [] }
        let left = at - 3
        var rows: [String] = []
        for l in lines[(top + 1)...] {
            guard l.count > left, l[left] == "│" || l[left] == "|",
                  let right = l.lastIndex(where: { $0 == "│" || $0 == "|" }), right > left else { break }
            rows.append(String(l[(left + 1)..<right]))
        }
        return rows
    }

    func test_state_keepsEverySampleAsAPointOfTheMachinesHistory() {
        let c = run(samples: 5)
        let points = c.state.machine.points
        XCTAssertEqual(points.map(\.time), [0, 2, 4, 6, 8])
        XCTAssertEqual(points.map(\.gpuUtilization), [0, 5, 10, 15, 20])
        XCTAssertEqual(points.last?.gpuMemoryUsedBytes, Double(5 << 29))
        XCTAssertEqual(points.last?.gpuMemoryTotalBytes, Double(16 << 30))
        XCTAssertEqual(points.map(\.cpuPercent), [100, 110, 120, 130, 140])
        XCTAssertEqual(points.last?.residentBytes, Double(304 << 20))
    }

    func test_history_isBounded_andAResumeDropsWhatWasSampledAfterItsCheckpoint() {
        var state = DashboardState()
        state.apply(Events.started())
        for i in 0..<(MachineHistory.capacity + 10) { state.apply(sample(i, time: Double(i))) }
        XCTAssertLessThanOrEqual(state.machine.points.count, MachineHistory.capacity)
        XCTAssertEqual(state.machine.points.last?.time, Double(MachineHistory.capacity + 9), "the newest are kept")
        state.apply(RunRecord(time: 500.5, event: .started(SessionStarted(step: 50, strategy: .alright, lambda: 0.5,
                                                                           resumedFrom: "checkpoints/step-000050"))))
        XCTAssertEqual(state.machine.points.last?.time, 500)
    }

    func test_panel_drawsTheRunsMachineAsCurves_notTheViewersProcess() {
        let c = run(samples: 20)
        // The viewer (an attach, miles away) has its own small process: never shown while the run reports.
        c.update(system: SystemSample(gpus: [], gpuSource: .none(reason: "GPU polling off (--no-gpu)"),
                                      processCPUPercent: 1, residentBytes: 29 << 20))
        let text = screen(c)
        XCTAssertTrue(text.contains("System · run pid 4242 · step 19 · 0:01 ago"), text)
        let rows = panelRows(text)
        XCTAssertEqual(rows.count, 4, text)
        XCTAssertEqual(rows[0].trimmingCharacters(in: .whitespaces), "GPU0 Fake Tensor GPU 95% 10.0/16.0G 61C")
        XCTAssertTrue(rows[1].hasPrefix("GPU ") && rows[1].hasSuffix(" 95% mem 10.0/16.0G"), rows[1])
        XCTAssertTrue(rows[2].hasPrefix("mem ") && rows[2].hasSuffix(" 10.0/16.0G"), rows[2])
        XCTAssertTrue(rows[3].hasPrefix("CPU ") && rows[3].hasSuffix(" 290% RSS 319 MiB"), rows[3])
        // The utilisation curve rises left to right, one column per sample (20 samples, more columns).
        let curve = rows[1].filter { "▁▂▃▄▅▆▇█".contains($0) }
        XCTAssertEqual(curve.count, 20, rows[1])
        XCTAssertEqual(curve.first, "▁")
        XCTAssertEqual(curve.last, "█")
        XCTAssertFalse(text.contains("this viewer"), text)
        XCTAssertFalse(text.contains("29 MiB"), "the viewer's RSS is not the run's:\n\(text)")
    }

    func test_panel_at80x24_pairsTheReadingsIntoTwoRows() {
        let text = screen(run(samples: 3), width: 80, height: 24)
        let rows = panelRows(text)
        XCTAssertEqual(rows.count, 2, text)
        XCTAssertTrue(rows[0].hasPrefix("GPU ") && rows[0].hasSuffix(" 10% mem 1.5/16.0G"), rows[0])
        XCTAssertTrue(rows[1].hasPrefix("CPU ") && rows[1].hasSuffix(" 120% RSS 302 MiB"), rows[1])
    }

    func test_panel_withoutAGPU_saysWhyAndDrawsTheProcess() {
        let text = screen(run(samples: 4, gpu: false))
        let rows = panelRows(text)
        XCTAssertEqual(rows.count, 4, text)
        XCTAssertEqual(rows[0].trimmingCharacters(in: .whitespaces), "no GPU: no NVIDIA driver (libnvidia-ml.so.1)")
        XCTAssertEqual(rows[1].trimmingCharacters(in: .whitespaces), "and no nvidia-smi on PATH")
        XCTAssertTrue(rows[2].hasPrefix("CPU ") && rows[2].hasSuffix("130%"), rows[2])
        XCTAssertTrue(rows[3].hasPrefix("RSS ") && rows[3].hasSuffix("303 MiB"), rows[3])
    }

    func test_panel_inASCII_drawsTheCurvesWithASCII() {
        let text = screen(run(samples: 8), glyphs: .ascii)
        let rows = panelRows(text, title: "System | run pid 4242")
        XCTAssertEqual(rows.count, 4, text)
        XCTAssertFalse(text.contains("▁"), text)
        // Utilisation 0, 5, … 35 % of 100: the floor, then a step up.
        let curve = rows[1].dropFirst(4).filter { $0 != " " }
        XCTAssertEqual(String(curve.prefix(8)), "__...---", rows[1])
    }

    func test_panel_ofARunWithoutTelemetry_showsTheViewerLabelledAsSuch() {
        let c = DashboardController(run: RecordingSink())
        c.apply(Events.started())
        c.update(system: SystemSample(gpus: [], gpuSource: .none(reason: "GPU polling off (--no-gpu)"),
                                      processCPUPercent: 1, residentBytes: 29 << 20))
        let text = screen(c)
        XCTAssertTrue(text.contains("System · this viewer"), text)
        XCTAssertTrue(text.contains("RSS 29 MiB"), text)
    }

    func test_replay_showsTheMachineAtTheScrubbedTime() throws {
        var records: [RunRecord] = [Events.started()]
        for i in 0..<10 {
            records.append(sample(i, time: 2 * Double(i), cpu: Double(100 + i)))
            records.append(RunRecord(time: 2 * Double(i) + 1, event: Events.step(i + 1, sft: 2).event))
        }
        guard case .header(let header) = Events.header(planned: 10).event else { return XCTFail("no header") }
        var timeline = ReplayTimeline(name: "run", header: header)
        timeline.append(contentsOf: records)
        let player = ReplayPlayer(timelines: [timeline])
        XCTAssertEqual(player.controllers[0].state.runGPUs?.event.process?.cpuPercent, 109, "opens at the end")
        player.seek(to: 9.5)
        let state = player.controllers[0].state
        XCTAssertEqual(state.runGPUs?.event.process?.cpuPercent, 104, "the sample taken at 8 s stands at 9.5 s")
        XCTAssertEqual(state.machine.points.count, 5)
        let surface = TextSurface(width: 120, height: 40)
        ReplayRenderer().draw(player, on: surface, glyphs: .unicode, colors: true)
        XCTAssertTrue(surface.text.contains("System · run pid 4242 · step 4"), surface.text)
        XCTAssertTrue(surface.text.contains("104% RSS 304 MiB"), surface.text)
        XCTAssertFalse(surface.text.contains("not in the run log"), surface.text)
    }

    func test_sparkline_takesEachColumnsPeak_rightAligned() {
        XCTAssertEqual(Sparkline.text([0, 50, 100], width: 5, top: 100, unicode: true), "  ▁▅█")
        XCTAssertEqual(Sparkline.text([0, 100, 0, 0], width: 2, top: 100, unicode: true), "█▁", "a spike is not averaged away")
        XCTAssertEqual(Sparkline.text([nil, 100], width: 2, top: 100, unicode: true), " █", "a missing reading is a blank")
        XCTAssertEqual(Sparkline.text([0, 100], width: 2, top: 100, unicode: false), "_#")
        XCTAssertEqual(Sparkline.text([], width: 4, top: 1, unicode: true), "")
        XCTAssertEqual(Sparkline.text([5], width: 1, top: 0, unicode: true), "▁", "no scale: the floor")
    }
}
