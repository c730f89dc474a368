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
///
/// Steps (nearly all of a log) are kept packed (`ReplayStepStore`); the other records, which carry text, are kept
/// whole in their own list with their place in the log. Since playback times never decrease, the records up to
/// a moment are a prefix of the log, and so a prefix of each list: two binary searches find it.
public struct ReplayTimeline {
    public let name: String
    public private(set) var header: RunHeader?
    public var problems = RunLogProblems()
    /// λ changes and pauses with their playback time, for the transport bar (kept apart: drawing them must not
    /// walk a million records every frame).
    public private(set) var transportMarks: [(time: Double, mark: ReplayMark)] = []
    private var steps = ReplayStepStore()
    private var stepPlayTimes = ChunkedArray<Double>()
    private var others: [RunRecord] = []
    private var otherPlayTimes: [Double] = []
    /// Place in the log of each of `others`.
    private var otherPositions: [Int] = []
    /// (first step slot, shift) whenever the shift grows, to give steps back their logged time.
    private var stepShifts: [(slot: Int, shift: Double)] = []
    private var shift = 0.0
    private var lastPlayTime: Double?

    public init(name: String, header: RunHeader? = nil) {
        self.name = name
        self.header = header
    }

    public mutating func setHeader(_ header: RunHeader) { self.header = header }

    public mutating func append(_ record: RunRecord) {
        var t = record.time.isFinite ? record.time + shift : (lastPlayTime ?? 0)
        if let last = lastPlayTime, t < last {
            shift += last - t
            t = last
        }
        lastPlayTime = t
        if case .step(let e) = record.event {
            if stepShifts.last?.shift ?? 0 != shift { stepShifts.append((steps.count, shift)) }
            steps.append(e)
            stepPlayTimes.append(t)
            return
        }
        otherPositions.append(count)
        others.append(record)
        otherPlayTimes.append(t)
        switch record.event {
        case .lambdaChanged: transportMarks.append((t, .lambdaChange))
        case .paused: transportMarks.append((t, .pause))
        default: break
        }
    }

    public mutating func append(contentsOf batch: [RunRecord]) {
        for record in batch { append(record) }
    }

    public var count: Int { steps.count + others.count }
    /// Playback seconds of the last record.
    public var duration: Double { lastPlayTime ?? 0 }

    /// How many records happened at or before `clock` (playback seconds).
    public func count(atOrBefore clock: Double) -> Int {
        Self.countAtOrBefore(clock, in: stepPlayTimes) + Self.countAtOrBefore(clock, in: otherPlayTimes)
    }

    /// Calls `body` with records `range` of the log, in order.
    public func forEachRecord(in range: Range<Int>, _ body: (RunRecord) -> Void) {
        var other = othersBefore(range.lowerBound)
        var slot = range.lowerBound - other
        var shiftIndex = shiftIndex(forSlot: slot)
        for position in range {
            if other < otherPositions.count, otherPositions[other] == position {
                body(others[other])
                other += 1
            } else {
                while shiftIndex + 1 < stepShifts.count, stepShifts[shiftIndex + 1].slot <= slot { shiftIndex += 1 }
                let shift = shiftIndex >= 0 ? stepShifts[shiftIndex].shift : 0
                body(RunRecord(time: stepPlayTimes[slot] - shift, event: .step(steps[slot])))
                slot += 1
            }
        }
    }

    /// Playback time of record `position` of the log.
    public func playTime(at position: Int) -> Double {
        let other = othersBefore(position)
        if other < otherPositions.count, otherPositions[other] == position { return otherPlayTimes[other] }
        return stepPlayTimes[position - other]
    }

    /// Record `position` of the log.
    public func record(at position: Int) -> RunRecord {
        var found: RunRecord?
        forEachRecord(in: position..<(position + 1)) { found = $0 }
        return found!
    }

    /// Playback time of the first `mark` after the first `position` records.
    public func next(_ mark: ReplayMark, after position: Int) -> Double? {
        let position = max(0, position)
        if mark == .step {
            let slot = position - othersBefore(position)
            return slot < stepPlayTimes.count ? stepPlayTimes[slot] : nil
        }
        var i = othersBefore(position)
        while i < others.count {
            if mark.matches(others[i].event) { return otherPlayTimes[i] }
            i += 1
        }
        return nil
    }

    /// Playback time of the last `mark` strictly before playback moment `clock`.
    public func previous(_ mark: ReplayMark, before clock: Double) -> Double? {
        if mark == .step {
            let slot = Self.countBefore(clock, in: stepPlayTimes) - 1
            return slot >= 0 ? stepPlayTimes[slot] : nil
        }
        var i = Self.countBefore(clock, in: otherPlayTimes) - 1
        while i >= 0 {
            if mark.matches(others[i].event) { return otherPlayTimes[i] }
            i -= 1
        }
        return nil
    }

    /// Playback time of the last `mark` among the first `position` records.
    public func lastTime(of mark: ReplayMark, within position: Int) -> Double? {
        let position = min(max(0, position), count)
        if mark == .step {
            let slot = position - othersBefore(position) - 1
            return slot >= 0 ? stepPlayTimes[slot] : nil
        }
        var i = othersBefore(position) - 1
        while i >= 0 {
            if mark.matches(others[i].event) { return otherPlayTimes[i] }
            i -= 1
        }
        return nil
    }

    /// How many non-step records come before log position `position`.
    private func othersBefore(_ position: Int) -> Int {
        var lo = 0, hi = otherPositions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if otherPositions[mid] < position { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private func shiftIndex(forSlot slot: Int) -> Int {
        var lo = 0, hi = stepShifts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if stepShifts[mid].slot <= slot { lo = mid + 1 } else { hi = mid }
        }
        return lo - 1
    }

    private static func countAtOrBefore<Times: RandomAccessCollection<Double>>(_ clock: Double, in times: Times) -> Int where Times.Index == Int {
        var lo = 0, hi = times.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] <= clock { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private static func countBefore<Times: RandomAccessCollection<Double>>(_ clock: Double, in times: Times) -> Int where Times.Index == Int {
        var lo = 0, hi = times.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] < clock { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
