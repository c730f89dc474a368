#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How records are laid out in a file: one JSON value per line, or the elements of one top-level array.
public enum RecordContainer: String, Codable, Sendable {
    case jsonLines = "jsonl"
    case jsonArray = "json-array"

    public var displayName: String { self == .jsonLines ? "JSON Lines" : "JSON array" }
}

/// Cuts a byte stream into the raw bytes of one record at a time, without parsing them: a line of JSON Lines, or
/// an element of a top-level JSON array (found by tracking strings, escapes and bracket depth, so the array
/// may be one 1 GB line). Memory is one read chunk plus one record of at most `maxRecordBytes`; a longer record
/// is skipped to its end without being stored and reported as `.tooLong`.
final class RecordScanner {
    enum Item {
        /// The record's bytes are in `record` until the next call.
        case record(line: Int, column: Int)
        case tooLong(line: Int, length: Int)
    }

    private enum ArrayState { case expectFirstElementOrEnd, expectElement, afterElement, closed }

    private let source: ByteSource
    private let file: String
    private let maxRecordBytes: Int
    private let chunk: UnsafeMutablePointer<UInt8>
    private let chunkCapacity: Int
    private var chunkCount = 0
    private var position = 0
    /// Offset in the stream of `chunk[0]`.
    private var chunkBase = 0
    private var sourceEnded = false

    private var line = 1
    /// Offset in the stream of the first byte of `line`, for columns.
    private var lineStart = 0
    private var arrayState = ArrayState.expectFirstElementOrEnd
    private var elementsSeen = 0

    private(set) var record: [UInt8] = []
    private(set) var container: RecordContainer?
    private var started = false
    /// Highest number of bytes held at once by the scanner and its source.
    private(set) var peakBufferedBytes = 0

    init(source: ByteSource, file: String, maxRecordBytes: Int, chunkCapacity: Int = 64 * 1024) {
        self.source = source
        self.file = file
        self.maxRecordBytes = maxRecordBytes
        self.chunkCapacity = chunkCapacity
        self.chunk = .allocate(capacity: chunkCapacity)
    }

    deinit { chunk.deallocate() }

    /// The next record, or nil at the end of the data. Throws only for problems of the whole file (an
    /// unreadable or cut-short stream, a broken top-level array).
    func next() throws -> Item? {
        if !started {
            started = true
            try detectContainer()
        }
        switch container {
        case nil: return nil
        case .jsonLines?: return try nextLine()
        case .jsonArray?: return try nextElement()
        }
    }

    // MARK: reading

    /// Makes sure `chunk[position]` holds an unread byte; false at the end of the data.
    private func fill() throws -> Bool {
        if position < chunkCount { return true }
        if sourceEnded { return false }
        chunkBase += chunkCount
        chunkCount = try source.read(into: chunk, capacity: chunkCapacity)
        position = 0
        if chunkCount == 0 { sourceEnded = true; return false }
        return true
    }

    private var column: Int { chunkBase + position - lineStart + 1 }

    private func advancePastByte() {
        if chunk[position] == 0x0A {
            line += 1
            lineStart = chunkBase + position + 1
        }
        position += 1
    }

    private func noteBuffered() {
        peakBufferedBytes = max(peakBufferedBytes, chunkCapacity + record.capacity + source.bufferedBytes)
    }

    private func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Skips a UTF-8 byte order mark and whitespace; the first other byte decides: '[' is a JSON array,
    /// anything else is read as JSON Lines. No such byte means an empty file.
    private func detectContainer() throws {
        // Byte by byte, since the first read may return fewer than the mark's three bytes.
        let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
        while chunkBase + position < 3, try fill(), chunk[position] == byteOrderMark[chunkBase + position] {
            position += 1
            lineStart = chunkBase + position
        }
        while try fill() {
            if !isWhitespace(chunk[position]) {
                if chunk[position] == UInt8(ascii: "[") {
                    container = .jsonArray
                    position += 1
                } else {
                    container = .jsonLines
                }
                return
            }
            advancePastByte()
        }
    }

    // MARK: JSON Lines

