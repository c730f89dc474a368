import Foundation

/// Tails a run log that is still being written (`xright replay --follow`, attach): each `poll()` returns the
/// records completed since the last call. A partial last line waits for its newline.
public final class RunLogFollower {
    public let url: URL
    public private(set) var header: RunHeader?
    /// Complete lines that were not valid records.
    public private(set) var corruptLines: [Int] = []
    public private(set) var skippedUnknown = 0
    private var offset: UInt64 = 0
    private var pending = Data()
    private var lineNumber = 0
    private let decoder = RunLogCoding.makeDecoder()

    public init(url: URL) {
        self.url = url
    }

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
        pending.append(fresh)

        var records: [RunRecord] = []
        var consumed = pending.startIndex
        while let newline = pending[consumed...].firstIndex(of: 0x0A) {
            let line = pending[consumed..<newline]
            consumed = newline + 1
            lineNumber += 1
            if header == nil {
                header = try RunLogReader.decodeHeader(Data(line), file: url.path, decoder: decoder)
                continue
            }
            switch RunLogReader.decodeRecord(Data(line), decoder: decoder) {
            case .record(let record)?: records.append(record)
            case .unknown?: skippedUnknown += 1
            case nil: corruptLines.append(lineNumber)
            }
        }
        pending = Data(pending[consumed...])
        return records
    }
}
