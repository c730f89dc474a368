import Foundation

/// A run as everything that watches or steers it sees it: records out (history first, then live), commands in.
/// The training session in this process is one (`TrainingSession`); a run in another process, attached over its
/// socket, is another (`RemoteEventSource` in Remote). The dashboard, the text attach and the socket server are
/// written against this and nothing else; a replay has no run to steer (its controller gets none).
public protocol RunEventSource: AnyObject {
    /// Calls `observer` with every record from now on; returns a token for `unsubscribe`. Observers may be
    /// called on any thread and must return quickly (append to a `RunRecordQueue`, say).
    @discardableResult
    func subscribe(_ observer: @escaping (RunRecord) -> Void) -> Int
    func unsubscribe(_ token: Int)
    /// Queues a command; its outcome comes back as a `command-applied` or `command-refused` record.
    func send(_ command: SessionCommand)
}

extension TrainingSession: RunEventSource {}

/// Records handed from the thread a source calls its observers on to a UI thread: the observer appends under a
/// lock and returns; the UI drains everything at once each frame (or waits a little for the next record).
/// Neither side ever waits for the other beyond the lock.
public final class RunRecordQueue: @unchecked Sendable {
    private let signal = NSCondition()
    private var records: [RunRecord] = []

    public init() {}

    public func append(_ record: RunRecord) {
        signal.lock()
        records.append(record)
        signal.signal()
        signal.unlock()
    }

    /// Everything queued, oldest first; when nothing is, waits up to `timeout` seconds for a record.
    public func drain(waitingUpTo timeout: TimeInterval = 0) -> [RunRecord] {
        signal.lock()
        defer { signal.unlock() }
        if records.isEmpty && timeout > 0 { _ = signal.wait(until: Date(timeIntervalSinceNow: timeout)) }
        let taken = records
        records.removeAll(keepingCapacity: true)
        return taken
    }
}
