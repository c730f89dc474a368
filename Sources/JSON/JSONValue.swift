/// A parsed JSON document (RFC 8259). Objects keep their members in file order, duplicates included, so a reader
/// can reject a repeated key or take the last one as serde and Python do.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The JSON type name, for messages ("expected a string, found an array").
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let number) = self { return number.doubleValue }
        return nil
    }

    /// The value as an Int when it is a number without a fractional part (`3`, `3.0`, `3e0`), exactly.
    public var intValue: Int? {
        guard case .number(let number) = self else { return nil }
        if let exact = number.int64Value { return Int(exactly: exact) }
        let double = number.doubleValue
        return double.rounded() == double && abs(double) < 9.0e15 ? Int(double) : nil
    }

    /// The value written out compactly and cut to `maxLength` characters, for "found …" in messages.
    public func summary(maxLength: Int = 60) -> String {
        let text: String
        switch self {
        case .null: text = "null"
        case .bool(let flag): text = flag ? "true" : "false"
        case .number(let number): text = number.text
        case .string(let string): text = "\"\(string)\""
        case .array(let elements): text = "[" + elements.map { $0.summary(maxLength: maxLength) }
            .joined(separator: ", ") + "]"
        case .object(let object):
            text = "{" + object.members.map { key, value in "\"\(key)\": \(value.summary(maxLength: maxLength))" }
                .joined(separator: ", ") + "}"
        }
        return text.count > maxLength ? String(text.prefix(maxLength - 3)) + "..." : text
    }
}

extension JSONValue {
    /// Parses exactly one JSON value, surrounded only by whitespace, from UTF-8 `bytes`.
    /// `maximumDepth` bounds the nesting of arrays and objects, so hostile input cannot exhaust the stack;
    /// `allowsByteOrderMark` skips a leading UTF-8 BOM (editors on Windows write one). Throws `JSONError`.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int = 512,
                             allowsByteOrderMark: Bool = false) throws -> JSONValue {
        var parser = JSONParser(bytes, maximumDepth: maximumDepth)
        return try parser.parseDocument(allowsByteOrderMark: allowsByteOrderMark)
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer, maximumDepth: Int = 512,
                             allowsByteOrderMark: Bool = false) throws -> JSONValue {
        try parse(bytes.assumingMemoryBound(to: UInt8.self), maximumDepth: maximumDepth,
                  allowsByteOrderMark: allowsByteOrderMark)
    }

    public static func parse(_ bytes: [UInt8], maximumDepth: Int = 512,
                             allowsByteOrderMark: Bool = false) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer {
            try parse($0, maximumDepth: maximumDepth, allowsByteOrderMark: allowsByteOrderMark)
        }
    }

    public static func parse(_ text: String, maximumDepth: Int = 512) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try parse($0, maximumDepth: maximumDepth) }
    }
}
