/// GPT-2's byte-to-character table (openai/gpt-2 `bytes_to_unicode`): byte-level BPE vocabularies spell every
/// byte as one printable character. The printable Latin-1 bytes `!`...`~`, `¡`...`¬`, `®`...`ÿ` stand for
/// themselves; the other 68 bytes map to U+0100, U+0101, ... in byte order (so the space 0x20 is `Ġ` U+0120).
enum ByteLevelAlphabet {
    /// The character standing for each byte.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if standsForItself(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte each character of the alphabet stands for, indexed by scalar value (< 0x144); -1 elsewhere.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    static func standsForItself(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The vocabulary spelling of raw bytes.
    static func spelling(of bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalarForByte[Int(b)]) }
        return String(s)
    }

    /// The raw bytes a vocabulary token stands for, or nil when a character is outside the alphabet (added
    /// tokens such as a run of spaces are stored as plain text; the decoder then emits their UTF-8 as is).
    static func bytes(ofSpelling token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            let v = Int(scalar.value)
            guard v < byteForScalar.count, byteForScalar[v] >= 0 else { return nil }
            out.append(UInt8(byteForScalar[v]))
        }
        return out
    }
}
