#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Telemetry
import Training

/// The live dashboard over a training session (or anything that serves run events and takes commands).
public enum Dashboard {
    /// The terminal hung up: the dashboard leaves the screen at once and `run` returns with
    /// `terminalHungUp` (the run itself is not stopped). Safe to call from a signal source's queue.
    public static func noteHangup() { InterruptFlag.hangups += 1 }

    /// Runs the dashboard on the calling (main) thread until the user quits, or the run finishes when
    /// `exitWhenFinished`. Subscribes to `session` (this process's training session, or a run attached over its
    /// socket) first, then calls `afterSubscribing` (start the training
    /// thread there, so no event is missed). The terminal is restored on return, on error and on signals.
    ///
    /// Throws `ThemeError.notFound` for an unknown `--theme` before the screen is touched.
    @discardableResult
    /// On SIGINT/SIGTERM the run is stopped (checkpoint first) through `onInterrupt` with the signal's number
    /// when given, else with the stop command.
    public static func run(session: some RunEventSource, options: DashboardOptions,
                           onInterrupt: ((Int32) -> Void)? = nil,
                           afterSubscribing: () throws -> Void = {}) throws -> DashboardOutcome {
        let library = ThemeLibrary(directories: options.themeDirectories)
        var view = ViewSettings()
        if let name = options.themeName { view.themeIndex = try library.index(of: name) }
        else { view.themeIndex = (try? library.index(of: "default")) ?? 0 }

        let queue = RunRecordQueue()
        let token = session.subscribe { queue.append($0) }
        defer { session.unsubscribe(token) }
        try afterSubscribing()

        let sampler = TelemetrySampler(options: TelemetryOptions(pollGPU: options.pollGPU, searchPath: options.environment["PATH"]))
        sampler.start()
        defer { sampler.stop() }

        let controller = DashboardController(run: session, view: view, themeCount: library.themes.count)
        controller.isViewer = options.viewer
        for problem in library.problems { controller.note("theme skipped: \(problem)", kind: .warning) }

        let loop = DashboardLoop(controller: controller, queue: queue, sampler: sampler, library: library, options: options)
        loop.onInterrupt = onInterrupt
        return loop.run()
    }
}

/// The UI thread's loop: keys, events, telemetry, frames.
final class DashboardLoop {
    let controller: DashboardController
    let queue: RunRecordQueue
    let sampler: TelemetrySampler
    let library: ThemeLibrary
    let options: DashboardOptions
    let renderer = DashboardRenderer()
    var onInterrupt: ((Int32) -> Void)?

    init(controller: DashboardController, queue: RunRecordQueue, sampler: TelemetrySampler, library: ThemeLibrary,
         options: DashboardOptions) {
        self.controller = controller
        self.queue = queue
        self.sampler = sampler
        self.library = library
        self.options = options
    }

    func run() -> DashboardOutcome {
        InterruptFlag.install()
        let terminal = Terminal(environment: options.environment, forceASCII: options.forceASCII)
        defer { terminal.close() }
        let glyphs = terminal.isUTF8 ? Glyphs.unicode : Glyphs.ascii
        var themeIndex = controller.view.themeIndex
        terminal.apply(library.themes[themeIndex])

        let minFrameGap = 1 / max(1, options.maxFramesPerSecond)
        var lastFrame = -Double.infinity
        var drawnRevision = -1
        var drawnView = controller.view
        var drawnMode = controller.mode
        var urgent = true
        var telemetryGeneration = -1
        var stoppedRun = false
        var interruptDeadline: Double?

        var hungUp = false
        while true {
            let now = Self.now()
            // The terminal went away (SSH dropped, pane closed): leave the screen, keep the run going.
            if InterruptFlag.hangups > 0 { hungUp = true; break }
            if InterruptFlag.count > 0 && interruptDeadline == nil {
                // Ctrl-C / SIGTERM / SIGHUP: stop the run cleanly (checkpoint first), but never wait forever.
                interruptDeadline = now + 10
                if controller.state.activity.isLive && controller.state.activity != .stopping {
                    let signal = InterruptFlag.lastSignal
                    controller.stopRun(onInterrupt.map { stop in { stop(signal) } })
                    stoppedRun = true
                }
            }
            if InterruptFlag.count > 1 || (interruptDeadline.map { now > $0 } ?? false) { break }
            if interruptDeadline != nil && !controller.state.activity.isLive { break }

            if let key = terminal.readKey() {
                if key == .resize { terminal.handleResize() }
                let wasLive = controller.state.activity.isLive
                if controller.handle(key) { urgent = true }
                if case .stopping = controller.state.activity, wasLive { stoppedRun = true }
            }
            for record in queue.drain() { controller.apply(record) }
            let snapshot = sampler.snapshot()
            if snapshot.generation != telemetryGeneration, let sample = snapshot.sample {
                telemetryGeneration = snapshot.generation
                controller.update(system: sample)
                for warning in sampler.takeWarnings() { controller.note(warning, kind: .warning) }
            }
            if controller.wantsExit { break }
            if options.exitWhenFinished, !controller.state.activity.isLive { break }

            if controller.view.themeIndex != themeIndex {
                themeIndex = controller.view.themeIndex
                terminal.apply(library.themes[themeIndex])
                controller.note("theme: \(library.themes[themeIndex].name)")
                urgent = true
            }
            if controller.view != drawnView || controller.mode != drawnMode { urgent = true }
            // A step in flight ticks its seconds on screen: never more than half a second without a frame.
            let ticking = controller.state.stepProgress != nil && now - lastFrame >= 0.5
            let changed = controller.state.revision != drawnRevision || ticking
            let gap = now - lastFrame
            guard (urgent && gap >= minFrameGap) || (changed && gap >= max(minFrameGap, options.dataRedrawInterval)) else {
                continue
            }
            terminal.beginFrame()
            renderer.draw(controller, on: terminal, glyphs: glyphs, colors: terminal.colorMode != .none)
            terminal.endFrame()
            lastFrame = Self.now()
            drawnRevision = controller.state.revision
            drawnView = controller.view
            drawnMode = controller.mode
            urgent = false
        }
        var finished = false
        if case .finished = controller.state.activity { finished = true }
        InterruptFlag.uninstall()
        return DashboardOutcome(stoppedRun: stoppedRun, finished: finished, terminalHungUp: hungUp)
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}

/// SIGINT and SIGTERM only count here (the UI loop stops the run cleanly); SIGHUP, the terminal going away,
/// only closes the UI: the run goes on without a screen and stays attachable.
enum InterruptFlag {
    nonisolated(unsafe) static var count: sig_atomic_t = 0
    /// The number of the latest SIGINT or SIGTERM.
    nonisolated(unsafe) static var lastSignal: sig_atomic_t = 0
    nonisolated(unsafe) static var hangups: sig_atomic_t = 0

    static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { received in
                InterruptFlag.lastSignal = received
                InterruptFlag.count += 1
            }
        }
        // SIGHUP is the caller's to route (it may also need to move its output): it calls
        // `Dashboard.noteHangup()`. Without a caller handler, SIGHUP keeps its default and ends a viewer.
    }

    /// Back to ignoring them: the caller (the CLI) handles signals again once the UI is gone.
    static func uninstall() {
        for sig in [SIGINT, SIGTERM] { signal(sig, SIG_DFL) }
    }
}
