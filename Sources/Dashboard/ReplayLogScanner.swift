#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Training

/// What reading a run log skipped, by the rules of docs/RUNLOG.md: corrupt lines in the middle (counted, first
/// line numbers kept), records of unknown types (a newer writer), and a torn last line (the writer was killed).
public struct RunLogProblems: Equatable, Sendable {
    /// At most this many corrupt line numbers are kept; `corruptCount` counts them all.
    public static let keptLineNumbers = 20
    public var corruptLines: [Int] = []
    public var corruptCount = 0
    public var skippedUnknown = 0
    public var tornLastLine = false

    public init() {}

    mutating func noteCorrupt(line: Int) {
        corruptCount += 1
        if corruptLines.count < Self.keptLineNumbers { corruptLines.append(line) }
    }

    /// "2 corrupt lines skipped (lines 4, 9)", or nil when nothing worth telling was skipped. The torn last
    /// line is expected after a kill and unknown types after an upgrade, so only corrupt lines are reported.
    public var corruptSummary: String? {
        guard corruptCount > 0 else { return nil }
        let more = corruptCount > corruptLines.count ? ", …" : ""
        let which = corruptLines.map(String.init).joined(separator: ", ")
        return "\(corruptCount) corrupt line\(corruptCount == 1 ? "" : "s") skipped (line\(corruptLines.count == 1 ? "" : "s") \(which)\(more))"
    }
}

/// Reads a run log front to back in fixed-size chunks, handing each record to a closure: memory stays at one
/// chunk plus one line however long the log is (a million-step log is read by `report` without holding it).
public enum ReplayLogScanner {
    public static let defaultChunkSize = 1 << 20

    /// Calls `header` for line 1, then `record` for every readable record, in order. Throws `RunLogError` for a
    /// missing file, an empty log, a first line that is not a run header, or a schema of another major version.
    @discardableResult
    public static func scan(_ url: URL, chunkSize: Int = defaultChunkSize, header: (RunHeader) throws -> Void,
                            record: (RunRecord) throws -> Void, progress: (Int) -> Void = { _ in }) throws -> RunLogProblems {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RunLogError.unreadable(file: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let decoder = RunLogCoding.makeDecoder()
        var problems = RunLogProblems()
        var lineNumber = 0
        var sawHeader = false
        var chunk = [UInt8](repeating: 0, count: max(64, chunkSize))
        // The start of a line whose newline is in a later chunk.
        var carry = Data()
        var bytesRead = 0

        func consume(_ line: Data, terminated: Bool) throws {
            lineNumber += 1
            if !sawHeader {
                try header(RunLogReader.decodeHeader(line, file: url.path, decoder: decoder))
                sawHeader = true
                return
            }
            switch RunLogReader.decodeRecord(line, decoder: decoder) {
            case .record(let r)?: try record(r)
            case .unknown?: problems.skippedUnknown += 1
            case nil:
                if terminated { problems.noteCorrupt(line: lineNumber) } else { problems.tornLastLine = true }
            }
        }

        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw RunLogError.unreadable(file: url.path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            bytesRead += count
            try chunk.withUnsafeBufferPointer { buffer in
                let bytes = UnsafeBufferPointer(rebasing: buffer[0..<count])
                let base = buffer.baseAddress!
                var start = 0
                while start < count, let found = memchr(base + start, 0x0A, count - start) {
                    let newline = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if carry.isEmpty {
                        try consume(Data(UnsafeBufferPointer(rebasing: bytes[start..<newline])), terminated: true)
                    } else {
                        carry.append(UnsafeBufferPointer(rebasing: bytes[start..<newline]))
                        try consume(carry, terminated: true)
                        carry.removeAll(keepingCapacity: true)
                    }
                    start = newline + 1
                }
                if start < count { carry.append(UnsafeBufferPointer(rebasing: bytes[start..<count])) }
            }
            progress(bytesRead)
        }
        if !carry.isEmpty { try consume(carry, terminated: false) }
        guard sawHeader else { throw RunLogError.empty(file: url.path) }
        return problems
    }

    /// Reads only line 1 of a log and returns its header, with the errors of `scan` (a file that is not a run log,
    /// an empty one, another major schema), so a replay can refuse a bad file before it takes the screen.
    public static func header(of url: URL) throws -> RunHeader {
        struct HeaderRead: Error { let header: RunHeader }
        do {
            try scan(url, chunkSize: 64 * 1024, header: { throw HeaderRead(header: $0) }, record: { _ in })
        } catch let read as HeaderRead {
            return read.header
        }
        throw RunLogError.empty(file: url.path)
    }

    /// The log of a run directory, or the file itself. A directory without `run.jsonl` is refused by name; a
    /// directory without checkpoints is fine (replay and report need only the log).
    public static func logFile(for path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw RunLogError.unreadable(file: url.path, reason: "no such file or directory; expected a run directory or its run.jsonl")
        }
        guard isDirectory.boolValue else { return url }
        let log = RunDirectory(url).log
        guard FileManager.default.fileExists(atPath: log.path) else {
            throw RunLogError.unreadable(file: log.path, reason: "no run.jsonl in \(url.path): not a run directory")
        }
        return log
    }
}
