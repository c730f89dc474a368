/// A recursive-descent JSON parser (RFC 8259) over one record's bytes. It validates UTF-8 as it goes, so a bad
/// byte is reported at its own offset, and it limits nesting so hostile input cannot exhaust the stack.
struct JSONParser {
    static let maximumDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var depth = 0
    /// Bytes of a string being unescaped; reused across strings.
    private var scratch: [UInt8] = []

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    static func parseDocument(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.position < bytes.count {
            throw parser.syntaxError("unexpected \(parser.describeCurrent()) after the end of the JSON value")
        }
        return value
    }

    // MARK: values

    private mutating func parseValue() throws -> JSONValue {
        guard position < bytes.count else { throw syntaxError("the JSON text ends where a value was expected") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default:
            throw syntaxError("expected a JSON value (object, array, string, number, true, false or null), "
                              + "found \(describeCurrent())")
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        try enterNesting()
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if position < bytes.count && bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw syntaxError("expected a quoted key in the object, found \(describeCurrent())")
            }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw syntaxError("expected ':' after the key \"\(key)\", found \(describeCurrent())")
            }
            position += 1
            skipWhitespace()
            members[key] = try parseValue()
            skipWhitespace()
            guard position < bytes.count else { throw syntaxError("the JSON text ends inside an object: expected ',' or '}'") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; break }
            throw syntaxError("expected ',' or '}' in the object, found \(describeCurrent())")
        }
        depth -= 1
        return .object(members)
    }

    private mutating func parseArray() throws -> JSONValue {
        try enterNesting()
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count && bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw syntaxError("the JSON text ends inside an array: expected ',' or ']'") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; break }
            throw syntaxError("expected ',' or ']' in the array, found \(describeCurrent())")
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func enterNesting() throws {
        depth += 1
        if depth > Self.maximumDepth {
            throw syntaxError("objects and arrays nest deeper than \(Self.maximumDepth) levels")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        let start = position
        for index in 0..<count {
            guard start + index < bytes.count, bytes[start + index] == literal.utf8Start[index] else {
                position = start
                throw syntaxError("expected \(literal), found \(describeWord())")
            }
        }
        position += count
    }

    /// Number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    private mutating func parseNumber() throws -> Double {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, isDigit(bytes[position]) else {
            throw syntaxError("expected a digit in the number, found \(describeCurrent())")
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while position < bytes.count && isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw syntaxError("expected a digit after the decimal point, found \(describeCurrent())")
            }
            while position < bytes.count && isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count && (bytes[position] | 0x20) == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw syntaxError("expected a digit in the exponent, found \(describeCurrent())")
            }
            while position < bytes.count && isDigit(bytes[position]) { position += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        return Double(text) ?? .nan
    }

    // MARK: strings

    private mutating func parseString() throws -> String {
        position += 1
        let start = position
        var unescaping = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                defer { position += 1 }
                if unescaping { return String(decoding: scratch, as: UTF8.self) }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                if !unescaping {
                    unescaping = true
                    scratch.removeAll(keepingCapacity: true)
                    scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<position]))
                }
                try parseEscape()
                continue
            }
            if byte < 0x20 {
                throw syntaxError("raw control character \(describeCurrent()) inside a string "
                                  + "(it must be written as an escape such as \\n, \\t or \\u00XX)")
            }
            let length = byte < 0x80 ? 1 : try utf8SequenceLength()
            if unescaping { scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position..<position + length])) }
            position += length
        }
        throw syntaxError("the JSON text ends inside a string: expected the closing quote")
    }

    private mutating func parseEscape() throws {
        guard position + 1 < bytes.count else { throw syntaxError("the JSON text ends inside an escape sequence") }
        let escaped = bytes[position + 1]
        let simple: UInt8?
        switch escaped {
        case UInt8(ascii: "\""): simple = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): simple = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): simple = UInt8(ascii: "/")
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        default:
            position += 1
            let shown = escaped >= 0x21 && escaped < 0x7F ? "\\" + String(Unicode.Scalar(escaped)) : describeCurrent()
            throw syntaxError("invalid escape \(shown) in a string (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
        }
        if let simple {
            scratch.append(simple)
            position += 2
            return
        }
        let escapeStart = position
        var scalar = try hexQuad(at: position + 2)
        position += 6
        if (0xD800...0xDBFF).contains(scalar) {
            // A high surrogate must be followed by an escaped low surrogate; together they encode one scalar.
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                  bytes[position + 1] == UInt8(ascii: "u") else {
                position = escapeStart
                throw syntaxError("unpaired UTF-16 surrogate \\u\(String(scalar, radix: 16, uppercase: true)) "
                                  + "(expected a low surrogate \\uDC00-\\uDFFF after it)")
            }
            let low = try hexQuad(at: position + 2)
            guard (0xDC00...0xDFFF).contains(low) else {
                position = escapeStart
                throw syntaxError("unpaired UTF-16 surrogate \\u\(String(scalar, radix: 16, uppercase: true)) "
                                  + "(expected a low surrogate \\uDC00-\\uDFFF after it)")
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            position += 6
        } else if (0xDC00...0xDFFF).contains(scalar) {
            position = escapeStart
            throw syntaxError("unpaired UTF-16 surrogate \\u\(String(scalar, radix: 16, uppercase: true)) "
                              + "(a low surrogate must follow a high one)")
        }
        appendUTF8(scalar)
    }

    private mutating func hexQuad(at start: Int) throws -> UInt32 {
        var value: UInt32 = 0
        for index in start..<start + 4 {
            guard index < bytes.count else {
                position = min(index, bytes.count)
                throw syntaxError("the JSON text ends inside a \\u escape (expected 4 hex digits)")
            }
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default:
                position = index
                throw syntaxError("expected 4 hex digits after \\u, found \(describeCurrent())")
            }
            value = value << 4 | digit
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Length of the well-formed UTF-8 sequence starting at `position` (RFC 3629, Table 3-7 of Unicode:
    /// no overlong forms, no surrogates, nothing above U+10FFFF), or an encoding error at the bad byte.
    private func utf8SequenceLength() throws -> Int {
        let lead = bytes[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default:
            throw encodingError(at: position, "invalid UTF-8: byte 0x\(hex(lead)) cannot start a character")
        }
        for index in 1..<length {
            let at = position + index
            guard at < bytes.count else {
                throw encodingError(at: at, "invalid UTF-8: the text ends inside a \(length)-byte character")
            }
            let range = index == 1 ? secondRange : 0x80...0xBF
            guard range.contains(bytes[at]) else {
                throw encodingError(at: at, "invalid UTF-8: byte 0x\(hex(bytes[at])) cannot follow 0x\(hex(lead)) "
                                    + "in a \(length)-byte character")
            }
        }
        return length
    }

    // MARK: helpers

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    private func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0" + digits : digits
    }

    /// The letters from `position` on (at most 20), quoted: what stood where a literal was expected.
    private func describeWord() -> String {
        var end = position
        while end < bytes.count && end - position < 20,
              (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[end] | 0x20) {
            end += 1
        }
        if end == position { return describeCurrent() }
        return "\"" + String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self) + "\""
    }

    /// The byte at `position` as a reader would name it: 'x' for printable ASCII, else its hex value.
    private func describeCurrent() -> String {
        guard position < bytes.count else { return "the end of the text" }
        let byte = bytes[position]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        switch byte {
        case 0x20: return "a space"
        case 0x0A: return "a line break"
        case 0x09: return "a tab"
        default: return "byte 0x\(hex(byte))"
        }
    }

    private func syntaxError(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: position, message: message, isEncodingError: false)
    }

    private func encodingError(at offset: Int, _ message: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: offset, message: message, isEncodingError: true)
    }
}
