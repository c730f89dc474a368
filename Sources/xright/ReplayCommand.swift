import ArgumentParser
import Dashboard
import Foundation
import Training

/// `xright replay RUN…`: a logged run in the dashboard, as it happened; several runs overlaid.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play a run log back in the dashboard; several runs are overlaid on the same axes.",
        discussion: """
            Opens at the end of the run (the finished result; with --follow, live), paused. Keys: space play/pause, \
            < > speed ×1…×64 and max, 0 and $ start and end, ←/→ one step, l/L λ changes, c/C checkpoints, \
            e/E evaluations, p/P pauses of the run, ? help, q quit. The log is only read: replay never touches the \
            run. A corrupt line is skipped and counted on screen; a torn last line (a killed writer) and event types \
            from newer versions are skipped silently.
            """)

    @Argument(help: "Run directories or run.jsonl files (two or more are overlaid, each in its own colour).")
    var runs: [String]

    @Flag(help: "Tail logs still being written by another process, like tail -f.")
    var follow = false

    @Flag(help: "Start from the beginning, playing (default: open at the end, paused).")
    var play = false

    @Option(help: "Playback speed to start with: 1, 2, 4, 8, 16, 32, 64 or max.")
    var speed: String = "1"

    @Option(help: "Theme name (themes/NAME.theme).")
    var theme: String?

    @Flag(help: "Draw with ASCII even on a UTF-8 terminal.")
    var ascii = false

    /// `xright bench replay`: write when the first frame and the fully read frame were drawn, and the peak RSS.
    @Option(help: .hidden) var benchReport: String?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one run directory or run.jsonl") }
        guard Self.speedIndex(speed) != nil else {
            throw ValidationError("--speed must be one of 1, 2, 4, 8, 16, 32, 64, max; got '\(speed)'")
        }
    }

    static func speedIndex(_ text: String) -> Int? {
        ReplayTransport.speeds.firstIndex { $0.map { String(Int($0)) } ?? "max" == text.lowercased() }
    }

    func run() throws {
        let options = DashboardOptions(themeName: theme, pollGPU: false, forceASCII: ascii)
        guard DashboardOptions.shouldUseTUI(stdoutIsTerminal: isatty(STDOUT_FILENO) == 1, noTUI: false) else {
            throw CLIError("replay draws the dashboard and needs a terminal; for the figures as text use: xright report \(runs.joined(separator: " "))")
        }
        let (view, themeCount) = try ReplayDashboard.initialView(options: options)
        let timelines: [ReplayTimeline]
        var feed: ReplayFollowFeed?
        var loader: ReplayLogLoader?
        if follow {
            // A followed log may not exist yet (the run is starting): wait for it rather than refuse.
            let logs = runs.map { path -> URL in
                (try? RunLogReader.logFile(for: path))
                    ?? (path.hasSuffix(".jsonl") ? URL(fileURLWithPath: path) : RunDirectory(URL(fileURLWithPath: path)).log)
            }
            timelines = logs.map { ReplayTimeline(name: RunSummary.displayName(of: $0)) }
            feed = ReplayFollowFeed(logs: logs)
        } else {
            // Line 1 of each log is checked now, before the screen is taken; the rest is read in the background
            // while the dashboard is already up.
            let opened = try ReplayLogLoader.open(runs)
            timelines = opened.timelines
            loader = opened.loader
        }
        let player = ReplayPlayer(timelines: timelines, view: view, themeCount: themeCount, following: follow,
                                  startAtBeginning: play, loading: loader != nil)
        player.loadingStatus = loader?.status
        if let index = Self.speedIndex(speed) { for _ in 0..<index { player.handle(.char(">")) } }
        if let feed { try feed.poll(into: player) }
        let probe = benchReport.map { ReplayBenchProbe(reportPath: $0) }
        try ReplayDashboard.run(player: player, feed: feed, loader: loader, options: options,
                                afterFrame: probe.map { probe in { probe.frameDrawn(player: $0, loaded: loader?.isFinished ?? true) } })
    }
}
