import Foundation
import Training

/// Events replay can jump between (`l`/`L`, `c`/`C`, `e`/`E`, `p`/`P`, ←/→).
public enum ReplayMark: String, CaseIterable, Sendable {
    case step, lambdaChange = "λ change", checkpoint, eval, pause

    func matches(_ event: RunEvent) -> Bool {
        switch (self, event) {
        case (.step, .step), (.lambdaChange, .lambdaChanged), (.checkpoint, .checkpointSaved), (.eval, .eval),
             (.pause, .paused): return true
        default: return false
        }
    }
}

/// One run's records in log order with a playback time each. Records carry seconds since the run began, which
/// go back after a resume (the re-run steps restart from the checkpoint's time); playback time is shifted
/// forward there so it never decreases and a binary search finds the records up to any moment.
public struct ReplayTimeline {
    public let name: String
    public private(set) var header: RunHeader?
    public private(set) var records: [RunRecord] = []
    public private(set) var playTimes: [Double] = []
    public var problems = RunLogProblems()
    /// λ changes and pauses with their playback time, for the transport bar (kept apart: drawing them must not
    /// walk a million records every frame).
    public private(set) var transportMarks: [(time: Double, mark: ReplayMark)] = []
    private var shift = 0.0

    public init(name: String, header: RunHeader? = nil) {
        self.name = name
        self.header = header
    }

    public mutating func setHeader(_ header: RunHeader) { self.header = header }

    public mutating func append(_ record: RunRecord) {
        var t = record.time.isFinite ? record.time + shift : (playTimes.last ?? 0)
        if let last = playTimes.last, t < last {
            shift += last - t
            t = last
        }
        records.append(record)
        playTimes.append(t)
        switch record.event {
        case .lambdaChanged: transportMarks.append((t, .lambdaChange))
        case .paused: transportMarks.append((t, .pause))
        default: break
        }
    }

    public mutating func append(contentsOf batch: [RunRecord]) {
        records.reserveCapacity(records.count + batch.count)
        playTimes.reserveCapacity(playTimes.count + batch.count)
        for record in batch { append(record) }
    }

    public var count: Int { records.count }
    /// Playback seconds of the last record.
    public var duration: Double { playTimes.last ?? 0 }

    /// How many records happened at or before `clock` (playback seconds).
    public func count(atOrBefore clock: Double) -> Int {
        var lo = 0, hi = playTimes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if playTimes[mid] <= clock { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Playback time of the first `mark` after the first `position` records.
    public func next(_ mark: ReplayMark, after position: Int) -> Double? {
        var i = max(0, position)
        while i < records.count {
            if mark.matches(records[i].event) { return playTimes[i] }
            i += 1
        }
        return nil
    }

    /// Playback time of the last `mark` strictly before playback moment `clock`.
    public func previous(_ mark: ReplayMark, before clock: Double) -> Double? {
        var i = count(atOrBefore: clock) - 1
        while i >= 0 {
            if playTimes[i] < clock, mark.matches(records[i].event) { return playTimes[i] }
            i -= 1
        }
        return nil
    }

    /// Index of the last `mark` among the first `position` records.
    public func lastIndex(of mark: ReplayMark, within position: Int) -> Int? {
        var i = min(position, records.count) - 1
        while i >= 0 {
            if mark.matches(records[i].event) { return i }
            i -= 1
        }
        return nil
    }

    /// Reads a whole log (a run directory or its run.jsonl) in one streaming pass.
    public static func load(_ path: String) throws -> ReplayTimeline {
        let url = try ReplayLogScanner.logFile(for: path)
        var timeline = ReplayTimeline(name: RunSummary.displayName(of: url))
        timeline.problems = try ReplayLogScanner.scan(url, header: { timeline.setHeader($0) }, record: { timeline.append($0) })
        return timeline
    }
}
