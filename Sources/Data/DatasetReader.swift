import Foundation
import JSON

/// How a data file is read.
public struct ReadOptions: Sendable {
    /// The record layout; nil detects it from the first record's keys.
    public var format: RecordFormat?
    /// The kind of records the caller needs; a file of the other kind is an error. nil accepts either.
    public var kind: DatasetKind?
    /// Make the first bad record an error instead of skipping and counting it.
    public var strict: Bool
    /// Longest record (JSON Lines: line) kept; longer ones are skipped without being read into memory.
    public var maxRecordBytes: Int
    /// How many problems `ProblemLog.first` keeps in full.
    public var problemsKept: Int

    public static let defaultMaxRecordBytes = 16 * 1024 * 1024

    public init(format: RecordFormat? = nil, kind: DatasetKind? = nil, strict: Bool = false,
                maxRecordBytes: Int = ReadOptions.defaultMaxRecordBytes, problemsKept: Int = 10) {
        self.format = format
        self.kind = kind
        self.strict = strict
        self.maxRecordBytes = maxRecordBytes
        self.problemsKept = problemsKept
    }
}

/// Streams the records of one data file (JSON array or JSON Lines, optionally gzip-compressed), one at a time,
/// in bounded memory. Bad records are skipped and logged in `problems` (or thrown when `strict`); problems
/// with the file as a whole are always thrown.
///
///     let reader = try DatasetReader(path: "hh.jsonl.gz", options: ReadOptions(kind: .preference))
///     while let record = try reader.next() { … }
public final class DatasetReader {
    public let path: String
    public let options: ReadOptions
    public let isGzip: Bool
    /// The format in use: the one asked for, or the one detected once the first record is read.
    public private(set) var format: RecordFormat?
    public private(set) var problems: ProblemLog
    /// Records met so far, usable or not (blank lines are not records).
    public private(set) var recordsRead = 0
    public private(set) var usableRecords = 0
    /// Messages in the usable conversations read so far (system messages included); 0 for other formats.
    public private(set) var conversationTurns = 0
    /// SFT examples from usable records: one per record, one per trained reply of a conversation.
    public private(set) var examplesProduced = 0

    /// A conversation's examples after the first, handed out by the next calls to `next()`.
    private var pending: [DataRecord] = []

    private let scanner: RecordScanner
    /// Whether any record so far was a JSON object; until one is, the file may not be data at all.
    private var sawObject = false
    /// Give up on a file after this many records when none of them is a JSON object.
    static let recordsBeforeGivingUp = 100
    /// Records nest a few levels (a conversation of messages); deeper is hostile or not data.
    static let maximumRecordDepth = 256

    public init(path: String, options: ReadOptions = ReadOptions()) throws {
        self.path = path
        self.options = options
        self.format = options.format
        self.problems = ProblemLog(keep: options.problemsKept)
        if let format = options.format, let kind = options.kind, format.kind != kind {
            throw DataError(.wrongKind, file: path, "format \(format.rawValue) holds \(format.kind.displayName), "
                            + "but \(kind.displayName) were asked for")
        }
        let (source, isGzip) = try ByteSources.open(path: path)
        self.isGzip = isGzip
        self.scanner = RecordScanner(source: source, file: path, maxRecordBytes: options.maxRecordBytes)
    }

    public convenience init(url: URL, options: ReadOptions = ReadOptions()) throws {
        try self.init(path: url.path, options: options)
    }

    /// JSON Lines or JSON array; known once the first non-blank byte has been read.
    public var container: RecordContainer? { scanner.container }

    /// The most bytes the reader has held in its buffers at once: one read chunk, one record, and the gzip
    /// input buffer and window. Independent of the file's size.
    public var peakBufferedBytes: Int { scanner.peakBufferedBytes }

    /// The next usable record, or nil at the end of the file.
    public func next() throws -> DataRecord? {
        if !pending.isEmpty { return pending.removeFirst() }
        while let item = try scanner.next() {
            let index = recordsRead
            recordsRead += 1
            do {
                var records = try decode(item, index: index)
                usableRecords += 1
                examplesProduced += records.count
                let record = records.removeFirst()
                pending = records
                return record
            } catch let problem as DataError where problem.isRecordLevel && !options.strict {
                problems.add(problem)
                if !sawObject && recordsRead >= Self.recordsBeforeGivingUp { throw notDataError() }
            }
        }
        if !sawObject && recordsRead > 0 { throw notDataError() }
        if recordsRead == 0 {
            throw DataError(.emptyFile, file: path, scanner.container == nil
                            ? "the file is empty (no JSON records)" : "the file holds no records (empty JSON array)")
        }
        return nil
    }

    /// Every remaining usable record.
    public func readAll() throws -> [DataRecord] {
        var records: [DataRecord] = []
        while let record = try next() { records.append(record) }
        return records
    }

