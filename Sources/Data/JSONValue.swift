/// A JSON value parsed from one record. Objects keep the last value of a repeated key (as most parsers do).
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// How the type is named in messages ("expected a string, found a number").
    public var typeDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Parses exactly one JSON value (surrounding whitespace allowed) from UTF-8 `bytes`.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        try JSONParser.parseDocument(bytes)
    }

    public static func parse(_ text: String) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try JSONParser.parseDocument($0) }
    }
}

/// Where and why JSON text is not valid: `offset` is the 0-based byte offset of the offending byte.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    /// True when the bytes are not valid UTF-8 (rather than not valid JSON).
    public var isEncodingError: Bool

    public var description: String { "byte \(offset): \(message)" }
}
