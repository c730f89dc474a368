import Foundation

/// Where a replay is in time and how it moves: a playback clock in run seconds, playing or paused, a speed.
public struct ReplayTransport: Equatable, Sendable {
    /// ×1 … ×64, then nil: as fast as the screen shows it.
    public static let speeds: [Double?] = [1, 2, 4, 8, 16, 32, 64, nil]
    /// Before the first record: the run as it stood at step 0.
    public static let start = -1e-9
    /// "As fast as possible" still draws the run on its way: at least 1/100 of it per tick, never slower than ×64.
    static let fastestTicksPerRun = 100.0

    public var clock: Double
    public var playing: Bool
    public var speedIndex: Int
    /// Pinned to the newest record of a run still being written (`--follow`, until the user moves away).
    public var live: Bool

    public init(clock: Double = start, playing: Bool = false, speedIndex: Int = 0, live: Bool = false) {
        self.clock = clock
        self.playing = playing
        self.speedIndex = min(max(speedIndex, 0), Self.speeds.count - 1)
        self.live = live
    }

    public var speed: Double? { Self.speeds[speedIndex] }
    public var speedLabel: String { speed.map { "×\(Int($0))" } ?? "max" }

    public mutating func faster() { speedIndex = min(speedIndex + 1, Self.speeds.count - 1) }
    public mutating func slower() { speedIndex = max(speedIndex - 1, 0) }

    /// Moves the clock on by `seconds` of wall time at the current speed; stops at `end` (or goes live when
    /// `following`). Returns whether the clock moved.
    public mutating func tick(seconds: Double, end: Double, following: Bool) -> Bool {
        guard playing, !live else { return false }
        let before = clock
        let step = speed.map { seconds * $0 } ?? max(seconds * 64, end / Self.fastestTicksPerRun)
        clock = min(max(clock, Self.start) + step, end)
        if clock >= end {
            if following { live = true } else { playing = false }
        }
        return clock != before
    }
}
