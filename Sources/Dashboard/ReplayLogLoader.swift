import Foundation
import Training

/// Reads finished run logs on background threads and hands the records to the replay in batches, so the
/// dashboard draws its first frame at once and fills in while a long log (a million events) is still being read.
/// The queue between reader and screen is bounded: a reader that gets ahead waits, so memory holds the
/// replay's packed records plus a few batches, however long the log.
public final class ReplayLogLoader {
    static let batchSize = 4096
    static let maxQueuedBatches = 8

    /// What one reader thread has produced and not yet handed over.
    private final class Channel: @unchecked Sendable {
        let condition = NSCondition()
        var batches: [[RunRecord]] = []
        var problems = RunLogProblems()
        var bytesRead = 0
        var recordsRead = 0
        var done = false
        var error: Error?
        var cancelled = false
    }

    private let logs: [URL]
    private let sizes: [Int]
    private let channels: [Channel]
    private var finishedRuns: Set<Int> = []

    /// Starts one reader per log. `open` is the usual way in: it checks the logs' first lines before.
    public init(logs: [URL]) {
        self.logs = logs
        sizes = logs.map { (try? FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int) ?? 0 }
        channels = logs.map { _ in Channel() }
        for (url, channel) in zip(logs, channels) {
            let thread = Thread { Self.read(url, into: channel) }
            thread.name = "replay-reader"
            thread.start()
        }
    }

    deinit { cancel() }

    /// Opens run directories or run.jsonl files for replay: resolves each to its log and reads line 1 there and
    /// then, so what is not a run log is refused by name before the screen is taken. The timelines hold the
    /// headers; the loader fills them in the background.
    public static func open(_ paths: [String]) throws -> (timelines: [ReplayTimeline], loader: ReplayLogLoader) {
        let logs = try paths.map { try RunLogReader.logFile(for: $0) }
        let timelines = try logs.map { ReplayTimeline(name: RunSummary.displayName(of: $0), header: try RunLogReader.header(of: $0)) }
        return (timelines, ReplayLogLoader(logs: logs))
    }

    /// Stops the readers (the replay was quit before the logs were read).
    public func cancel() {
        for channel in channels {
            channel.condition.lock()
            channel.cancelled = true
            channel.condition.broadcast()
            channel.condition.unlock()
        }
    }

    public var isFinished: Bool { finishedRuns.count == logs.count }

    /// "reading run.jsonl 37% (412,000 records)", nil once every log is read.
    public var status: String? {
        guard !isFinished else { return nil }
        let parts = logs.indices.filter { !finishedRuns.contains($0) }.map { i -> String in
            let channel = channels[i]
            channel.condition.lock()
            let bytes = channel.bytesRead, records = channel.recordsRead
            channel.condition.unlock()
            let percent = sizes[i] > 0 ? min(99, bytes * 100 / sizes[i]) : 0
            return "\(RunSummary.displayName(of: logs[i])) \(percent)% (\(Format.count(Double(records))) records)"
        }
        return "reading " + parts.joined(separator: ", ")
    }

    /// Hands over what the readers have read, spending at most about `budget` seconds so keys stay answered.
    /// Returns whether the player changed. Throws what a reader met (an unreadable file, a schema of another
    /// major version) once the records before it were handed over.
    @discardableResult
    public func poll(into player: ReplayPlayer, budget: Double = 0.03) throws -> Bool {
        let start = DispatchTime.now().uptimeNanoseconds
        var changed = false
        for (i, channel) in channels.enumerated() where !finishedRuns.contains(i) {
            while true {
                channel.condition.lock()
                let batch = channel.batches.isEmpty ? nil : channel.batches.removeFirst()
                let finished = channel.batches.isEmpty && channel.done
                let problems = channel.problems, error = channel.error
                channel.condition.signal()
                channel.condition.unlock()
                if let batch {
                    player.append(batch, run: i)
                    changed = true
                }
                if finished {
                    if let error { throw error }
                    player.setProblems(problems, run: i)
                    finishedRuns.insert(i)
                    if isFinished { player.finishLoading() }
                    changed = true
                    break
                }
                if batch == nil || Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 > budget { break }
            }
        }
        return changed
    }

    /// Blocks until every log is read into `player` (tests, and `xright bench replay`'s reference pass).
    public func waitUntilRead(into player: ReplayPlayer) throws {
        while !isFinished {
            if try !poll(into: player, budget: 1) { usleep(1000) }
        }
    }

    private struct Cancelled: Error {}

    private static func read(_ url: URL, into channel: Channel) {
        var batch: [RunRecord] = []
        batch.reserveCapacity(batchSize)
        func push(_ records: [RunRecord]) throws {
            channel.condition.lock()
            defer { channel.condition.unlock() }
            while channel.batches.count >= maxQueuedBatches && !channel.cancelled { channel.condition.wait() }
            if channel.cancelled { throw Cancelled() }
            channel.batches.append(records)
            channel.recordsRead += records.count
        }
        do {
            let problems = try RunLogReader.scan(url, header: { _ in }, record: { record in
                batch.append(record)
                if batch.count >= batchSize {
                    try push(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }, progress: { bytes in
                channel.condition.lock()
                channel.bytesRead = bytes
                channel.condition.unlock()
            })
            if !batch.isEmpty { try push(batch) }
            channel.condition.lock()
            channel.problems = problems
            channel.done = true
            channel.condition.unlock()
        } catch is Cancelled {
            return
        } catch {
            if !batch.isEmpty { try? push(batch) }
            channel.condition.lock()
            channel.error = error
            channel.done = true
            channel.condition.unlock()
        }
    }
}
