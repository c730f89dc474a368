import Foundation

/// How `Dashboard.run` behaves; the CLI fills it from its flags.
public struct DashboardOptions {
    /// `--theme NAME` (nil: the default theme).
    public var themeName: String?
    /// `--no-gpu` sets this false: neither NVML nor nvidia-smi is touched.
    public var pollGPU: Bool
    /// Cap on frames per second (a key or resize draws at once, within the cap).
    public var maxFramesPerSecond: Double
    /// New training data redraws at most this often: charts that move every step would otherwise cost
    /// bandwidth over SSH for no one's benefit.
    public var dataRedrawInterval: Double
    /// Where themes are looked up, later directories winning.
    public var themeDirectories: [URL]
    public var environment: [String: String]
    /// Close when the run finishes (otherwise the final state stays up until `q`).
    public var exitWhenFinished: Bool
    /// Draw with ASCII even on a UTF-8 terminal.
    public var forceASCII: Bool
    /// Attached to a run in another process: quitting detaches instead of stopping the run.
    public var viewer = false

    public init(themeName: String? = nil, pollGPU: Bool = true, maxFramesPerSecond: Double = 15,
                dataRedrawInterval: Double = 0.25, themeDirectories: [URL] = ThemeLibrary.defaultDirectories(),
                environment: [String: String] = ProcessInfo.processInfo.environment,
                exitWhenFinished: Bool = false, forceASCII: Bool = false) {
        self.themeName = themeName
        self.pollGPU = pollGPU
        self.maxFramesPerSecond = maxFramesPerSecond
        self.dataRedrawInterval = dataRedrawInterval
        self.themeDirectories = themeDirectories
        self.environment = environment
        self.exitWhenFinished = exitWhenFinished
        self.forceASCII = forceASCII
    }

    /// Whether to open the dashboard: not with `--no-tui`, not when stdout is a pipe or file, not on a
    /// terminal that cannot address the cursor (`TERM=dumb` or unset). Otherwise the CLI prints headless progress.
    public static func shouldUseTUI(stdoutIsTerminal: Bool, noTUI: Bool,
                                    environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard !noTUI, stdoutIsTerminal else { return false }
        guard let term = environment["TERM"], !term.isEmpty, term != "dumb" else { return false }
        return true
    }
}

/// How the dashboard ended.
public struct DashboardOutcome: Equatable, Sendable {
    /// The user quit (and asked the run to stop) while it was still live.
    public var stoppedRun: Bool
    /// Set when the run's `finished` event was seen.
    public var finished: Bool
    /// The terminal hung up (SIGHUP); the run was left going.
    public var terminalHungUp: Bool = false
}
