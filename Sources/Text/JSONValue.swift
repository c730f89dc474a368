/// A parsed JSON document. Objects keep their keys in file order and compare keys byte for byte (Swift's
/// `String ==` would merge canonically equivalent keys, which a vocabulary must keep apart).
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The JSON type name, for error messages ("expected a string, got an array").
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

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The value as an integer when it is a number without a fractional part.
    public var intValue: Int? {
        if case .number(let d) = self, d.rounded() == d, abs(d) < 9.0e15 { return Int(d) }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

/// The members of a JSON object, in file order.
public struct JSONObject: Sendable {
    public var keys: [String]
    public var values: [JSONValue]

    public init(keys: [String] = [], values: [JSONValue] = []) {
        self.keys = keys
        self.values = values
    }

    public var count: Int { keys.count }

    /// The value of the last member named `key` (as serde and Python do for duplicate keys).
    public subscript(key: String) -> JSONValue? {
        let wanted = key.utf8
        for i in keys.indices.reversed() where keys[i].utf8.elementsEqual(wanted) {
            return values[i]
        }
        return nil
    }
}

/// Where and why a JSON document failed to parse.
public struct JSONParseError: Error, Equatable, CustomStringConvertible, Sendable {
    public let line: Int
    public let column: Int
    public let expected: String
    public let got: String

    public init(line: Int, column: Int, expected: String, got: String) {
        self.line = line
        self.column = column
        self.expected = expected
        self.got = got
    }

    public var description: String { "line \(line), column \(column): expected \(expected), got \(got)" }
}

extension JSONValue {
    /// Parses a complete JSON document (RFC 8259; strings must be valid UTF-8 without lone surrogates).
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { try parse($0) }
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var parser = JSONParser(bytes)
        return try parser.parseDocument()
    }
}

/// A recursive-descent parser over UTF-8 bytes; positions become line/column only when an error is reported.
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var depth = 0
    /// Deeper documents are rejected rather than risking the stack.
    static let maximumDepth = 512

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if position < bytes.count { throw error(expected: "end of document", got: describeHere()) }
        return value
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws -> JSONValue {
        guard position < bytes.count else { throw error(expected: "a value", got: "end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error(expected: "a value", got: describeHere())
        }
    }

    mutating func enter() throws {
        depth += 1
        if depth > Self.maximumDepth {
            throw error(expected: "at most \(Self.maximumDepth) nested arrays/objects", got: "deeper nesting")
        }
    }

    mutating func parseObject() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        position += 1
        var object = JSONObject()
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw error(expected: "a string key", got: describeHere())
            }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw error(expected: "':' after key \"\(key)\"", got: describeHere())
            }
            position += 1
            skipWhitespace()
            object.keys.append(key)
            object.values.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw error(expected: "',' or '}'", got: "end of input") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(object) }
            throw error(expected: "',' or '}'", got: describeHere())
        }
    }

    mutating func parseArray() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw error(expected: "',' or ']'", got: "end of input") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
            throw error(expected: "',' or ']'", got: describeHere())
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        guard position + count <= bytes.count else { throw error(expected: "\(literal)", got: describeHere()) }
        for i in 0..<count where bytes[position + i] != start[i] {
            throw error(expected: "\(literal)", got: describeHere())
        }
        position += count
    }

    mutating func parseNumber() throws -> Double {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        var integer: Double = 0
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
            integer = integer * 10 + Double(bytes[position] - 0x30)
            position += 1
        }
        let integerDigits = position - integerStart
        if integerDigits == 0 { throw error(expected: "a digit", got: describeHere()) }
        if integerDigits > 1, bytes[integerStart] == 0x30 {
            throw error(at: integerStart, expected: "a number without leading zeros", got: "'0' followed by digits")
        }
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            let fractionStart = position
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            if position == fractionStart { throw error(expected: "a digit after '.'", got: describeHere()) }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            let exponentStart = position
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            if position == exponentStart { throw error(expected: "a digit in the exponent", got: describeHere()) }
        }
        // Integers up to 2^53 are exact when accumulated; anything else goes through the standard parser.
        if isInteger, integerDigits <= 15 {
            return bytes[start] == UInt8(ascii: "-") ? -integer : integer
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text) else { throw error(at: start, expected: "a number", got: text) }
        return value
    }

    mutating func parseString() throws -> String {
        let open = position
        position += 1
        let start = position
        // Fast path: no escapes, so the string is the bytes between the quotes.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                position += 1
                return try validated(slice, from: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error(expected: "an escaped control character", got: describeHere()) }
            position += 1
        }
        if position >= bytes.count { throw error(at: open, expected: "a closing '\"'", got: "end of input") }
        var buffer = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return try buffer.withUnsafeBufferPointer { try validated($0, from: start) }
            }
            if byte < 0x20 { throw error(expected: "an escaped control character", got: describeHere()) }
            if byte != UInt8(ascii: "\\") {
                buffer.append(byte)
                position += 1
                continue
            }
            guard position + 1 < bytes.count else { break }
            let escape = bytes[position + 1]
            position += 2
            switch escape {
            case UInt8(ascii: "\""): buffer.append(0x22)
            case UInt8(ascii: "\\"): buffer.append(0x5C)
            case UInt8(ascii: "/"): buffer.append(0x2F)
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if scalar >= 0xD800, scalar < 0xDC00 {
                    guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                          bytes[position + 1] == UInt8(ascii: "u") else {
                        throw error(expected: "a low surrogate after \\u\(hex(scalar))", got: describeHere())
                    }
                    position += 2
                    let low = try parseHex4()
                    guard low >= 0xDC00, low < 0xE000 else {
                        throw error(expected: "a low surrogate after \\u\(hex(scalar))", got: "\\u\(hex(low))")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00, scalar < 0xE000 {
                    throw error(expected: "a character, not a lone low surrogate", got: "\\u\(hex(scalar))")
                }
                appendUTF8(Unicode.Scalar(scalar)!, to: &buffer)
            default:
                throw error(at: position - 2, expected: "an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                            got: "'\\\(Character(Unicode.Scalar(escape)))'")
            }
        }
        throw error(at: open, expected: "a closing '\"'", got: "end of input")
    }

    mutating func parseHex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw error(expected: "4 hex digits", got: "end of input") }
        var value: UInt32 = 0
        for i in 0..<4 {
            let c = bytes[position + i]
            let digit: UInt32
            switch c {
            case 0x30...0x39: digit = UInt32(c - 0x30)
            case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
            default: throw error(at: position + i, expected: "a hex digit", got: describe(at: position + i))
            }
            value = value << 4 | digit
        }
        position += 4
        return value
    }

    func validated(_ slice: UnsafeBufferPointer<UInt8>, from start: Int) throws -> String {
        if let s = String(validating: slice, as: UTF8.self) { return s }
        throw error(at: start, expected: "a string of valid UTF-8", got: "invalid UTF-8 bytes")
    }

    func appendUTF8(_ scalar: Unicode.Scalar, to buffer: inout [UInt8]) {
        for unit in UTF8.encode(scalar)! { buffer.append(unit) }
    }

    func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    func describeHere() -> String { describe(at: position) }

    func describe(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if byte >= 0x20, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    func error(at offset: Int? = nil, expected: String, got: String) -> JSONParseError {
        let end = min(offset ?? position, bytes.count)
        var line = 1
        var lineStart = 0
        for i in 0..<end where bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return JSONParseError(line: line, column: end - lineStart + 1, expected: expected, got: got)
    }
}
