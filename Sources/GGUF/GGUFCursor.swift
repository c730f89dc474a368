/// Reads little-endian GGUF fields from a byte range, checking every read against the end so that a truncated
/// or corrupt file gives an error naming the offset and field, never a crash or an allocation sized by garbage.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int
    let file: String

    init(_ bytes: UnsafeRawBufferPointer, file: String, offset: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    func error(_ message: String) -> GGUFError { GGUFError(file: file, message: message) }

    /// Fails unless `count` more bytes are there for `what`.
    func require(_ count: Int, for what: @autoclosure () -> String) throws {
        guard count <= remaining else {
            throw error("\(what()) at offset \(offset) needs \(count) bytes, but only \(remaining) remain "
                + "(the file is \(bytes.count) bytes; truncated?)")
        }
    }

    mutating func load<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try require(MemoryLayout<T>.size, for: what())
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return value
    }

    mutating func float32(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try load(UInt32.self, what()))
    }

    mutating func float64(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try load(UInt64.self, what()))
    }

    /// A u64 length followed by that many bytes of UTF-8 (invalid sequences become U+FFFD, as Python's
    /// `errors="replace"` reads them).
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let start = offset
        let length = try load(UInt64.self, "length of \(what())")
        guard length <= UInt64(remaining) else {
            throw error("\(what()) at offset \(start) has length \(length), but only \(remaining) bytes remain "
                + "(truncated or corrupt file?)")
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))]),
                          as: UTF8.self)
        offset += Int(length)
        return text
    }

    mutating func skip(to newOffset: Int) { offset = newOffset }
}
