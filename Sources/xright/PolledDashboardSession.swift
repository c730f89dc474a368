import Dashboard
import Foundation
import Remote
import Training

/// Lets the dashboard (which is pushed records) watch a run read by polling (`xright attach`, over the run's
/// socket): a background thread polls the source and hands records to the dashboard's observers; the dashboard's
/// commands go back through it. The source is used from one thread at a time (a lock around each poll and send).
/// A connection the run closed or refused ends `isLive` and leaves a notice in the source (attach prints them on
/// exit); any other failed poll or send is retried on the next turn.
final class PolledDashboardSession: CommandSink, RunEventSource {
    private let source: PolledRunSource
    private let lock = NSLock()
    private var observers: [Int: (RunRecord) -> Void] = [:]
    private var nextToken = 0
    private var pollerStarted = false
    private var stopped = false

    init(source: PolledRunSource) {
        self.source = source
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
        try? source.send(command)
        lock.unlock()
    }

    private func pollLoop() {
        while true {
            lock.lock()
            if stopped { lock.unlock(); return }
            // A short wait keeps a key's command from queueing behind a poll for long.
            let records = (try? source.poll(timeout: 0.05)) ?? []
            let live = source.isLive
            let current = Array(observers.values)
            lock.unlock()
            for record in records { for observer in current { observer(record) } }
            if !live && records.isEmpty { Thread.sleep(forTimeInterval: 0.2) }
        }
    }
}
