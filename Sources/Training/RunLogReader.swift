#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What a run log holds, read back whole (tests, small logs; long ones are streamed with `RunLogReader.scan`).
public struct RunLogContents: Equatable, Sendable {
    public var header: RunHeader
    /// Every readable record after the header, in order (unknown types are left out and counted).
    public var records: [RunRecord]
    /// 1-based line numbers of lines that are not valid records (not the torn last line).
    public var corruptLines: [Int]
    /// Records of types this version does not know (a newer minor version wrote them).
    public var skippedUnknown: Int
    /// The last line was cut short (the writer was killed mid-line); it is ignored.
    public var tornLastLine: Bool
}

/// What reading a run log skipped, by the rules of docs/RUNLOG.md: corrupt lines in the middle (counted, first
/// line numbers kept), records of unknown types (a newer writer), and a torn last line (the writer was killed).
public struct RunLogProblems: Equatable, Sendable {
    /// At most this many corrupt line numbers are kept by a streaming read; `corruptCount` counts them all.
    public static let keptLineNumbers = 20
    public var corruptLines: [Int] = []
    public var corruptCount = 0
    public var skippedUnknown = 0
    public var tornLastLine = false

    public init() {}

    mutating func noteCorrupt(line: Int, keeping limit: Int = keptLineNumbers) {
        corruptCount += 1
        if corruptLines.count < limit { corruptLines.append(line) }
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

public enum RunLogError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case empty(file: String)
    case missingHeader(file: String, found: String)
    case unsupportedSchema(file: String, found: String, supported: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read run log: \(reason)"
        case let .empty(file): return "\(file): run log is empty; expected a header line"
        case let .missingHeader(file, found):
            return "\(file) line 1: expected the run header ({\"type\":\"header\",…}); found \(found)"
        case let .unsupportedSchema(file, found, supported):
            return "\(file) line 1: run log schema \(found) is not supported (this program reads \(supported)); "
                + "use a newer xright to read it"
        }
    }
}

/// The one reader of `run.jsonl`: header first, then one record per line, streamed in fixed-size chunks so
/// memory stays at one chunk plus one line however long the log is. A line the writer was cut off in the middle
/// of is expected at the end and ignored; a bad line elsewhere is counted, reported by number and skipped. Step
/// lines, nearly all of a log, take the `StepLineDecoder` fast path. Entry points: `scan` (every record, to a
/// closure), `read` (all of it in memory), `header(of:)` (line 1 only), and `RunLogFollower` (a log still being
/// written).
public enum RunLogReader {
    public static let defaultChunkSize = 1 << 20

    /// Calls `header` for line 1, then `record` for every readable record, in order. Throws `RunLogError` for a
    /// missing file, an empty log, a first line that is not a run header, or a schema of another major version.
    @discardableResult
    public static func scan(_ url: URL, chunkSize: Int = defaultChunkSize, header: (RunHeader) throws -> Void,
                            record: (RunRecord) throws -> Void, progress: (Int) -> Void = { _ in }) throws -> RunLogProblems {
        var lines = RunLogLines(file: url.path)
        var bytesRead = 0
        try readChunks(url, chunkSize: chunkSize) { bytes in
            bytesRead += bytes.count
            try lines.feed(bytes, header: header, record: record)
            progress(bytesRead)
            return true
        }
        try lines.finish(header: header, record: record)
        guard lines.header != nil else { throw RunLogError.empty(file: url.path) }
        return lines.problems
    }

    /// Line 1 of a log and nothing more: its header, with the errors of `scan` (a file that is not a run log, an
    /// empty one, another major schema), so a replay can refuse a bad file before it takes the screen and a resume
    /// reads its options without going through the whole log.
    public static func header(of url: URL) throws -> RunHeader {
        var lines = RunLogLines(file: url.path)
        var found: RunHeader?
        let keep: (RunHeader) -> Void = { found = $0 }
        try readChunks(url, chunkSize: 64 * 1024) { bytes in
            try lines.feed(bytes, upToLines: 1, header: keep, record: { _ in })
            return found == nil
        }
        if found == nil { try lines.finish(header: keep, record: { _ in }) }
        guard let found else { throw RunLogError.empty(file: url.path) }
        return found
    }

    /// The whole log in memory, every corrupt line number kept.
    public static func read(_ url: URL) throws -> RunLogContents {
        var lines = RunLogLines(file: url.path, keptLineNumbers: .max)
        var records: [RunRecord] = []
        try readChunks(url, chunkSize: defaultChunkSize) { bytes in
            try lines.feed(bytes, header: { _ in }, record: { records.append($0) })
            return true
        }
        try lines.finish(header: { _ in }, record: { records.append($0) })
        return try lines.contents(records)
    }

