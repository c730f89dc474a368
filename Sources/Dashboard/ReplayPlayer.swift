import Foundation
import Training

/// Plays one or more run logs through the dashboard's own state: each run gets a `DashboardController` fed the
/// records up to the playback clock, so a replay shows exactly what the live dashboard showed at that moment
/// (λ changes, pauses, evals where they happened). Moving forward folds only the new records; moving back
/// refolds from the start (a fold costs well under a microsecond per record). No terminal here: tests drive
/// it with keys and ticks.
public final class ReplayPlayer {
    public private(set) var timelines: [ReplayTimeline]
    public private(set) var controllers: [DashboardController]
    /// Records folded into each run's controller.
    public private(set) var positions: [Int]
    public private(set) var transport: ReplayTransport
    public private(set) var showHelp = false
    public private(set) var wantsExit = false
    /// Set for `--follow`: the last run is being written; playing past its end goes live.
    public let following: Bool
    /// A line for the transport bar: the last jump that found nothing, loading progress.
    public var notice: String?
    /// Bumped whenever anything drawn changes.
    public private(set) var revision = 0
    private let themeCount: Int

    /// The logs are still being read (`ReplayLogLoader`), until `finishLoading()`.
    public private(set) var isLoading: Bool
    /// While reading: how far, for the transport bar.
    public var loadingStatus: String?

    /// Opens at the end of the runs (the finished result, or live with `following`), paused. With `loading`, the
    /// timelines are still being filled: the view follows the records as they arrive and stops, paused, at the
    /// end once `finishLoading()` is called, unless the user moved it elsewhere meanwhile.
    public init(timelines: [ReplayTimeline], view: ViewSettings = ViewSettings(), themeCount: Int = 1,
                following: Bool = false, startAtBeginning: Bool = false, loading: Bool = false) {
        precondition(!timelines.isEmpty, "a replay needs at least one run")
        self.timelines = timelines
        self.following = following
        self.themeCount = themeCount
        isLoading = loading
        controllers = []
        positions = Array(repeating: 0, count: timelines.count)
        transport = ReplayTransport(live: (following || loading) && !startAtBeginning)
        controllers = timelines.map { makeController($0, view: view) }
        let end = startAtBeginning ? ReplayTransport.start : duration
        seek(to: end)
        if startAtBeginning { transport.playing = true }
    }

    public var isOverlay: Bool { timelines.count > 1 }
    public var view: ViewSettings { controllers[0].view }
    /// Playback seconds of the longest run.
    public var duration: Double { timelines.map(\.duration).max() ?? 0 }
    public var atEnd: Bool { positions.indices.allSatisfy { positions[$0] == timelines[$0].count } }

    private func makeController(_ timeline: ReplayTimeline, view: ViewSettings) -> DashboardController {
        let controller = DashboardController(run: nil, view: view, themeCount: themeCount)
        controller.setSystemUnsampled("not in the run log")
        if let header = timeline.header { controller.apply(RunRecord(time: 0, event: .header(header))) }
        if let problem = timeline.problems.corruptSummary { controller.note("\(timeline.name): \(problem)", kind: .warning) }
        return controller
    }

    /// Moves every run to the playback moment `clock`.
    public func seek(to clock: Double) {
        transport.clock = clock
        for i in timelines.indices {
            let target = timelines[i].count(atOrBefore: clock)
            if target < positions[i] {
                controllers[i] = makeController(timelines[i], view: controllers[i].view)
                positions[i] = 0
            }
            fold(run: i, to: target)
        }
        revision &+= 1
    }

    private func fold(run i: Int, to target: Int) {
        guard target > positions[i] else { return }
        let controller = controllers[i]
        timelines[i].forEachRecord(in: positions[i]..<target) { controller.apply($0) }
        positions[i] = target
    }

    // MARK: Feeding (a log still being read or written)

    public func setHeader(_ header: RunHeader, run i: Int) {
        timelines[i].setHeader(header)
        controllers[i] = makeController(timelines[i], view: controllers[i].view)
        positions[i] = 0
        fold(run: i, to: timelines[i].count(atOrBefore: transport.clock))
        revision &+= 1
    }

