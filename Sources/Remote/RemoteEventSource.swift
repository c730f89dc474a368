import Foundation
import Training

/// A run served over its socket, as a `RunEventSource`: subscribes from `since` (0: the full history) and, once
/// someone subscribes, reads the socket on its own thread and hands each record to the observers. Commands go
/// out on the same connection (a lock keeps reads and sends apart). A connection the run closed or refused ends
/// `isLive` and leaves a notice (attach prints them); any other failed read or send is retried on the next turn.
public final class RemoteEventSource: RunEventSource, @unchecked Sendable {
    public let welcome: Welcome
    private let client: RemoteClient
    private let lock = NSLock()
    private var observers: [Int: (RunRecord) -> Void] = [:]
    private var nextToken = 0
    private var readerStarted = false
    private var stopped = false
    /// Set by the reader when the run ended or the connection did; `ended` once the last records were handed on.
    private var live = true
    private var ended = false
    private var notices: [String] = []

    public init(runDirectory: RunDirectory, since: Int? = 0) throws {
        client = try RemoteClient(runDirectory: runDirectory)
        welcome = try client.subscribe(since: since)
    }

    /// Records with a sequence number below this were history when the viewer joined.
    public var historyEnd: Int { welcome.next }

    /// False once no more records will come (the run finished, or the connection ended).
    public var isLive: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !ended
    }

    /// Messages for the user since the last call (the run dropped this viewer, a command was not taken, …).
    public func takeNotices() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        let taken = notices
        notices.removeAll()
        return taken
    }

    @discardableResult
    public func subscribe(_ observer: @escaping (RunRecord) -> Void) -> Int {
        lock.lock()
        defer { lock.unlock() }
        nextToken += 1
        observers[nextToken] = observer
        if !readerStarted {
            readerStarted = true
            let thread = Thread { [weak self] in self?.readLoop() }
            thread.name = "xright.attach.read"
            thread.start()
        }
        return nextToken
    }

    public func unsubscribe(_ token: Int) {
        lock.lock()
        observers[token] = nil
        if observers.isEmpty { stopped = true }
        lock.unlock()
    }

    public func send(_ command: SessionCommand) {
        lock.lock()
        defer { lock.unlock() }
        do { try client.send(.command(id: nil, command)) } catch { notices.append("\(command.name) not sent: \(error)") }
    }

    private func readLoop() {
        while true {
            lock.lock()
            if stopped { lock.unlock(); return }
            // A short wait keeps a key's command from queueing behind a read for long.
            let records = readAvailable(timeout: 0.05)
            let current = Array(observers.values)
            let last = !live
            lock.unlock()
            for record in records { for observer in current { observer(record) } }
            if last {
                lock.lock()
                ended = true
                lock.unlock()
                return
            }
        }
    }

    /// What arrived within `timeout` (called under the lock): records, and notices for the rest.
    private func readAvailable(timeout: TimeInterval) -> [RunRecord] {
        var records: [RunRecord] = []
        var wait: TimeInterval? = timeout
        do {
            while let message = try client.next(timeout: wait) {
                wait = 0
                switch message {
                case let .record(seq, record):
                    records.append(record)
                    if case .finished = record.event, seq >= historyEnd { live = false }
                case .progress(let record): records.append(record)
                case .notice(let text): notices.append(text)
                case .reply(let reply) where !reply.ok:
                    notices.append("\(reply.command) not applied: \(reply.error ?? "refused")")
                case .welcome, .reply, .status: break
                case .error(let text): notices.append(text)
                }
                if records.count >= 4096 { break }  // let the viewer draw between bursts of history
            }
        } catch RemoteError.closed {
            live = false
            notices.append("the run closed the connection")
        } catch RemoteError.refused(_, let reason) {
            live = false
            notices.append(reason)
        } catch {
            // Anything else (a bad message, an interrupted read) is retried on the next turn.
        }
        return records
    }
}
