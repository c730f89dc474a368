/// A JSON number as written. Integers that fit Int64 are held exactly (safetensors offsets, token ids); any other
/// number keeps its text, so a caller can read it exactly (`uint64Value`), as a Double, or show it as written.
/// Two numbers are equal when they are written alike: `1` and `1.0` differ.
public struct JSONNumber: Hashable, Sendable, CustomStringConvertible {
    private enum Storage: Hashable, Sendable {
        case integer(Int64)
        /// A fraction, an exponent, `-0`, or an integer outside Int64.
        case literal(String)
    }

    private let storage: Storage

    public init(_ value: Int64) { storage = .integer(value) }

    /// nil unless `text` is a number by JSON's grammar.
    public init?(_ text: String) {
        var text = text
        guard let number = text.withUTF8({ bytes in
            var parser = JSONParser(bytes, maximumDepth: 0)
            return try? parser.parseDocument(allowsByteOrderMark: false)
        }), case .number(let parsed) = number else { return nil }
        self = parsed
    }

    init(literal text: String) { storage = .literal(text) }

    /// The value when the number is written as an integer (no fraction, no exponent) within Int64.
    public var int64Value: Int64? {
        switch storage {
        case .integer(let value): return value
        case .literal(let text): return Int64(text)
        }
    }

    /// The value when the number is written as a non-negative integer within UInt64.
    public var uint64Value: UInt64? {
        switch storage {
        case .integer(let value): return UInt64(exactly: value)
        case .literal(let text): return text == "-0" ? 0 : UInt64(text)
        }
    }

    /// The nearest Double (infinite when the exponent is out of range).
    public var doubleValue: Double {
        switch storage {
        case .integer(let value): return Double(value)
        case .literal(let text): return Double(text) ?? (text.hasPrefix("-") ? -.infinity : .infinity)
        }
    }

    /// The number as written.
    public var text: String {
        switch storage {
        case .integer(let value): return String(value)
        case .literal(let text): return text
        }
    }

    public var description: String { text }
}
