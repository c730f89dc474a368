#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Crash points for the fault-injection tests (docs/RELIABILITY.md). With `XRIGHT_FAULT=<point>[@<n>]` in the
/// environment the process kills itself with SIGKILL the n-th time (default: the first) it reaches `<point>` — a
/// kill at a place a timer could hardly hit, such as between a checkpoint's files and its rename. Without the
/// variable (always, for users) a point costs one comparison.
public enum FaultPoint: String, CaseIterable, Sendable {
    /// The checkpoint's model and optimizer state are written to its temporary directory.
    case checkpointStateWritten = "checkpoint-state-written"
    /// Every file of the checkpoint is fsynced, not yet renamed into place.
    case checkpointBeforeRename = "checkpoint-before-rename"
    /// The checkpoint is in place; its `checkpoint` event is not logged yet.
    case checkpointRenamed = "checkpoint-renamed"
    /// Half of the run log's buffered bytes are written (a torn line on disk).
    case logMidFlush = "log-mid-flush"
    /// The run log was flushed and fsynced before a checkpoint.
    case logSynced = "log-synced"

    /// SIGKILL here when the environment names this point (and this is the n-th time it is reached).
    public func reached() {
        guard let armed = FaultInjection.armed, armed.point == self else { return }
        FaultInjection.lock.lock()
        FaultInjection.hits += 1
        let hits = FaultInjection.hits
        FaultInjection.lock.unlock()
        if hits == armed.occurrence { kill(getpid(), SIGKILL) }
    }

    /// Whether the environment names this point, so a caller can prepare a partial state before `reached()`.
    public var isArmed: Bool { FaultInjection.armed?.point == self }
}

enum FaultInjection {
    static let armed: (point: FaultPoint, occurrence: Int)? = parse(ProcessInfo.processInfo.environment["XRIGHT_FAULT"])
    nonisolated(unsafe) static var hits = 0
    static let lock = NSLock()

    static func parse(_ value: String?) -> (point: FaultPoint, occurrence: Int)? {
        guard let value, !value.isEmpty else { return nil }
        let parts = value.split(separator: "@", maxSplits: 1).map(String.init)
        guard let point = FaultPoint(rawValue: parts[0]) else { return nil }
        let occurrence = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
        return (point, max(1, occurrence))
    }
}
