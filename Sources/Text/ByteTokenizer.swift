/// The tokenizer of the built-in presets: one token per UTF-8 byte, plus two specials.
///
/// Ids: 0...255 are the bytes themselves, 256 is `<|endoftext|>` (end of sequence), 257 is `<|pad|>`
/// (padding); the vocabulary size is 258. Those two strings written in the text encode to their ids. Any
/// string round-trips: `decode(encode(s)) == s` byte for byte.
public struct ByteTokenizer: Tokenizer {
    public static let endOfText = "<|endoftext|>"
    public static let padding = "<|pad|>"

    public let vocabularySize = 258
    public let eosTokenId = 256
    public let padTokenId = 257

    public init() {}

    public func encode(_ text: String) -> [Int] {
        var text = text
        return text.withUTF8 { bytes in
            var ids: [Int] = []
            ids.reserveCapacity(bytes.count)
            var i = 0
            while i < bytes.count {
                // Both specials start with "<|"; only there is a longer comparison needed.
                if bytes[i] == UInt8(ascii: "<") {
                    if Self.matches(Self.endOfText, in: bytes, at: i) {
                        ids.append(eosTokenId)
                        i += Self.endOfText.utf8.count
                        continue
                    }
                    if Self.matches(Self.padding, in: bytes, at: i) {
                        ids.append(padTokenId)
                        i += Self.padding.utf8.count
                        continue
                    }
                }
                ids.append(Int(bytes[i]))
                i += 1
            }
            return ids
        }
    }

    /// Bytes and specials back to text; ids outside 0..<258 are skipped; invalid UTF-8 becomes U+FFFD.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count)
        for id in ids {
            switch id {
            case 0...255: bytes.append(UInt8(id))
            case eosTokenId: bytes.append(contentsOf: Self.endOfText.utf8)
            case padTokenId: bytes.append(contentsOf: Self.padding.utf8)
            default: continue
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func matches(_ special: String, in bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        let pattern = special.utf8
        guard i + pattern.count <= bytes.count else { return false }
        return UnsafeBufferPointer(rebasing: bytes[i..<(i + pattern.count)]).elementsEqual(pattern)
    }
}
