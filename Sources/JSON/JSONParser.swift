/// A recursive-descent parser over UTF-8 bytes (borrowed, not copied). Positions become line and column only
/// when an error is reported, and strings are validated by the standard library's UTF-8 check, falling back to a
/// byte-by-byte walk only to name the bad byte.
struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let maximumDepth: Int
    private var position = 0
    private var depth = 0
    /// Unescaped bytes of the string being read; reused across strings.
    private var scratch: [UInt8] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    mutating func parseDocument(allowsByteOrderMark: Bool) throws -> JSONValue {
        if allowsByteOrderMark, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            position = 3
        }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if position < bytes.count { throw error(.trailingContent) }
        return value
    }

    // MARK: values

    private mutating func parseValue() throws -> JSONValue {
        guard position < bytes.count else { throw error(.expectedValue) }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error(.expectedValue)
        }
    }

    private mutating func enterNesting() throws {
        depth += 1
        if depth > maximumDepth { throw error(.nestedTooDeep(limit: maximumDepth)) }
    }

    private mutating func parseObject() throws -> JSONValue {
        try enterNesting()
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
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error(.expectedKey) }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw error(.expectedColon(afterKey: key))
            }
            position += 1
            skipWhitespace()
            object.append(key: key, value: try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw error(.expectedCommaOrEnd(.object)) }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(object) }
            throw error(.expectedCommaOrEnd(.object))
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        try enterNesting()
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
            guard position < bytes.count else { throw error(.expectedCommaOrEnd(.array)) }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
            throw error(.expectedCommaOrEnd(.array))
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count,
              (0..<count).allSatisfy({ bytes[position + $0] == literal.utf8Start[$0] }) else {
            throw error(.expectedLiteral("\(literal)"), found: .word(wordHere()))
        }
        position += count
    }

    /// Number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    private mutating func parseNumber() throws -> JSONNumber {
        let start = position
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        let integerStart = position
        var magnitude: Int64 = 0
        while position < bytes.count, isDigit(bytes[position]) {
            magnitude = magnitude &* 10 &+ Int64(bytes[position] &- UInt8(ascii: "0"))
            position += 1
        }
        let integerDigits = position - integerStart
        if integerDigits == 0 { throw error(.expectedDigit) }
        if integerDigits > 1, bytes[integerStart] == UInt8(ascii: "0") {
            throw error(.leadingZero, at: integerStart, found: .byte(UInt8(ascii: "0")))
        }
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            try skipDigits()
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            try skipDigits()
        }
        // 18 digits cannot overflow Int64; -0 keeps its sign as text.
        if isInteger, integerDigits <= 18, !(negative && magnitude == 0) {
            return JSONNumber(negative ? -magnitude : magnitude)
        }
        return JSONNumber(literal: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]),
                                          as: UTF8.self))
    }

    private mutating func skipDigits() throws {
        let first = position
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        if position == first { throw error(.expectedDigit) }
    }

    // MARK: strings

    private mutating func parseString() throws -> String {
        let open = position
        position += 1
        let start = position
        // Fast path: no escapes, so the string is the bytes between the quotes.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<position])
                guard let string = Self.utf8String(raw) else { throw knownUTF8Error(from: start) }
                position += 1
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw stringError(.unescapedControlCharacter(byte), from: start) }
            position += 1
        }
        guard position < bytes.count else {
            throw stringError(.unterminatedString, from: start, at: open, found: .endOfInput)
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                // Escapes decode to whole characters, so the unescaped bytes are valid exactly when the raw ones are.
                guard let string = scratch.withUnsafeBufferPointer(Self.utf8String) else { throw knownUTF8Error(from: start) }
                position += 1
                return string
            }
            if byte == UInt8(ascii: "\\") {
                try parseEscape(stringStart: start)
                continue
            }
            if byte < 0x20 { throw stringError(.unescapedControlCharacter(byte), from: start) }
            scratch.append(byte)
            position += 1
        }
        throw stringError(.unterminatedString, from: start, at: open, found: .endOfInput)
    }

    /// The string of valid UTF-8 bytes, nil when they are not. ASCII (keys, numbers as text, most values) needs no
    /// validation; `String(validating:as:)` is generic and costs a metadata lookup a call, a third of a run log's
    /// parse time when every string went through it.
    private static func utf8String(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
        var ascii = true
        for byte in raw where byte >= 0x80 { ascii = false; break }
        return ascii ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
    }

    private mutating func parseEscape(stringStart: Int) throws {
        let backslash = position
        guard position + 1 < bytes.count else {
            throw stringError(.unterminatedString, from: stringStart, at: stringStart - 1, found: .endOfInput)
        }
        let escaped = bytes[position + 1]
        position += 2
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escaped)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4(stringStart: stringStart)
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate; together they encode one scalar.
                var low: UInt32?
                if position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                   bytes[position + 1] == UInt8(ascii: "u") {
                    low = try lowSurrogate(stringStart: stringStart)
                }
                guard let low else {
                    throw stringError(.unpairedSurrogate(scalar), from: stringStart, at: backslash)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw stringError(.unpairedSurrogate(scalar), from: stringStart, at: backslash,
                                  found: .text(#"\u"# + String(scalar, radix: 16, uppercase: true)))
            }
            appendUTF8(scalar)
        default:
            let shown: JSONError.Found = escaped >= 0x21 && escaped < 0x7F
                ? .text("'\\\(Character(Unicode.Scalar(escaped)))'") : .byte(escaped)
            throw stringError(.invalidEscape, from: stringStart, at: backslash, found: shown)
        }
    }

    /// The `\uXXXX` at `position` when it is a low surrogate (consumed), else nil (not consumed).
    private mutating func lowSurrogate(stringStart: Int) throws -> UInt32? {
        let escape = position
        position += 2
        let unit = try parseHex4(stringStart: stringStart)
        if (0xDC00...0xDFFF).contains(unit) { return unit }
        position = escape
        return nil
    }

    private mutating func parseHex4(stringStart: Int) throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count else { throw stringError(.expectedHexDigits, from: stringStart) }
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw stringError(.expectedHexDigits, from: stringStart)
            }
            value = value << 4 | UInt32(digit)
            position += 1
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

    // MARK: errors

    /// An error inside a string, unless the string's bytes before it are not UTF-8: the earlier problem wins.
    private func stringError(_ problem: JSONError.Problem, from stringStart: Int, at offset: Int? = nil,
                             found: JSONError.Found? = nil) -> JSONError {
        utf8Error(from: stringStart) ?? error(problem, at: offset ?? position, found: found)
    }

    /// The first byte of the string so far that breaks UTF-8, as an error.
    private func utf8Error(from stringStart: Int) -> JSONError? {
        guard let (badByte, utf8) = UTF8Check.firstProblem(in: bytes, from: stringStart, to: position) else {
            return nil
        }
        return error(.invalidUTF8(utf8), at: badByte, found: .text(utf8.description))
    }

    /// For bytes the standard library found not to be UTF-8.
    private func knownUTF8Error(from stringStart: Int) -> JSONError {
        guard let error = utf8Error(from: stringStart) else {
            preconditionFailure("the standard library rejected bytes that UTF8Check accepts")
        }
        return error
    }

    private func error(_ problem: JSONError.Problem, at offset: Int? = nil, found: JSONError.Found? = nil)
        -> JSONError {
        let offset = min(offset ?? position, bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<offset where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return JSONError(problem, found: found ?? foundAt(offset), offset: offset, line: line,
                         column: offset - lineStart + 1)
    }

    private func foundAt(_ offset: Int) -> JSONError.Found {
        offset < bytes.count ? .byte(bytes[offset]) : .endOfInput
    }

    /// The letters from `position` on (at most 20): what stood where a literal was expected.
    private func wordHere() -> String {
        var end = position
        while end < bytes.count, end - position < 20,
              (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[end] | 0x20) {
            end += 1
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
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
}
