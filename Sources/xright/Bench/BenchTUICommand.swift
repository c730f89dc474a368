#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Dashboard
import Engine
import Foundation
import Training

/// `xright bench tui`: what the dashboard costs. Draw time per frame with long curves, bytes sent to a terminal
/// per second (read from a pty), keypress-to-screen latency, and training tokens/s with the dashboard open
/// against headless.
struct BenchTUICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "Dashboard draw time, terminal bytes/s, key latency and its cost to training throughput.",
        discussion: """
            Draw time: frames of a 200×60 dashboard whose SFT and DPO curves hold --points points each, drawn \
            off-screen (widgets, downsampling, layout; not the terminal write). Bytes/s and key latency: a child \
            xright runs the dashboard in a 120×40 pseudo-terminal and the bytes it writes are counted. Training: \
            the child alternates headless and dashboard phases of the demo model (--rounds dashboard phases, each \
            between two headless ones); each dashboard phase is compared with the mean of its two neighbours, and \
            the median ratio is reported with its spread, since one pair on a shared machine says little.
            """)

    @Option(help: "Points per curve for the draw-time figure.")
    var points: Int = 100_000

    @Option(help: "Frames to time.")
    var frames: Int = 60

    @Option(help: "Seconds of steady state over which bytes/s is counted.")
    var seconds: Double = 5

    @Option(help: "Dashboard phases to compare with headless ones (each between two headless phases).")
    var rounds: Int = 3

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: .hidden) var childReport: String?
    @Option(help: .hidden) var phaseSeconds: Double = 4

    func validate() throws {
        guard points >= 1 else { throw ValidationError("--points must be at least 1, got \(points)") }
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1, got \(frames)") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
    }

    func run() throws {
        if let childReport { return try TUIBenchChild.run(report: childReport, phaseSeconds: phaseSeconds, rounds: rounds) }
        let progress = ProgressLine()
        progress.update("bench tui: folding \(points) steps into the dashboard state…")
        let draw = try TUIBenchDraw.measure(points: points, frames: frames)
        progress.update("bench tui: dashboard in a 120×40 pty (≈\(Int(phaseSeconds * Double(2 * rounds + 1) + seconds + 10)) s)…")
        let pty = try TUIBenchPTY.measure(steadySeconds: seconds, phaseSeconds: phaseSeconds, rounds: rounds)
        let ratios = pty.ratios.sorted()
        progress.finish()
        let result = TUIBenchResult(
            pointsPerCurve: points, drawMsMedian: draw.median * 1000, drawMsMax: draw.max * 1000,
            bytesPerSecond120x40: pty.bytesPerSecond, keyToScreenMsMedian: pty.keyLatencyMedian * 1000,
            keyToScreenMsMax: pty.keyLatencyMax * 1000, tokensPerSecondHeadless: pty.headless.reduce(0, +) / Double(pty.headless.count),
            tokensPerSecondDashboard: pty.dashboard.reduce(0, +) / Double(pty.dashboard.count),
            throughputRatio: ratios[ratios.count / 2], throughputRatioMin: ratios.first!, throughputRatioMax: ratios.last!,
            throughputRatios: pty.ratios,
            trainingLoad: "the engine: demo preset on the demo task, ALRIGHT λ 0.5")
        if json {
            print(try JSONOutput.string(result))
        } else {
            print("""
                dashboard benchmark
                  draw 200×60, \(points) points/curve   median \(fmt(result.drawMsMedian, 2)) ms, max \(fmt(result.drawMsMax, 2)) ms   (goal: median < 2 ms)
                  bytes to terminal, 120×40       \(fmt(result.bytesPerSecond120x40, 0)) B/s   (goal < 8192)
                  key to changed screen           median \(fmt(result.keyToScreenMsMedian, 1)) ms, max \(fmt(result.keyToScreenMsMax, 1)) ms   (goal < 50 ms)
                  training tokens/s               headless \(fmt(result.tokensPerSecondHeadless, 0)), dashboard open \(fmt(result.tokensPerSecondDashboard, 0)), ratio median \(fmt(result.throughputRatio, 3)), \(fmt(result.throughputRatioMin, 3))–\(fmt(result.throughputRatioMax, 3)) over \(ratios.count) rounds   (goal ≥ 0.97; \(result.trainingLoad))
                """)
        }
    }
}

