import Dashboard
import Telemetry
import Training
import XCTest

/// A run that reports its own GPUs (the PyTorch bridge's `telemetry` events) is shown by them, labelled as the
/// training GPUs with the sample's age; a local run keeps the local sampler's panel.
final class TrainingGPUPanelTests: XCTestCase {
    private func bridgeRun(upTo lastStep: Int = 30) -> DashboardController {
        let c = DashboardController(run: RecordingSink())
        c.apply(Events.header(strategy: .alright, lambda: 0.5, planned: 100))
        c.apply(Events.started())
        for n in 1...lastStep {
            c.apply(n % 2 == 0 ? Events.step(n, sft: 2 + 3 / Double(n)) : Events.step(n, dpo: 0.2 + 0.5 / Double(n)))
            // Steps are 0.1 s apart; the bridge samples after step 10 (at 1.05 s) and after step 20 (at 2.05 s).
            if n == 10 || n == 20 {
                c.apply(Events.telemetry(step: n, time: 0.1 * Double(n) + 0.05, gpus: [
                    Events.gpu(rank: 0, index: 0, utilization: Double(80 + n)),
                    Events.gpu(rank: 1, index: 1, utilization: 50, power: nil),
                ]))
            }
        }
        return c
    }

    private func screen(_ c: DashboardController, width: Int = 120, height: Int = 40) -> String {
        let surface = TextSurface(width: width, height: height)
        DashboardRenderer().draw(c, on: surface, glyphs: .unicode, colors: true)
        return surface.text
    }

    func test_state_keepsTheNewestSample_andItsAgeOnTheRunClock() throws {
        let c = bridgeRun(upTo: 30)
        let sample = try XCTUnwrap(c.state.runGPUs)
        XCTAssertEqual(sample.event.step, 20)
        XCTAssertEqual(sample.time, 2.05, accuracy: 1e-9)
        XCTAssertEqual(sample.event.gpus.map(\.utilization), [100, 50])
        XCTAssertNil(sample.event.gpus[1].powerWatts, "a reading the board does not report stays absent")
        XCTAssertEqual(c.state.runClock, 3.0, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(c.state.runGPUSampleAge), 0.95, accuracy: 1e-9)
    }

    func test_state_ofARunWithoutTelemetry_hasNoRunGPUs() {
        var state = DashboardState()
        state.apply(Events.started())
        state.apply(Events.step(1, sft: 2))
        XCTAssertNil(state.runGPUs)
        XCTAssertNil(state.runGPUSampleAge)
    }

    func test_panel_showsEveryTrainingGPUWithHostRankIndexNameAndReadings_andTheSampleAge() {
        let c = bridgeRun(upTo: 30)
        // The viewer's own machine has no GPU: the run's devices still win, and the viewer's CPU is not shown.
        c.update(system: SystemSample(gpus: [], gpuSource: .none(reason: "GPU polling off (--no-gpu)"),
                                      processCPUPercent: 3, residentBytes: 1 << 20))
        let text = screen(c)
        XCTAssertTrue(text.contains("Training GPUs · step 20 · 0:01 ago"), text)
        // 46 columns inside: every reading, and the name in what is left.
        XCTAssertTrue(text.contains("│gpu-box r0 GPU0 NVIDI 100% 40.0/80.0G 64C 312W│"), text)
        XCTAssertTrue(text.contains("│gpu-box r1 GPU1 NVIDIA A100 50% 40.0/80.0G 64C"), text)
        XCTAssertFalse(text.contains("50% 40.0/80.0G 64C 312W"), "no invented power reading")
        XCTAssertFalse(text.contains("System"), text)
        XCTAssertFalse(text.contains("GPU polling off"), text)
        XCTAssertFalse(text.contains("RSS"), text)
    }

    func test_panel_isNarrowAt80x24_butStillSaysTheseAreTheTrainingGPUsAndHowOld() {
        let text = screen(bridgeRun(upTo: 30), width: 80, height: 24)
        XCTAssertTrue(text.contains("Training GPUs · 0:01 ago"), text)
        XCTAssertTrue(text.contains("gpu-box r0 GPU0 100% 40.0/80"), "readings before the name when narrow:\n\(text)")
    }