    /// New records of run `i`; shown at once when the replay is live.
    public func append(_ records: [RunRecord], run i: Int) {
        guard !records.isEmpty else { return }
        timelines[i].append(contentsOf: records)
        if transport.live { seek(to: duration) }
        revision &+= 1
    }

    /// Every log has been read: a replay that followed the reading stops at the end, paused.
    public func finishLoading() {
        isLoading = false
        loadingStatus = nil
        if transport.live && !following { transport.live = false }
        revision &+= 1
    }

    public func setProblems(_ problems: RunLogProblems, run i: Int) {
        let changed = problems.corruptCount != timelines[i].problems.corruptCount
        timelines[i].problems = problems
        if changed, let text = problems.corruptSummary {
            controllers[i].note("\(timelines[i].name): \(text)", kind: .warning)
            revision &+= 1
        }
    }

    // MARK: Time passing and keys

    /// Wall seconds passed; returns whether the screen changed.
    @discardableResult
    public func tick(seconds: Double) -> Bool {
        guard transport.tick(seconds: seconds, end: duration, following: following) else { return false }
        seek(to: transport.clock)
        return true
    }

    /// Handles one key; returns true when the screen should be redrawn.
    @discardableResult
    public func handle(_ key: Key) -> Bool {
        if key == .resize { return true }
        if showHelp, key == .escape || key == .char("?") || key == .char("h") || key == .char("q") {
            showHelp = false
            return true
        }
        if let action = ReplayKeyTable.action(for: key) {
            perform(action)
            revision &+= 1
            return true
        }
        if let action = KeyTable.action(for: key), ReplayKeyTable.viewActions.contains(action) {
            for controller in controllers { controller.handle(key) }
            revision &+= 1
            return true
        }
        return false
    }

    private func perform(_ action: ReplayAction) {
        notice = nil
        switch action {
        case .playPause:
            if transport.live || transport.playing {
                transport.playing = false
                transport.live = false
            } else {
                if transport.clock >= duration { seek(to: ReplayTransport.start) }
                transport.playing = true
            }
        case .faster: transport.faster()
        case .slower: transport.slower()
        case .seekStart:
            transport.live = false
            seek(to: ReplayTransport.start)
        case .seekEnd:
            transport.live = following || isLoading
            seek(to: duration)
        case .stepForward: jumpForward(.step)
        case .stepBack: jumpBack(.step, orStart: true)
        case .nextLambda: jumpForward(.lambdaChange)
        case .previousLambda: jumpBack(.lambdaChange)
        case .nextCheckpoint: jumpForward(.checkpoint)
        case .previousCheckpoint: jumpBack(.checkpoint)
        case .nextEval: jumpForward(.eval)
        case .previousEval: jumpBack(.eval)
        case .nextPause: jumpForward(.pause)
        case .previousPause: jumpBack(.pause)
        case .toggleHelp: showHelp.toggle()
        case .quit: wantsExit = true
        }
    }

    /// To the earliest `mark` after the current moment in any run; stops playing so the moment can be looked at.
    private func jumpForward(_ mark: ReplayMark) {
        let times = timelines.indices.compactMap { timelines[$0].next(mark, after: positions[$0]) }
        guard let time = times.min() else { notice = "no later \(mark.rawValue)"; return }
        transport.playing = false
        transport.live = false
        seek(to: time)
    }

    /// To the latest `mark` before the current moment in any run.
    private func jumpBack(_ mark: ReplayMark, orStart: Bool = false) {
        let clock = transport.clock
        // Back one step means before the step on screen, which may lie before the clock (an eval followed it).
        let times = timelines.indices.compactMap { i -> Double? in
            let anchor = mark == .step ? timelines[i].lastTime(of: .step, within: positions[i]) : nil
            return timelines[i].previous(mark, before: anchor ?? clock)
        }
        transport.playing = false
        transport.live = false
        if let time = times.max() {
            seek(to: time)
        } else if orStart {
            seek(to: ReplayTransport.start)
        } else {
            notice = "no earlier \(mark.rawValue)"
        }
    }
}
