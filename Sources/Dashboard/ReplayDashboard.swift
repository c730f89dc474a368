#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Training

/// Where a replay's records come from after it opened: nothing more (a finished log read whole), or the tail of
/// logs another process is still writing (`--follow`).
public final class ReplayFollowFeed {
    private let followers: [RunLogFollower]

    public init(logs: [URL]) {
        followers = logs.map { RunLogFollower(url: $0) }
    }

    /// Bytes read from a log per poll: a few tens of milliseconds of decoding, so a long log already written
    /// when `--follow` starts is caught up with frames in between.
    public static let bytesPerPoll = 4 << 20

    /// Whether a log has more already written than the last poll read: poll again without waiting.
    public var isBehind: Bool { followers.contains { $0.isBehind } }

    /// Hands each log's new records (and its header, once known) to the player. Throws when a log turns out not
    /// to be a run log.
    public func poll(into player: ReplayPlayer) throws {
        for (i, follower) in followers.enumerated() where i < player.timelines.count {
            let records = try follower.poll(maxBytes: Self.bytesPerPoll)
            if player.timelines[i].header == nil, let header = follower.header { player.setHeader(header, run: i) }
            player.append(records, run: i)
            player.setProblems(follower.problems, run: i)
        }
    }
}

/// The replay's UI loop on the calling (main) thread: keys, playback ticks, the follow feed, frames.
public enum ReplayDashboard {
    /// The view a replay opens with (the `--theme` chosen, else the default) and how many themes `t` cycles
    /// through. Throws `ThemeError.notFound` for an unknown theme before the screen is touched.
    public static func initialView(options: DashboardOptions) throws -> (view: ViewSettings, themeCount: Int) {
        let library = ThemeLibrary(directories: options.themeDirectories)
        var view = ViewSettings()
        view.themeIndex = try options.themeName.map { try library.index(of: $0) } ?? ((try? library.index(of: "default")) ?? 0)
        return (view, library.themes.count)
    }

    /// Runs until the user quits. The terminal is restored on return, on error and on signals. `loader` fills
    /// the player while the screen is up; `afterFrame` is told of every frame drawn (`xright bench replay`).
    public static func run(player: ReplayPlayer, feed: ReplayFollowFeed?, loader: ReplayLogLoader? = nil,
                           options: DashboardOptions, afterFrame: ((ReplayPlayer) -> Void)? = nil) throws {
        defer { loader?.cancel() }
        let library = ThemeLibrary(directories: options.themeDirectories)
        var themeIndex = player.view.themeIndex % max(1, library.themes.count)
        InterruptFlag.install()
        let terminal = Terminal(environment: options.environment, forceASCII: options.forceASCII)
        defer { terminal.close() }
        let glyphs = terminal.isUTF8 ? Glyphs.unicode : Glyphs.ascii
        terminal.apply(library.themes[themeIndex])
        let renderer = ReplayRenderer()
        let minFrameGap = 1 / max(1, options.maxFramesPerSecond)
        var lastFrame = -Double.infinity, lastTick = now(), lastPoll = -Double.infinity, lastStatus = -Double.infinity
        var drawnRevision = -1
        var viewTheme = themeIndex
        while InterruptFlag.count == 0 && !player.wantsExit {
            if let key = terminal.readKey() {
                if key == .resize { terminal.handleResize(); drawnRevision = -1 }
                player.handle(key)
            }
            let t = now()
            player.tick(seconds: t - lastTick)
            lastTick = t
            if let feed, t - lastPoll >= 0.25 || feed.isBehind {
                lastPoll = t
                try feed.poll(into: player)
            }
            if let loader, !loader.isFinished {
                try loader.poll(into: player)
                // The percentage is text: refreshing it a few times a second is plenty.
                if !loader.isFinished, t - lastStatus >= 0.2 {
                    lastStatus = t
                    player.loadingStatus = loader.status
                }
            }
            let themeWanted = player.view.themeIndex % max(1, library.themes.count)
            if themeWanted != viewTheme {
                viewTheme = themeWanted
                themeIndex = themeWanted
                terminal.apply(library.themes[themeIndex])
                drawnRevision = -1
            }
            guard player.revision != drawnRevision, t - lastFrame >= minFrameGap else { continue }
            terminal.beginFrame()
            renderer.draw(player, on: terminal, glyphs: glyphs, colors: terminal.colorMode != .none)
            terminal.endFrame()
            lastFrame = now()
            drawnRevision = player.revision
            afterFrame?(player)
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