    /// A log already in memory (the header and tail `xright ls` reads).
    public static func parse(_ data: Data, file: String) throws -> RunLogContents {
        var lines = RunLogLines(file: file, keptLineNumbers: .max)
        var records: [RunRecord] = []
        try data.withUnsafeBytes { raw in
            try lines.feed(raw.bindMemory(to: UInt8.self), header: { _ in }, record: { records.append($0) })
        }
        try lines.finish(header: { _ in }, record: { records.append($0) })
        return try lines.contents(records)
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

    /// Line 1 of a log: the header, or `missingHeader` / `unsupportedSchema` naming the file.
    public static func decodeHeader(_ bytes: Data, file: String, decoder: JSONDecoder) throws -> RunHeader {
        struct Probe: Decodable { var type: String?; var schema: String? }
        guard let probe = try? decoder.decode(Probe.self, from: bytes), probe.type == "header" else {
            throw RunLogError.missingHeader(file: file, found: preview(bytes))
        }
        let schema = probe.schema ?? "?"
        guard let major = schema.split(separator: ".").first.flatMap({ Int($0) }), major == RunLogSchema.major else {
            throw RunLogError.unsupportedSchema(file: file, found: schema, supported: "\(RunLogSchema.major).x")
        }
        do {
            let record = try decoder.decode(RunRecord.self, from: bytes)
            guard case .header(let header) = record.event else { throw RunLogError.missingHeader(file: file, found: preview(bytes)) }
            return header
        } catch let error as RunLogError {
            throw error
        } catch {
            throw RunLogError.missingHeader(file: file, found: "a header with bad fields (\(DecodingErrorText.describe(error)))")
        }
    }

    public enum Decoded { case record(RunRecord), unknown }

    /// One later line: a record, an unknown type (skip), or nil when it is not a valid record.
    public static func decodeRecord(_ bytes: Data, decoder: JSONDecoder) -> Decoded? {
        // Nearly every line is a step: the fast path reads those, anything else goes to JSONDecoder.
        if let step = StepLineDecoder.decode(bytes) { return isPlausible(step) ? .record(step) : nil }
        guard let record = try? decoder.decode(RunRecord.self, from: bytes) else { return nil }
        if case .unknown = record.event { return .unknown }
        return isPlausible(record) ? .record(record) : nil
    }

    /// A step the writer can never produce (a negative step, epoch, token count or elapsed time) is a corrupt
    /// line, not a record for the screen to draw at step −2³¹ (issue #18).
    public static func isPlausible(_ record: RunRecord) -> Bool {
        guard case .step(let s) = record.event else { return true }
        return s.step >= 0 && s.epoch >= 0 && s.tokens >= 0 && s.elapsedSeconds >= 0 && s.stepSeconds >= 0
    }

    /// What a line holds, for messages: its record type when it is one, else its first characters.
    static func preview(_ bytes: Data) -> String {
        struct TypeProbe: Decodable { var type: String }
        if let probe = try? JSONDecoder().decode(TypeProbe.self, from: bytes) { return "a '\(probe.type)' record" }
        let text = String(decoding: bytes.prefix(60), as: UTF8.self)
        return bytes.isEmpty ? "an empty line" : "'\(text)\(bytes.count > 60 ? "…" : "")'"
    }

    /// Hands the file's bytes to `body` a chunk at a time until the end, or until `body` returns false.
    private static func readChunks(_ url: URL, chunkSize: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Bool) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RunLogError.unreadable(file: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var chunk = [UInt8](repeating: 0, count: max(64, chunkSize))
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw RunLogError.unreadable(file: url.path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { return }
            let more = try chunk.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<count])) }
            if !more { return }
        }
    }
}

/// Follow mode: tails a run log that is still being written (`xright replay --follow`). Each `poll()` returns
/// the records completed since the last call; a partial last line waits for its newline.
public final class RunLogFollower {
    public let url: URL
    private var lines: RunLogLines
    private var offset: UInt64 = 0

    public init(url: URL) {
        self.url = url
        lines = RunLogLines(file: url.path)
    }

    public var header: RunHeader? { lines.header }
    /// Complete lines that were not valid records, and records of unknown types.
    public var problems: RunLogProblems { lines.problems }

    /// Whether the last poll stopped at `maxBytes` with more of the file left to read.
    public private(set) var isBehind = false

