import Foundation
import Training

/// Where the dashboard's commands go: the live session now; an attach client later.
public protocol CommandSink: AnyObject {
    func send(_ command: SessionCommand)
}

/// Where the dashboard's events come from: the live session, a run-log replay, an attach client. Observers may be
/// called on any thread and must return quickly.
public protocol RunEventSource: AnyObject {
    @discardableResult
    func subscribe(_ observer: @escaping (RunRecord) -> Void) -> Int
    func unsubscribe(_ token: Int)
}

/// What `Dashboard.run` drives.
public typealias DashboardSession = CommandSink & RunEventSource

extension TrainingSession: CommandSink, RunEventSource {}

/// Events handed from the training thread to the UI thread: the observer appends under a lock and returns;
/// the UI drains everything at once each frame. Neither side ever waits for the other beyond the lock.
public final class EventQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [RunRecord] = []

    public init() {}

    public func append(_ record: RunRecord) {
        lock.lock()
        records.append(record)
        lock.unlock()
    }

    public func drain() -> [RunRecord] {
        lock.lock()
        defer { lock.unlock() }
        let taken = records
        records.removeAll(keepingCapacity: true)
        return taken
    }
}
