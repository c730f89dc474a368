import ArgumentParser
import Dashboard
import Foundation
import Remote
import Training

/// `xright attach [RUN_DIR]`: watch a live run from any terminal: the dashboard on a terminal (q or d detach),
/// otherwise (`--text`, a pipe) a summary of the history, then live progress; `d` or Ctrl-C detaches.
struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Attach to a live run (the latest one by default): its history, then live progress.",
        discussion: "Keys: d or Ctrl-C detach · p pause · r resume · e evaluate · c checkpoint. The run keeps going.")

    @Argument(help: "The run directory (default: the latest run under the runs root).")
    var runDir: String?

    @Option(help: "Where runs are (default: $XRIGHT_RUNS or ./runs).")
    var runsRoot: String?

    @Flag(help: "Print progress lines instead of opening the dashboard (also when stdout is not a terminal).")
    var text = false

    @Option(help: "Dashboard theme.")
    var theme: String?

    func run() throws {
        let run: RunDirectory
        if let runDir {
            run = RunDirectory(URL(fileURLWithPath: runDir))
        } else {
            let root = RunsRoot.resolve(runsRoot)
            guard let latest = try RunCatalog.latest(root: root) else { throw CLIError("no runs under \(root.path) to attach to") }
            run = latest
        }
        let source = try RemoteEventSource(runDirectory: run, since: 0)
        if DashboardOptions.shouldUseTUI(stdoutIsTerminal: isatty(STDOUT_FILENO) == 1, noTUI: text) {
            // The full dashboard over the socket: history first, then live; q or d detach, the run goes on.
            var options = DashboardOptions(themeName: theme, pollGPU: false)
            options.viewer = true
            try Dashboard.run(session: source, options: options)
            for notice in source.takeNotices() { printErr(notice) }
            printErr("detached from \(run.url.path); the run goes on (xright attach to come back)")
            return
        }
        let keys = KeyboardInput()
        defer { keys.restore() }
        TextAttach(source: source, keys: keys).loop()
    }
}

/// Prints a run's records as text: history condensed to about 20 progress lines, then one line a second.
final class TextAttach {
    let source: RemoteEventSource
    let keys: KeyboardInput
    private var historyLines: HeadlessProgress
    private var liveLines: HeadlessProgress
    private var header: RunHeader?
    private var inHistory = true
    /// The history's newest GPU sample, printed once when live begins (not every sample of the past).
    private var historyTelemetry: TelemetryEvent?
    /// Run time of the last telemetry line printed.
    private var lastTelemetryShown = -Double.infinity

    init(source: RemoteEventSource, keys: KeyboardInput) {
        self.source = source
        self.keys = keys
        historyLines = HeadlessProgress(interval: 1) { say($0) }
        liveLines = HeadlessProgress(interval: 1) { say($0) }
    }

    func loop() {
        say("attached to \(source.welcome.runDirectory) (pid \(source.welcome.pid)); \(source.historyEnd) records of history")
        let queue = RunRecordQueue()
        let token = source.subscribe(queue.append)
        defer { source.unsubscribe(token) }
        // Subscribed from sequence number 0, so the n-th record received has number n − 1 (`progress` records
        // have no number: they are live only).
        var received = 0
        while true {
            let live = source.isLive  // read first: once false, every record has been queued
            let records = queue.drain(waitingUpTo: 0.2)
            for record in records {
                show(record)
                if case .progress = record.event { continue }
                received += 1
            }
            if inHistory && received >= source.historyEnd { beginLive() }
            for notice in source.takeNotices() { say("notice: \(notice)") }
            if !live && records.isEmpty {
                say("detached: the run is no longer live")
                return
            }
            for key in keys.pressed() {
                switch key {
                case "d", "q", "\u{03}", "\u{04}":
                    say("detached; the run goes on (xright attach \(source.welcome.runDirectory))")
                    return
                case "p": source.send(.pause)
                case "r": source.send(.resume)
                case "e": source.send(.evaluateNow)
                case "c": source.send(.checkpointNow)
                default: break
                }
            }
        }
    }

    private func beginLive() {
        inHistory = false
        if let header { liveLines.observe(RunRecord(time: 0, event: .header(header))) }
        if let sample = historyTelemetry { say(TrainingGPUText.machine(sample)) }
        say("── live · d detach · p pause · r resume · e eval · c checkpoint ──")
    }

    private func show(_ record: RunRecord) {
        if case .header(let h) = record.event {
            header = h
            // About 20 lines for the whole history: the interval is the run's age over 20.
            if inHistory, let created = ISO8601DateFormatter().date(from: h.createdAt) {
                historyLines = HeadlessProgress(interval: max(1, Date().timeIntervalSince(created) / 20)) { say($0) }
            }
            say("run: \(h.config.strategy.rawValue), λ \(h.config.lambda.value), seed \(h.seed), planned steps \(h.plannedSteps.map(String.init) ?? "-"), created \(h.createdAt)")
        }
        let progress = inHistory ? historyLines : liveLines
        progress.observe(record)
        switch record.event {
        case .lambdaChanged(let c): say("λ \(fmt(c.from.value)) → \(fmt(c.to.value)) at step \(c.step)")
        case .strategyChanged(let c): say("strategy \(c.from.rawValue) → \(c.to.rawValue) at step \(c.step)")
        case .paused(let p): say("paused after step \(p.step)")
        case .resumed(let p): say("resumed after step \(p.step)")
        case .commandRefused(let r): say("refused \(r.command.description): \(r.reason)")
        case .checkpointSaved(let c): if !inHistory { say("checkpoint: step \(c.step) → \(c.path)") }
        case .eval(let e): if !inHistory { say(EventText.eval(e)) }
        case .telemetry(let t):
            // The newest sample of the history is printed when live begins; live ones at most every 30 s (the
            // trainer samples every few seconds: a line each would drown the progress lines).
            if inHistory { historyTelemetry = t } else if record.time - lastTelemetryShown >= 30 {
                lastTelemetryShown = record.time
                say(TrainingGPUText.machine(t))
            }
        default: break
        }
    }

    private func fmt(_ v: Double) -> String { String(format: "%.2f", v) }
}

/// Keys from a terminal in non-canonical mode (no echo, Ctrl-C as a key so it detaches instead of killing);
/// nothing when stdin is not a terminal.
final class KeyboardInput {
    private var saved = termios()
    private let active: Bool

    init() {
        active = isatty(STDIN_FILENO) == 1 && tcgetattr(STDIN_FILENO, &saved) == 0
        guard active else { return }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
    }

    func pressed() -> [Character] {
        guard active else { return [] }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = read(STDIN_FILENO, &buffer, buffer.count)
        guard n > 0 else { return [] }
        return buffer[0..<n].map { Character(UnicodeScalar($0)) }
    }

    func restore() {
        if active { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
    }
}

/// A line on stdout, written at once (a pipe or a tmux pane sees it without buffering).
func say(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
        offset += n
    }
}