    /// The record's examples: one, or one per trained reply of a conversation.
    private func decode(_ item: RecordScanner.Item, index: Int) throws -> [DataRecord] {
        switch item {
        case .tooLong(let line, let length):
            let what = container == .jsonArray ? "array element" : "line"
            throw DataError(.recordTooLong, file: path, line: line, recordIndex: index,
                            "the \(what) is \(length) bytes long, over the limit of \(options.maxRecordBytes) "
                            + "bytes per record; it was skipped without being read into memory")
        case .record(let line, let column):
            let location = RecordLocation(file: path, line: line, recordIndex: index)
            let object = try parseObject(line: line, column: column, location: location)
            let format = try formatFor(object, location: location)
            let fields = RecordFields(object: object, location: location)
            switch format {
            case .alpaca: return [.sft(try FlatRecordDecoders.alpaca(fields))]
            case .promptResponse: return [.sft(try FlatRecordDecoders.promptResponse(fields))]
            case .promptChosenRejected: return [.preference(try FlatRecordDecoders.promptChosenRejected(fields))]
            case .anthropicHH: return [.preference(try AnthropicHH.decode(fields))]
            case .sharegpt:
                let pair = try ShareGPT.decode(fields)
                conversationTurns += pair.context.count + 1
                return [.preference(pair)]
            case .sharegptSFT:
                let conversation = try ShareGPTConversation.decode(fields)
                conversationTurns += conversation.turns
                return conversation.examples.map { .sft($0) }
            }
        }
    }

    private func parseObject(line: Int, column: Int, location: RecordLocation) throws -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValue.parse(scanner.record, maximumDepth: Self.maximumRecordDepth)
        } catch let error as JSONError {
            // The record starts at (line, column) of the file; the error's place is counted within the record.
            let errorLine = line + error.line - 1
            let errorColumn = error.line == 1 ? column + error.column - 1 : error.column
            throw DataError(error.isEncodingError ? .invalidUTF8 : .malformedJSON, file: path, line: errorLine,
                            column: errorColumn, recordIndex: location.recordIndex, error.recordMessage)
        }
        guard case .object(let object) = value else {
            throw DataError.record(.notAnObject, at: location,
                                   "expected a JSON object per record, found \(value.typeName)")
        }
        sawObject = true
        return object
    }

    /// No record parsed as a JSON object: this is not a data file, or not one in a layout xright reads.
    private func notDataError() -> DataError {
        let first = problems.first.first
        return DataError(.unknownFormat, file: path, line: first?.line,
                         "none of the first \(recordsRead) records is a JSON object, so this is not a data file "
                         + "xright can read (JSON Lines needs one complete record per line; a JSON file must be "
                         + "a top-level array of records); first problem: " + (first?.message ?? "none"))
    }

    private func formatFor(_ object: JSONObject, location: RecordLocation) throws -> RecordFormat {
        if let format { return format }
        guard let detected = RecordFormat.detect(keys: Set(object.keys), kind: options.kind) else {
            let keys = object.keys.sorted().joined(separator: ", ")
            throw DataError(.unknownFormat, file: path, line: location.line,
                            "cannot tell the format from the keys of the first record ({\(keys)}); expected "
                            + RecordFormat.allCases.map { "{\($0.expectedKeys)}" }.joined(separator: ", ")
                            + " (or pass the format explicitly)")
        }
        if let kind = options.kind, detected.kind != kind {
            throw DataError(.wrongKind, file: path, line: location.line,
                            "the file holds \(detected.kind.displayName) (format \(detected.rawValue), detected "
                            + "from the first record's keys), but \(kind.displayName) were asked for")
        }
        format = detected
        return detected
    }
}

/// Reads SFT examples only; a file of preference pairs is an error.
public final class SFTReader {
    public let reader: DatasetReader

    public init(path: String, options: ReadOptions = ReadOptions()) throws {
        var options = options
        options.kind = .sft
        reader = try DatasetReader(path: path, options: options)
    }

    public func next() throws -> SFTExample? {
        guard let record = try reader.next() else { return nil }
        guard case .sft(let example) = record else { preconditionFailure("kind is checked by DatasetReader") }
        return example
    }

    public func readAll() throws -> [SFTExample] {
        var examples: [SFTExample] = []
        while let example = try next() { examples.append(example) }
        return examples
    }

    public var problems: ProblemLog { reader.problems }
}

/// Reads preference pairs only; a file of SFT examples is an error.
public final class PreferenceReader {
    public let reader: DatasetReader

    public init(path: String, options: ReadOptions = ReadOptions()) throws {
        var options = options
        options.kind = .preference
        reader = try DatasetReader(path: path, options: options)
    }

    public func next() throws -> PreferencePair? {
        guard let record = try reader.next() else { return nil }
        guard case .preference(let pair) = record else { preconditionFailure("kind is checked by DatasetReader") }
        return pair
    }

    public func readAll() throws -> [PreferencePair] {
        var pairs: [PreferencePair] = []
        while let pair = try next() { pairs.append(pair) }
        return pairs
    }

    public var problems: ProblemLog { reader.problems }
}