    private func nextLine() throws -> Item? {
        while true {
            record.removeAll(keepingCapacity: true)
            let recordLine = line
            var length = 0
            var tooLong = false
            var sawEnd = false
            while !sawEnd {
                guard try fill() else {
                    if length == 0 { return nil }
                    break
                }
                let start = chunk + position
                let available = chunkCount - position
                let newline = memchr(start, 0x0A, available)
                let segment = newline.map { $0.assumingMemoryBound(to: UInt8.self) - start } ?? available
                if !tooLong {
                    if record.count + segment > maxRecordBytes {
                        tooLong = true
                        record.removeAll(keepingCapacity: true)
                    } else {
                        record.append(contentsOf: UnsafeBufferPointer(start: start, count: segment))
                        noteBuffered()
                    }
                }
                length += segment
                position += segment
                if newline != nil {
                    position += 1
                    line += 1
                    lineStart = chunkBase + position
                    sawEnd = true
                }
            }
            if tooLong { return .tooLong(line: recordLine, length: length) }
            if record.last == 0x0D { record.removeLast() }
            if record.allSatisfy(isWhitespace) { continue }
            return .record(line: recordLine, column: 1)
        }
    }

    // MARK: top-level array

    private func nextElement() throws -> Item? {
        while true {
            guard try fill() else {
                if arrayState == .closed { return nil }
                throw DataError(.malformedStructure, file: file, line: line,
                                "the file ends before the top-level JSON array is closed "
                                + "(expected ',' and more elements, or ']', after \(elementsSeen) elements)")
            }
            let byte = chunk[position]
            if isWhitespace(byte) { advancePastByte(); continue }
            switch arrayState {
            case .expectFirstElementOrEnd, .expectElement:
                if byte == UInt8(ascii: "]") {
                    if arrayState == .expectElement {
                        throw structureError("expected another array element after ',', found ']' "
                                             + "(a trailing comma is not valid JSON)")
                    }
                    arrayState = .closed
                    position += 1
                    continue
                }
                arrayState = .afterElement
                elementsSeen += 1
                return try scanElement()
            case .afterElement:
                if byte == UInt8(ascii: ",") { arrayState = .expectElement; position += 1; continue }
                if byte == UInt8(ascii: "]") { arrayState = .closed; position += 1; continue }
                throw structureError("expected ',' or ']' after array element \(elementsSeen), "
                                     + "found \(describe(byte))")
            case .closed:
                throw structureError("unexpected \(describe(byte)) after the end of the top-level JSON array")
            }
        }
    }

    /// Collects one array element, starting at `chunk[position]`. Objects and arrays end when their bracket
    /// depth returns to zero (brackets inside strings do not count); a string ends at its closing quote; a bare
    /// number or literal ends before ',', ']' or whitespace. The parser checks the element's syntax afterwards.
    private func scanElement() throws -> Item {
        record.removeAll(keepingCapacity: true)
        let elementLine = line
        let elementColumn = column
        let first = chunk[position]
        let isScalar = first != UInt8(ascii: "{") && first != UInt8(ascii: "[") && first != UInt8(ascii: "\"")
        var depth = 0
        var inString = false
        var escaped = false
        var length = 0
        var tooLong = false
        var complete = false
        while !complete {
            guard try fill() else {
                throw DataError(.malformedStructure, file: file, line: elementLine, column: elementColumn,
                                "the file ends inside array element \(elementsSeen), which starts here "
                                + "(an unterminated string or a missing closing bracket?)")
            }
            let start = position
            var index = position
            let end = chunkCount
            while index < end {
                let byte = chunk[index]
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                        if depth == 0 { index += 1; complete = true; break }
                    }
                } else if isScalar {
                    if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || isWhitespace(byte) {
                        complete = true
                        break
                    }
                } else if byte == UInt8(ascii: "\"") {
                    inString = true
                } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                    depth += 1
                } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { index += 1; complete = true; break }
                }
                if byte == 0x0A {
                    line += 1
                    lineStart = chunkBase + index + 1
                }
                index += 1
            }
            let segment = index - start
            if !tooLong {
                if record.count + segment > maxRecordBytes {
                    tooLong = true
                    record.removeAll(keepingCapacity: true)
                } else {
                    record.append(contentsOf: UnsafeBufferPointer(start: chunk + start, count: segment))
                    noteBuffered()
                }
            }
            length += segment
            position = index
        }
        if tooLong { return .tooLong(line: elementLine, length: length) }
        return .record(line: elementLine, column: elementColumn)
    }

    private func structureError(_ message: String) -> DataError {
        DataError(.malformedStructure, file: file, line: line, column: column, message)
    }

    private func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }
}
