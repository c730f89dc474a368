import Foundation

/// What a run log holds, read back for replay or analysis.
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

/// Reads `run.jsonl`: header first, then one record per line. A line the writer was cut off in the middle of is
/// expected at the end and ignored; a bad line elsewhere is counted, reported by number and skipped.
public enum RunLogReader {
    public static func read(_ url: URL) throws -> RunLogContents {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RunLogError.unreadable(file: url.path, reason: (error as NSError).localizedDescription)
        }
        return try parse(data, file: url.path)
    }

    public static func parse(_ data: Data, file: String) throws -> RunLogContents {
        let lines = LineSplitter.split(data)
        guard let first = lines.first else { throw RunLogError.empty(file: file) }
        let decoder = RunLogCoding.makeDecoder()
        let header = try decodeHeader(first.bytes, file: file, decoder: decoder)
        var records: [RunRecord] = []
        records.reserveCapacity(lines.count)
        var corrupt: [Int] = []
        var unknown = 0
        var torn = false
        for (offset, line) in lines.enumerated().dropFirst() {
            switch decodeRecord(line.bytes, decoder: decoder) {
            case .record(let record)?: records.append(record)
            case .unknown?: unknown += 1
            case nil:
                if line.terminated { corrupt.append(offset + 1) } else { torn = true }
            }
        }
        return RunLogContents(header: header, records: records, corruptLines: corrupt,
                              skippedUnknown: unknown, tornLastLine: torn)
    }

    /// Line 1 of a log: the header, or `missingHeader` / `unsupportedSchema` naming the file (replay streams logs).
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
        if let step = StepLineDecoder.decode(bytes) { return .record(step) }
        guard let record = try? decoder.decode(RunRecord.self, from: bytes) else { return nil }
        if case .unknown = record.event { return .unknown }
        return .record(record)
    }

    /// What a line holds, for messages: its record type when it is one, else its first characters.
    static func preview(_ bytes: Data) -> String {
        struct TypeProbe: Decodable { var type: String }
        if let probe = try? JSONDecoder().decode(TypeProbe.self, from: bytes) { return "a '\(probe.type)' record" }
        let text = String(decoding: bytes.prefix(60), as: UTF8.self)
        return bytes.isEmpty ? "an empty line" : "'\(text)\(bytes.count > 60 ? "…" : "")'"
    }
}

/// Lines of a byte buffer, noting whether each ended with a newline (only the last one may not).
enum LineSplitter {
    struct Line { var bytes: Data; var terminated: Bool }

    static func split(_ data: Data) -> [Line] {
        var lines: [Line] = []
        var start = data.startIndex
        while start < data.endIndex {
            if let newline = data[start...].firstIndex(of: 0x0A) {
                lines.append(Line(bytes: data[start..<newline], terminated: true))
                start = newline + 1
            } else {
                lines.append(Line(bytes: data[start...], terminated: false))
                break
            }
        }
        return lines
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