    func test_panel_withMoreGPUsThanRows_listsWhatFitsAndCountsTheRest() {
        let c = bridgeRun(upTo: 2)
        c.apply(Events.telemetry(step: 2, time: 0.25, gpus: (0..<8).map {
            Events.gpu(host: $0 < 4 ? "node-a" : "node-b", rank: $0, index: $0 % 4, utilization: 90)
        }))
        let text = screen(c, width: 120, height: 40)
        for rank in 0..<3 { XCTAssertTrue(text.contains("node-a r\(rank) GPU\(rank) NVIDIA 90%"), text) }
        XCTAssertTrue(text.contains("+5 more · mean 90%"), text)
        XCTAssertFalse(text.contains("r3 GPU3"), text)
    }

    func test_panel_ofARunThatRecordedNoGPU_showsItsNote() {
        let c = bridgeRun(upTo: 2)
        c.apply(Events.telemetry(step: 0, time: 0.01, gpus: [],
                                 note: "no GPU telemetry: nvidia-ml-py (pynvml) is not installed"))
        let text = screen(c, width: 120, height: 32)
        XCTAssertTrue(text.contains("Training GPUs"), text)
        // Wrapped at spaces over the panel's rows (46 columns at 120 wide).
        XCTAssertTrue(text.contains("│no GPU telemetry: nvidia-ml-py (pynvml) is not│"), text)
        XCTAssertTrue(text.contains("│installed "), text)
    }

    func test_panel_ofALocalRun_showsTheLocalSampler() {
        let c = DashboardController(run: RecordingSink())
        c.apply(Events.started())
        c.apply(Events.step(1, sft: 2))
        c.update(system: SystemSample(gpus: [GPUReading(index: 0, name: "RTX 4090", utilizationPercent: 42)],
                                      gpuSource: .nvml, processCPUPercent: 180, residentBytes: 3 << 30))
        let text = screen(c)
        XCTAssertTrue(text.contains("System"), text)
        XCTAssertTrue(text.contains("GPU0 RTX 4090 42%"), text)
        XCTAssertTrue(text.contains("CPU 180%"), text)
        XCTAssertFalse(text.contains("Training GPUs"), text)
    }

    func test_text_summarisesManyGPUs_andSaysWhyThereAreNone() {
        let many = TelemetryEvent(step: 7, gpus: (0..<8).map {
            TelemetryEvent.GPU(host: $0 < 4 ? "a" : "b", rank: $0, index: $0 % 4, utilization: Double(80 + $0),
                               memoryUsedBytes: 1 << 30)
        })
        XCTAssertEqual(TrainingGPUText.summary(many), "training GPUs at step 7: 8 on 2 hosts, mean util 84%, memory 8.0G in use")
        let two = TelemetryEvent(step: 3, gpus: [TelemetryEvent.GPU(host: "h", rank: 0, index: 0, name: "T4", utilization: 5),
                                                 TelemetryEvent.GPU(host: "h", rank: 1, index: 1)])
        XCTAssertEqual(TrainingGPUText.summary(two), "training GPUs at step 3: h r0 GPU0 T4 5% · h r1 GPU1 no readings")
        XCTAssertEqual(TrainingGPUText.summary(TelemetryEvent(step: 0, gpus: [], note: "no GPU: NVML reports 0 devices")),
                       "training GPUs: none (no GPU: NVML reports 0 devices)")
    }

    func test_location_cutsALongHostName() {
        let gpu = TelemetryEvent.GPU(host: "ip-172-31-45-101.ec2.internal", rank: 12, index: 3)
        XCTAssertEqual(TrainingGPUText.location(gpu, hostLimit: 12), "ip-172-31-4… r12 GPU3")
        XCTAssertEqual(TrainingGPUText.location(gpu), "ip-172-31-45-101.ec2.internal r12 GPU3")
    }

    func test_wrap_breaksAtSpacesWithinTheWidth() {
        XCTAssertEqual(TrainingGPUText.wrap("no GPU: NVML is unavailable", width: 12), ["no GPU: NVML", "is", "unavailable"])
        XCTAssertEqual(TrainingGPUText.wrap("abcdefghij", width: 4), ["abcd"])
        XCTAssertEqual(TrainingGPUText.wrap("x", width: 0), [])
    }
}