    /// New records since the last poll (empty when nothing new, or the file does not exist yet). Reads at most
    /// `maxBytes` of the file, so a viewer that starts on a long log can draw between polls (see `isBehind`).
    public func poll(maxBytes: Int = Int.max) throws -> [RunRecord] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw RunLogError.unreadable(file: url.path, reason: (error as NSError).localizedDescription)
        }
        defer { try? handle.close() }
        let fresh: Data
        do {
            try handle.seek(toOffset: offset)
            fresh = try (maxBytes == Int.max ? handle.readToEnd() : handle.read(upToCount: maxBytes)) ?? Data()
        } catch {
            throw RunLogError.unreadable(file: url.path, reason: (error as NSError).localizedDescription)
        }
        offset += UInt64(fresh.count)
        isBehind = maxBytes != Int.max && fresh.count == maxBytes
        var records: [RunRecord] = []
        try fresh.withUnsafeBytes { raw in
            try lines.feed(raw.bindMemory(to: UInt8.self), header: { _ in }, record: { records.append($0) })
        }
        return records
    }
}

/// The line-by-line decoding every entry point shares: bytes in, in any chunking; line 1 must be the header,
/// every later line is a record, an unknown type (counted) or corrupt (counted, by line number).
struct RunLogLines {
    let file: String
    let keptLineNumbers: Int
    private let decoder = RunLogCoding.makeDecoder()
    private(set) var header: RunHeader?
    private(set) var problems = RunLogProblems()
    /// The start of a line whose newline has not come yet.
    private var carry = Data()
    private var lineNumber = 0

    init(file: String, keptLineNumbers: Int = RunLogProblems.keptLineNumbers) {
        self.file = file
        self.keptLineNumbers = keptLineNumbers
    }

    /// Decodes every line `bytes` completes (stopping after `upToLines` lines in all, when given).
    mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, upToLines limit: Int = .max,
                       header: (RunHeader) throws -> Void, record: (RunRecord) throws -> Void) throws {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var start = 0
        while start < count, lineNumber < limit, let found = memchr(base + start, 0x0A, count - start) {
            let newline = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            let piece = UnsafeBufferPointer(rebasing: bytes[start..<newline])
            if carry.isEmpty {
                try consume(Data(piece), terminated: true, header: header, record: record)
            } else {
                carry.append(piece)
                let line = carry
                carry.removeAll(keepingCapacity: true)
                try consume(line, terminated: true, header: header, record: record)
            }
            start = newline + 1
        }
        if start < count, lineNumber < limit { carry.append(UnsafeBufferPointer(rebasing: bytes[start..<count])) }
    }

    /// The end of the input: a last line without its newline (the writer was killed mid-line).
    mutating func finish(header: (RunHeader) throws -> Void, record: (RunRecord) throws -> Void) throws {
        guard !carry.isEmpty else { return }
        let line = carry
        carry.removeAll()
        try consume(line, terminated: false, header: header, record: record)
    }

    func contents(_ records: [RunRecord]) throws -> RunLogContents {
        guard let header else { throw RunLogError.empty(file: file) }
        return RunLogContents(header: header, records: records, corruptLines: problems.corruptLines,
                              skippedUnknown: problems.skippedUnknown, tornLastLine: problems.tornLastLine)
    }

    private mutating func consume(_ line: Data, terminated: Bool, header found: (RunHeader) throws -> Void,
                                  record: (RunRecord) throws -> Void) throws {
        lineNumber += 1
        guard header != nil else {
            let decoded = try RunLogReader.decodeHeader(line, file: file, decoder: decoder)
            header = decoded
            try found(decoded)
            return
        }
        switch RunLogReader.decodeRecord(line, decoder: decoder) {
        case .record(let r)?: try record(r)
        case .unknown?: problems.skippedUnknown += 1
        case nil:
            if terminated { problems.noteCorrupt(line: lineNumber, keeping: keptLineNumbers) } else { problems.tornLastLine = true }
        }
    }
}

/// Human text for a DecodingError: the field path and what was wrong.
enum DecodingErrorText {
    static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ keys: [CodingKey]) -> String {
            keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, ctx): return "missing field \(path(ctx.codingPath + [key]))"
        case let .typeMismatch(type, ctx): return "field \(path(ctx.codingPath)): expected \(type)"
        case let .valueNotFound(type, ctx): return "field \(path(ctx.codingPath)): expected \(type), found null"
        case let .dataCorrupted(ctx): return "field \(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default: return String(describing: error)
        }
    }
}

#if canImport(Darwin)
private enum Glibc { static let read = Darwin.read }
#endif
