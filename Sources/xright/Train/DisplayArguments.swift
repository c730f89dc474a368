import ArgumentParser
import Dashboard
import Foundation
import Telemetry
import Training

/// How a live run is shown: the dashboard on a terminal, progress lines otherwise.
struct DisplayArguments: ParsableArguments {
    @Flag(help: "Print progress lines instead of opening the dashboard (also when stdout is not a terminal).")
    var noTUI = false

    @Option(help: "Dashboard theme (themes/*.theme: default, light, high-contrast, or your own).")
    var theme: String?

    @Flag(help: "Do not poll NVML or nvidia-smi for GPU figures.")
    var noGPU = false

    @Flag(help: "Draw with ASCII characters even on a UTF-8 terminal.")
    var ascii = false

    @Option(help: ArgumentHelp("""
        Seconds between the run's samples of its own process and GPUs (telemetry events in run.jsonl, drawn by \
        the dashboard, attach and replay); 0 turns them off. At least 1.
        """, valueName: "seconds"))
    var telemetrySeconds: Double = RunTelemetry.defaultInterval

    /// An unknown theme is refused before the run directory is made (it used to end a started run).
    func validate() throws {
        guard telemetrySeconds == 0 || (telemetrySeconds.isFinite && telemetrySeconds >= RunTelemetry.minimumInterval) else {
            throw ValidationError("--telemetry-seconds must be 0 (off) or at least \(Int(RunTelemetry.minimumInterval)); got \(telemetrySeconds)")
        }
        guard let theme else { return }
        let library = ThemeLibrary()
        guard library.names.contains(theme) else {
            throw ValidationError("no theme named '\(theme)'; the themes are: \(library.names.joined(separator: ", ")) "
                                  + "(files NAME.theme in \(library.searchDirectories.map(\.path).joined(separator: ", ")))")
        }
    }

    /// The dashboard options, or nil when the run should print progress lines.
    func dashboardOptions(headless: Bool) -> DashboardOptions? {
        guard !headless, DashboardOptions.shouldUseTUI(stdoutIsTerminal: isatty(STDOUT_FILENO) == 1, noTUI: noTUI) else {
            return nil
        }
        // The run samples its GPUs itself (telemetry events): the dashboard then polls none of its own.
        return DashboardOptions(themeName: theme, pollGPU: !noGPU && telemetrySeconds == 0, forceASCII: ascii)
    }

    /// Starts the run's own telemetry on `session` (nil when turned off); keep it until the run ends.
    func startTelemetry(on session: TrainingSession, environment: [String: String] = ProcessInfo.processInfo.environment) -> RunTelemetry? {
        guard telemetrySeconds > 0 else { return nil }
        return RunTelemetry(session: session, options: TelemetryOptions(pollGPU: !noGPU, interval: telemetrySeconds,
                                                                        searchPath: environment["PATH"]))
    }
}

/// Shows a live session in the dashboard until the user quits or the run ends, then waits for the session to
/// finish (quitting asks it to checkpoint and stop).
enum LiveDashboard {
    static func run(_ session: TrainingSession, options: DashboardOptions, outputLog: URL) throws -> RunFinished {
        let outcome = try Dashboard.run(session: session, options: options,
                                        onInterrupt: { session.stop(bySignal: $0) }) { try session.start() }
        if outcome.terminalHungUp {
            // Like tmux: the screen is gone, the run is not. Output goes to the run directory from now on,
            // and SIGINT/SIGTERM (from `kill`) still stop it with a checkpoint.
            HangupGuard.redirectOutput(to: outputLog)
            printErr("terminal hung up (SIGHUP); training goes on without a screen: xright attach to watch it")
            let signals = SignalStop { session.stop(bySignal: $0) }
            defer { signals.cancel() }
            return session.waitUntilFinished()!
        } else if session.status.finished == nil {
            // The dashboard closed on a live run without stopping it (it only does that on an error path):
            // keep the run's data safe with a checkpoint and a clean stop.
            session.send(.checkpointNow)
            session.send(.stop)
        }
        return session.waitUntilFinished()!
    }
}