struct TUIBenchResult: Encodable {
    var pointsPerCurve: Int
    var drawMsMedian: Double
    var drawMsMax: Double
    var bytesPerSecond120x40: Double
    var keyToScreenMsMedian: Double
    var keyToScreenMsMax: Double
    var tokensPerSecondHeadless: Double
    var tokensPerSecondDashboard: Double
    /// The median over the rounds of dashboard tokens/s ÷ the mean of the two headless phases around it.
    var throughputRatio: Double
    var throughputRatioMin: Double
    var throughputRatioMax: Double
    var throughputRatios: [Double]
    var trainingLoad: String
}

enum TUIBenchDraw {
    /// Folds `points` mix steps (one SFT and one DPO loss each) from a real session, then times whole frames.
    static func measure(points: Int, frames: Int) throws -> (median: Double, max: Double) {
        let (session, _) = try BenchTUILoad.makeSession(strategy: .mix, steps: points, secondsPerStep: 0,
                                                               tokensPerBatch: 1, iterationsPerToken: 0)
        let controller = DashboardController(run: session)
        session.subscribe { controller.apply($0) }
        try session.run()
        let surface = TextSurface(width: 200, height: 60)
        let renderer = DashboardRenderer()
        var times: [Double] = []
        for _ in 0..<frames {
            let start = DispatchTime.now().uptimeNanoseconds
            surface.clear()
            renderer.draw(controller, on: surface, glyphs: .unicode, colors: true)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        return (times[times.count / 2], times.last!)
    }
}

/// The child side: trains headless, with the dashboard on its (pseudo-)terminal, then headless again; reports tokens/s.
enum TUIBenchChild {
    /// tokens/s of each phase: headless[i] and headless[i + 1] are the phases around dashboard[i].
    struct Report: Codable { var headless: [Double]; var dashboard: [Double] }

    /// Tokens/s over the steps seen before the first pause.
    final class Meter {
        private let lock = NSLock()
        private var tokens = 0, first: Double?, last: Double?, firstTokens = 0, stopped = false

        func observe(_ record: RunRecord) {
            lock.lock()
            defer { lock.unlock() }
            switch record.event {
            case .step(let s) where !stopped:
                if first == nil { first = s.elapsedSeconds; firstTokens = s.tokens }
                tokens += s.tokens
                last = s.elapsedSeconds
            case .paused: stopped = true
            default: break
            }
        }

        var tokensPerSecond: Double {
            lock.lock()
            defer { lock.unlock() }
            guard let first, let last, last > first else { return 0 }
            return Double(tokens - firstTokens) / (last - first)
        }
    }

    /// The real engine on the demo model and task, no run directory: what `xright demo` trains.
    static func engineSession() throws -> TrainingSession {
        let training = TrainingConfig(strategy: .alright, lambda: try Lambda(0.5), maxEpochs: 10_000, maxSteps: 1_000_000,
                                      evalEvery: nil, checkpointOnFinish: false)
        return try RunSetup.prepare(RunOptions(modelPreset: "demo", training: training), runDirectory: nil,
                                    programVersion: XRightVersion.string).session
    }

    static func run(report: String, phaseSeconds: Double, rounds: Int) throws {
        EngineThreads.configure()
        // Headless and dashboard phases alternate, starting and ending headless: each dashboard phase is compared
        // with the mean of the two around it, so warm-up and drift of the shared machine do not count for or
        // against the dashboard, and several rounds show how much one comparison varies.
        var headless = [try headlessPhase(seconds: phaseSeconds)]
        var dashboard: [Double] = []
        for round in 0..<rounds {
            // The first dashboard phase is the one the parent measures on the pty and closes (q, y); the others
            // stop themselves after the phase.
            dashboard.append(try dashboardPhase(seconds: round == 0 ? nil : phaseSeconds))
            headless.append(try headlessPhase(seconds: phaseSeconds))
        }
        let data = try JSONEncoder().encode(Report(headless: headless, dashboard: dashboard))
        try data.write(to: URL(fileURLWithPath: report))
    }

