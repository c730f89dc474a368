import Dashboard
import Foundation
import Training

/// Lets the dashboard watch a run that lives elsewhere (`xright attach`): a background thread polls the
/// connection and hands records to the dashboard's observers; the dashboard's commands go back through it.
/// The connection is used from one thread at a time (a lock around each poll and send).
final class PolledDashboardSession: CommandSink, RunEventSource {
    private let poll: (TimeInterval) -> [RunRecord]
    private let isLive: () -> Bool
    private let sendCommand: (SessionCommand) -> Void
    private let lock = NSLock()
    private var observers: [Int: (RunRecord) -> Void] = [:]
    private var nextToken = 0
    private var pollerStarted = false
    private var stopped = false

    init(poll: @escaping (TimeInterval) -> [RunRecord], isLive: @escaping () -> Bool,
         send: @escaping (SessionCommand) -> Void) {
        self.poll = poll
        self.isLive = isLive
        sendCommand = send
    }

    @discardableResult
    func subscribe(_ observer: @escaping (RunRecord) -> Void) -> Int {
        lock.lock()
        defer { lock.unlock() }
        nextToken += 1
        observers[nextToken] = observer
        if !pollerStarted {
            pollerStarted = true
            let thread = Thread { [weak self] in self?.pollLoop() }
            thread.name = "xright.attach.poll"
            thread.start()
        }
        return nextToken
    }

    func unsubscribe(_ token: Int) {
        lock.lock()
        observers[token] = nil
        if observers.isEmpty { stopped = true }
        lock.unlock()
    }

    func send(_ command: SessionCommand) {
        lock.lock()
        sendCommand(command)
        lock.unlock()
    }

    private func pollLoop() {
        while true {
            lock.lock()
            if stopped { lock.unlock(); return }
            // A short wait keeps a key's command from queueing behind a poll for long.
            let records = poll(0.05)
            let live = isLive()
            let current = Array(observers.values)
            lock.unlock()
            for record in records { for observer in current { observer(record) } }
            if !live && records.isEmpty { Thread.sleep(forTimeInterval: 0.2) }
        }
    }
}
