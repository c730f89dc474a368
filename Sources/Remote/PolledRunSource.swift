import Foundation
import Training

/// Where a viewer (the dashboard, a text attach) gets a run's records and sends its commands: the same for a run
/// in this process and for one attached over its socket. Call from one thread.
public protocol PolledRunSource: AnyObject {
    /// Records that arrived since the last call, oldest first: the run's history, then live records. Waits up to
    /// `timeout` seconds when none is ready (0: returns at once).
    func poll(timeout: TimeInterval) throws -> [RunRecord]
    /// Queues a command; its outcome comes back as a `command-applied` or `command-refused` record.
    func send(_ command: SessionCommand) throws
    /// False once no more records will come (the run finished, or the connection ended).
    var isLive: Bool { get }
    /// Messages for the user since the last call (the run dropped this viewer, a command was not taken, …).
    func takeNotices() -> [String]
}

/// A run served over its socket: subscribes from `since` (0: the full history).
public final class RemoteEventSource: PolledRunSource {
    public let client: RemoteClient
    public let welcome: Welcome
    /// The sequence number of the newest record received (reconnect with `since: lastSeq + 1`).
    public private(set) var lastSeq: Int?
    public private(set) var isLive = true
    private var notices: [String] = []

    public init(runDirectory: RunDirectory, since: Int? = 0) throws {
        client = try RemoteClient(runDirectory: runDirectory)
        welcome = try client.subscribe(since: since)
    }

    /// Records with a sequence number below this were history when the viewer joined.
    public var historyEnd: Int { welcome.next }

    public func poll(timeout: TimeInterval) throws -> [RunRecord] {
        var records: [RunRecord] = []
        guard isLive else { return records }
        var wait: TimeInterval? = timeout
        do {
            while let message = try client.next(timeout: wait) {
                wait = 0
                switch message {
                case let .record(seq, record):
                    lastSeq = seq
                    records.append(record)
                    if case .finished = record.event, seq >= historyEnd { isLive = false }
                case .notice(let text): notices.append(text)
                case .reply(let reply) where !reply.ok:
                    notices.append("\(reply.command) not applied: \(reply.error ?? "refused")")
                case .welcome, .reply, .status: break
                case .error(let text): notices.append(text)
                }
                if records.count >= 4096 { break }  // let the viewer draw between bursts of history
            }
        } catch RemoteError.closed {
            isLive = false
            notices.append("the run closed the connection")
        } catch RemoteError.refused(_, let reason) {
            isLive = false
            notices.append(reason)
        }
        return records
    }

    public func send(_ command: SessionCommand) throws {
        try client.send(.command(id: nil, command))
    }

    public func takeNotices() -> [String] {
        defer { notices.removeAll() }
        return notices
    }
}

/// A session in this process (`xright train` with the dashboard): the observer only appends under a lock.
public final class SessionEventSource: PolledRunSource {
    public let session: TrainingSession
    private let signal = NSCondition()
    private var queued: [RunRecord] = []
    private var ended = false
    private var token = 0

    /// Subscribe before `session.start()` to see every record from the header on.
    public init(session: TrainingSession) {
        self.session = session
        token = session.subscribe { [weak self] record in self?.enqueue(record) }
    }

    deinit { session.unsubscribe(token) }

    private func enqueue(_ record: RunRecord) {
        signal.lock()
        queued.append(record)
        signal.signal()
        signal.unlock()
    }

    public func poll(timeout: TimeInterval) throws -> [RunRecord] {
        signal.lock()
        defer { signal.unlock() }
        if queued.isEmpty && !ended && timeout > 0 { _ = signal.wait(until: Date(timeIntervalSinceNow: timeout)) }
        let taken = queued
        queued.removeAll(keepingCapacity: true)
        if taken.contains(where: { if case .finished = $0.event { return true }; return false }) { ended = true }
        return taken
    }

    public var isLive: Bool {
        signal.lock()
        defer { signal.unlock() }
        return !ended
    }

    public func send(_ command: SessionCommand) throws { session.send(command) }

    public func takeNotices() -> [String] { [] }
}