    /// Training with the dashboard open, until `seconds` pass (nil: until the dashboard is closed).
    private static func dashboardPhase(seconds: Double?) throws -> Double {
        let live = try engineSession()
        let meter = Meter()
        live.subscribe(meter.observe)
        var options = DashboardOptions(pollGPU: false)
        options.exitWhenFinished = seconds != nil
        try Dashboard.run(session: live, options: options) {
            try live.start()
            if let seconds { DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { live.send(.stop) } }
        }
        _ = live.waitUntilFinished(timeout: 10)
        return meter.tokensPerSecond
    }

    private static func headlessPhase(seconds: Double) throws -> Double {
        let session = try engineSession()
        let meter = Meter()
        session.subscribe(meter.observe)
        try session.start()
        Thread.sleep(forTimeInterval: seconds)
        session.send(.stop)
        _ = session.waitUntilFinished(timeout: 10)
        return meter.tokensPerSecond
    }
}

/// The parent side: the child on a 120×40 pty, every byte it writes counted with its arrival time.
enum TUIBenchPTY {
    struct Result {
        var bytesPerSecond: Double
        var keyLatencyMedian: Double
        var keyLatencyMax: Double
        /// tokens/s of each phase, and each dashboard phase over the mean of its two headless neighbours.
        var headless: [Double]
        var dashboard: [Double]
        var ratios: [Double] {
            dashboard.indices.map { i in dashboard[i] / max(1e-9, (headless[i] + headless[i + 1]) / 2) }
        }
    }

    static func now() -> Double { PseudoTerminalChild.now() }

    static func measure(steadySeconds: Double, phaseSeconds: Double, rounds: Int) throws -> Result {
        let reportPath = FileManager.default.temporaryDirectory.appendingPathComponent("xright-tui-bench-\(getpid()).json").path
        defer { unlink(reportPath) }
        let child = try PseudoTerminalChild(arguments: ["bench", "tui", "--child-report", reportPath,
                                                        "--phase-seconds", String(phaseSeconds), "--rounds", String(rounds)],
                                        rows: 40, columns: 120)

        // The headless phase and calibration come first; the dashboard's first frame starts the clock.
        let deadline = now() + phaseSeconds + 30
        while child.firstTime == nil && now() < deadline { usleep(20_000) }
        guard let opened = child.firstTime else { throw BenchError("the dashboard never drew") }
        let warmUp = 2.0
        Thread.sleep(forTimeInterval: max(0, opened + warmUp + steadySeconds - now()))
        let bytes = child.bytes(from: opened + warmUp, to: opened + warmUp + steadySeconds)
        // Training goes on a little longer so its tokens/s covers the same span, then pause for the key trials.
        Thread.sleep(forTimeInterval: max(0, opened + phaseSeconds - now()))
        child.send("p")
        Thread.sleep(forTimeInterval: 1)
        var latencies = (0..<10).compactMap { _ in child.answerLatency(to: "g", quiet: 0.15, timeout: 1) }
        child.send("q")
        Thread.sleep(forTimeInterval: 0.3)
        child.send("y")
        // The child trains headless once more after the dashboard closes (and then the further rounds), then
        // writes its report.
        child.waitForExit(seconds: phaseSeconds * Double(2 * rounds - 1) + 30 * Double(rounds))
        let report = try JSONDecoder().decode(TUIBenchChild.Report.self,
                                              from: Data(contentsOf: URL(fileURLWithPath: reportPath)))
        latencies.sort()
        guard !latencies.isEmpty else { throw BenchError("no key press was answered within 1 s") }
        return Result(bytesPerSecond: Double(bytes) / steadySeconds, keyLatencyMedian: latencies[latencies.count / 2],
                      keyLatencyMax: latencies.last!, headless: report.headless, dashboard: report.dashboard)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
