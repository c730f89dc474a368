/// The GPT-2 pre-tokenization pattern, written out by hand over UTF-8 bytes:
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// Every character is a letter, a number, whitespace or "other", so some alternative matches at every position
/// and the matches tile the text. At each position the first alternative that matches wins (leftmost-first, as
/// in Oniguruma), and each `+` is greedy. The one backtracking case is `\s+(?!\S)`: a whitespace run followed by
/// a non-space gives up its last character, which then leads the next word (" world") or stands alone.
public enum GPT2Split {
    /// Calls `body(start, end)` for each piece of `text` (valid UTF-8), in order.
    @inline(__always)
    public static func forEachPiece(_ text: UnsafeBufferPointer<UInt8>, _ body: (Int, Int) -> Void) {
        let count = text.count
        guard count > 0, let base = text.baseAddress else { return }
        var scanner = ClassScanner(base: base, count: count)
        var start = 0
        while start < count {
            let end = scanner.pieceEnd(from: start)
            body(start, end)
            start = end
        }
    }

    /// The pieces of `text` as strings (for tests and inspection; the tokenizer uses `forEachPiece`).
    public static func pieces(of text: String) -> [String] {
        var copy = text
        return copy.withUTF8 { buffer in
            var out: [String] = []
            forEachPiece(buffer) { start, end in
                out.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self))
            }
            return out
        }
    }
}

/// Decodes characters and their split class from UTF-8 with an ASCII fast path.
struct ClassScanner {
    let base: UnsafePointer<UInt8>
    let count: Int
    let basicPlane = ClassTable.basicPlane

    /// Class and byte length of the character at `i`.
    @inline(__always)
    func character(at i: Int) -> (SplitCharacterClass, Int) {
        let lead = base[i]
        if lead < 0x80 { return (asciiClass(lead), 1) }
        var scalar: UInt32
        let length: Int
        if lead < 0xE0 {
            scalar = UInt32(lead & 0x1F)
            length = 2
        } else if lead < 0xF0 {
            scalar = UInt32(lead & 0x0F)
            length = 3
        } else {
            scalar = UInt32(lead & 0x07)
            length = 4
        }
        // The input is valid UTF-8 (it comes from a Swift String), so the continuation bytes are present.
        for k in 1..<length { scalar = scalar << 6 | UInt32(base[i + k] & 0x3F) }
        if scalar < 0x10000 {
            return (basicPlane[Int(scalar)], length)
        }
        return (SplitCharacterClass.computed(Unicode.Scalar(scalar)!), length)
    }

    @inline(__always)
    func asciiClass(_ byte: UInt8) -> SplitCharacterClass {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0x30...0x39: return .number
        case 0x09...0x0D, 0x20: return .whitespace
        default: return .other
        }
    }

    /// End of the run of characters of class `cls` starting at `i`.
    @inline(__always)
    func runEnd(from i: Int, of cls: SplitCharacterClass) -> Int {
        var j = i
        while j < count {
            let (c, length) = character(at: j)
            if c != cls { break }
            j += length
        }
        return j
    }

    /// End of the piece that starts at `start`.
    @inline(__always)
    mutating func pieceEnd(from start: Int) -> Int {
        let lead = base[start]
        if lead == UInt8(ascii: "'"), let end = contractionEnd(from: start) { return end }
        let (cls, length) = character(at: start)
        if lead == UInt8(ascii: " "), start + 1 < count {
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a single space leads the word after it.
            let (next, nextLength) = character(at: start + 1)
            if next != .whitespace { return runEnd(from: start + 1 + nextLength, of: next) }
        }
        if cls != .whitespace { return runEnd(from: start + length, of: cls) }
        // `\s+(?!\S)` then `\s+`.
        var end = start + length
        var lastStart = start
        while end < count {
            let (c, l) = character(at: end)
            if c != .whitespace { break }
            lastStart = end
            end += l
        }
        if end == count || lastStart == start { return end }
        return lastStart
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d` (case-sensitive), tried before everything else.
    @inline(__always)
    func contractionEnd(from start: Int) -> Int? {
        guard start + 1 < count else { return nil }
        switch base[start + 1] {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return start + 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            return start + 2 < count && base[start + 2] == UInt8(ascii: "e") ? start + 3 : nil
        case UInt8(ascii: "l"):
            return start + 2 < count && base[start + 2] == UInt8(ascii: "l") ? start + 3 : nil
        default:
            return nil
        }
    }
}
