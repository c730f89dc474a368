/// A JSON value from a safetensors header. Our own small parser (RFC 8259) rather than Foundation's, so that errors
/// give the byte offset, integers stay distinct from `2.5` or `true`, duplicate keys are visible, and a hostile
/// header cannot recurse without bound.
enum HeaderJSON {
    case null
    case bool(Bool)
    case integer(Int)
    /// A number with a fraction or exponent, or outside Int's range: kept as written.
    case number(String)
    case string(String)
    case array([HeaderJSON])
    /// Keys in file order; duplicates are kept so that the caller can reject them.
    case object([(key: String, value: HeaderJSON)])

    /// A short rendering for error messages ("found …").
    var summary: String {
        let text: String
        switch self {
        case .null: text = "null"
        case .bool(let b): text = b ? "true" : "false"
        case .integer(let i): text = String(i)
        case .number(let s): text = s
        case .string(let s): text = "\"\(s)\""
        case .array(let items): text = "[" + items.map(\.summary).joined(separator: ", ") + "]"
        case .object(let members): text = "{" + members.map { "\"\($0.key)\": \($0.value.summary)" }
            .joined(separator: ", ") + "}"
        }
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }

    /// The JSON type's name, for "expected an object, found an array".
    var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

struct HeaderJSONError: Error {
    let offset: Int
    let message: String
}

/// Recursive-descent parser over the header bytes (borrowed, not copied).
struct HeaderJSONParser {
    /// Headers nest three levels (header → entry → shape); anything deeper than this is not a safetensors header.
    static let maximumDepth = 16

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    private var depth = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses one value followed only by whitespace (the reference writer pads headers with spaces).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> HeaderJSON {
        var parser = HeaderJSONParser(bytes)
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.position < bytes.count {
            throw parser.failure("unexpected \(parser.describeCurrent()) after the end of the JSON value")
        }
        return value
    }

    private func failure(_ message: String) -> HeaderJSONError {
        HeaderJSONError(offset: position, message: message)
    }

    private func describeCurrent() -> String {
        guard position < bytes.count else { return "end of header" }
        let b = bytes[position]
        return (0x21...0x7E).contains(b) ? "'\(Character(UnicodeScalar(b)))'" : "byte 0x" + String(b, radix: 16)
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else {
            throw failure("expected \(what), found \(describeCurrent())")
        }
        position += 1
    }

    private mutating func parseValue() throws -> HeaderJSON {
        skipWhitespace()
        guard position < bytes.count else { throw failure("expected a value, found end of header") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try nested { try $0.parseObject() }
        case UInt8(ascii: "["): return try nested { try $0.parseArray() }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("expected a value, found \(describeCurrent())")
        }
    }

    private mutating func nested(_ body: (inout HeaderJSONParser) throws -> HeaderJSON) throws -> HeaderJSON {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maximumDepth {
            throw failure("nested more than \(Self.maximumDepth) levels deep")
        }
        return try body(&self)
    }

    private mutating func parseObject() throws -> HeaderJSON {
        position += 1  // "{"
        var members: [(key: String, value: HeaderJSON)] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw failure("expected a string key, found \(describeCurrent())")
            }
            let key = try parseString()
            try expect(UInt8(ascii: ":"), "':' after key \"\(key)\"")
            members.append((key, try parseValue()))
            skipWhitespace()
            guard position < bytes.count else { throw failure("expected ',' or '}', found end of header") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            throw failure("expected ',' or '}', found \(describeCurrent())")
        }
    }

    private mutating func parseArray() throws -> HeaderJSON {
        position += 1  // "["
        var items: [HeaderJSON] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            items.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw failure("expected ',' or ']', found end of header") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            throw failure("expected ',' or ']', found \(describeCurrent())")
        }
    }

    private mutating func parseLiteral(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        let matches = position + count <= bytes.count && (0..<count).allSatisfy {
            bytes[position + $0] == word.utf8Start[$0]
        }
        guard matches else { throw failure("expected a value, found \(describeCurrent())") }
        position += count
    }

    private mutating func parseNumber() throws -> HeaderJSON {
        let start = position
        var isInteger = true
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        func digits(_ parser: inout HeaderJSONParser) throws {
            let first = parser.position
            while parser.position < parser.bytes.count,
                  (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.position]) {
                parser.position += 1
            }
            if parser.position == first {
                throw parser.failure("expected a digit in number, found \(parser.describeCurrent())")
            }
        }
        let integerStart = position
        try digits(&self)
        if bytes[integerStart] == UInt8(ascii: "0"), position - integerStart > 1 {
            throw HeaderJSONError(offset: integerStart, message: "number with a leading zero")
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            try digits(&self)
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            try digits(&self)
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if isInteger, let value = Int(text) { return .integer(value) }
        return .number(text)
    }

    private mutating func parseString() throws -> String {
        position += 1  // opening quote
        let start = position
        // Fast path: no escapes, so the string is the bytes as they stand (validated as UTF-8).
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
                guard let s = String(validating: raw, as: UTF8.self) else {
                    throw HeaderJSONError(offset: start, message: "string is not valid UTF-8")
                }
                position += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw failure("unescaped control character 0x\(String(b, radix: 16)) in string") }
            position += 1
        }
        var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                guard let s = String(validating: utf8, as: UTF8.self) else {
                    throw HeaderJSONError(offset: start, message: "string is not valid UTF-8")
                }
                position += 1
                return s
            }
            if b < 0x20 { throw failure("unescaped control character 0x\(String(b, radix: 16)) in string") }
            if b != UInt8(ascii: "\\") {
                utf8.append(b)
                position += 1
                continue
            }
            position += 1
            guard position < bytes.count else { break }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"): utf8.append(contentsOf: try parseUnicodeEscape())
            default:
                position -= 2  // point at the backslash
                throw failure("invalid escape '\\\(Character(UnicodeScalar(escape)))' in string")
            }
        }
        throw failure("unterminated string")
    }

    /// `\uXXXX`, or a surrogate pair `\uD8xx\uDCxx`, as UTF-8 bytes (the `\u` already consumed).
    private mutating func parseUnicodeEscape() throws -> [UInt8] {
        var code = try parseHex4()
        if (0xD800...0xDBFF).contains(code) {
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                  bytes[position + 1] == UInt8(ascii: "u") else {
                throw failure("unpaired UTF-16 surrogate in \\u escape")
            }
            position += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired UTF-16 surrogate in \\u escape") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(code) {
            throw failure("unpaired UTF-16 surrogate in \\u escape")
        }
        return Array(String(Character(UnicodeScalar(code)!)).utf8)
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw failure("expected 4 hex digits after \\u") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Character(UnicodeScalar(bytes[position])).hexDigitValue else {
                throw failure("expected 4 hex digits after \\u, found \(describeCurrent())")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}
