import Foundation
import Training

/// One run under the runs root, as `xright ls` shows it.
public struct RunListing: Equatable, Sendable {
    public var report: RunStatusReport
    /// When the run last wrote to its log (its age in `ls`).
    public var lastActivity: Date?
    public var name: String { URL(fileURLWithPath: report.runDirectory).lastPathComponent }
}

/// Reads the state of runs: live ones answer `status` over their socket; the others are read from the header and
/// the tail of `run.jsonl` (a run without a `finished` record and without a live process crashed).
public enum RunCatalog {
    /// Every directory directly under `root` holding a `run.jsonl`, newest activity first. A log that cannot be
    /// read is listed as `unreadable` with what it is, never skipped silently.
    public static func list(root: URL, statusTimeout: TimeInterval = 2) throws -> [RunListing] {
        let entries: [URL]
        do {
            entries = try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: [.isDirectoryKey])
        } catch {
            let exists = FileManager.default.fileExists(atPath: root.path)
            throw RemoteError.noRunsRoot(path: root.path, reason: exists ? (error as NSError).localizedDescription : "no such directory")
        }
        let runs = entries.filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("run.jsonl").path) }
        return runs.map { describe(RunDirectory($0), statusTimeout: statusTimeout) }
            .sorted { ($0.lastActivity ?? .distantPast) > ($1.lastActivity ?? .distantPast) }
    }

    /// The run directory with the newest activity under `root` (attach's default).
    public static func latest(root: URL) throws -> RunDirectory? {
        let runs = try list(root: root, statusTimeout: 0.5)
        let url = (runs.first { $0.report.state.isLive } ?? runs.first).map { URL(fileURLWithPath: $0.report.runDirectory) }
        return url.map(RunDirectory.init)
    }

    public static func describe(_ run: RunDirectory, statusTimeout: TimeInterval = 2) -> RunListing {
        let modified = (try? FileManager.default.attributesOfItem(atPath: run.log.path))?[.modificationDate] as? Date
        if let client = try? RemoteClient(runDirectory: run), let report = try? client.status(timeout: statusTimeout) {
            return RunListing(report: report, lastActivity: Date())
        }
        let progress: RunProgress
        var problem: String?
        do { progress = try tailProgress(run.log) } catch {
            progress = RunProgress()
            problem = Self.problem(error)
        }
        let pid = RunProbe.livePid(run)
        let state: RunState
        if progress.finished != nil { state = .finished }
        else if pid != nil { state = progress.paused ? .paused : .running }  // live, socket not answering
        else if problem != nil { state = .unreadable }
        else { state = .crashed }
        var report = RunStatusReport(runDirectory: run.url.path, state: state, progress: progress,
                                     pid: state.isLive ? pid : nil)
        report.problem = problem
        return RunListing(report: report, lastActivity: modified)
    }

    /// What a log that cannot be read is, in a few words for the STATE column.
    static func problem(_ error: Error) -> String {
        switch error as? RunLogError {
        case .empty?: return "empty log"
        case .missingHeader?: return "not a run log"
        case .unsupportedSchema(_, let found, _)?: return "schema \(found), unsupported"
        case .unreadable?: return "unreadable log"
        case nil: return "unreadable log"
        }
    }

    /// The header line and the records in the last `tailBytes` of a log: enough for the state, λ, step and losses
    /// without reading a long run's whole log.
    public static func tailProgress(_ log: URL, tailBytes: Int = 256 * 1024) throws -> RunProgress {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: log) } catch {
            throw RunLogError.unreadable(file: log.path, reason: (error as NSError).localizedDescription)
        }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        let head = try handle.read(upToCount: 1 << 20) ?? Data()
        guard !head.isEmpty else { throw RunLogError.empty(file: log.path) }
        guard let headerEnd = head.firstIndex(of: 0x0A) else { throw RunLogError.missingHeader(file: log.path, found: "no complete line") }
        var text = Data(head[..<(headerEnd + 1)])
        let tailStart = max(UInt64(headerEnd + 1), size > UInt64(tailBytes) ? size - UInt64(tailBytes) : 0)
        try handle.seek(toOffset: tailStart)
        var tail = try handle.readToEnd() ?? Data()
        if tailStart > UInt64(headerEnd + 1), let firstNewline = tail.firstIndex(of: 0x0A) {
            tail = Data(tail[(firstNewline + 1)...])  // drop the line the tail starts inside
        }
        text.append(tail)
        let contents = try RunLogReader.parse(text, file: log.path)
        var progress = RunProgress()
        progress.apply(RunRecord(time: 0, event: .header(contents.header)))
        for record in contents.records { progress.apply(record) }
        return progress
    }
}
