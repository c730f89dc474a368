/// Where and why JSON text is not valid. `problem` says what is wrong as data, so a reader can word a message for
/// its own users; `message()` is the standard wording: "expected ':' after key \"w\", found '1'".
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Container: Equatable, Sendable {
        case object, array
    }

    public enum Problem: Equatable, Sendable {
        case expectedValue
        /// `true`, `false` or `null` misspelled; `found` is the word that stood there.
        case expectedLiteral(String)
        case expectedKey
        case expectedColon(afterKey: String)
        case expectedCommaOrEnd(Container)
        case trailingContent
        case unterminatedString
        case leadingZero
        case expectedDigit
        case invalidEscape
        case expectedHexDigits
        /// A `\u` escape of a UTF-16 surrogate that is not half of a high-low pair.
        case unpairedSurrogate(UInt32)
        case unescapedControlCharacter(UInt8)
        /// The bytes of a string are not UTF-8; `offset` is the first byte that cannot stand where it is.
        case invalidUTF8(UTF8Problem)
        case nestedTooDeep(limit: Int)
    }

    public enum UTF8Problem: Equatable, Sendable, CustomStringConvertible {
        case cannotStart(UInt8)
        case cannotFollow(UInt8, lead: UInt8, length: Int)
        case truncated(length: Int)

        public var description: String {
            switch self {
            case .cannotStart(let byte): return "byte 0x\(hex(byte)) cannot start a character"
            case .cannotFollow(let byte, let lead, let length):
                return "byte 0x\(hex(byte)) cannot follow 0x\(hex(lead)) in a \(length)-byte character"
            case .truncated(let length): return "the text ends inside a \(length)-byte character"
            }
        }
    }

    /// What stood where the problem is.
    public enum Found: Equatable, Sendable {
        case endOfInput
        case byte(UInt8)
        /// A word where a literal was expected, shown in double quotes.
        case word(String)
        /// Text shown as it is (an escape such as `\x`).
        case text(String)

        /// `endOfInput` names the end for the reader's users ("end of header", "the end of the text").
        public func description(endOfInput: String = "end of input") -> String {
            switch self {
            case .endOfInput: return endOfInput
            case .word(let word): return "\"\(word)\""
            case .text(let text): return text
            case .byte(let byte):
                if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
                switch byte {
                case 0x20: return "a space"
                case 0x0A: return "a line break"
                case 0x09: return "a tab"
                default: return "byte 0x\(hex(byte))"
                }
            }
        }
    }

    public let problem: Problem
    public let found: Found
    /// 0-based byte offset of the offending byte in the parsed text.
    public let offset: Int
    /// 1-based line and byte column of `offset`.
    public let line: Int
    public let column: Int

    public init(_ problem: Problem, found: Found, offset: Int, line: Int, column: Int) {
        self.problem = problem
        self.found = found
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// What should have stood at `offset`.
    public var expected: String {
        switch problem {
        case .expectedValue: return "a value"
        case .expectedLiteral(let literal): return literal
        case .expectedKey: return "a string key"
        case .expectedColon(let key): return "':' after key \"\(key)\""
        case .expectedCommaOrEnd(.object): return "',' or '}'"
        case .expectedCommaOrEnd(.array): return "',' or ']'"
        case .trailingContent: return "nothing after the JSON value"
        case .unterminatedString: return "a closing '\"'"
        case .leadingZero: return "a number without leading zeros"
        case .expectedDigit: return "a digit in number"
        case .invalidEscape: return #"an escape (\" \\ \/ \b \f \n \r \t \uXXXX)"#
        case .expectedHexDigits: return #"4 hex digits after \u"#
        case .unpairedSurrogate(let unit) where unit < 0xDC00: return #"a low surrogate after \u"# + hex(unit)
        case .unpairedSurrogate: return "a character, not a lone low surrogate"
        case .unescapedControlCharacter: return "an escaped control character"
        case .invalidUTF8: return "a string of valid UTF-8"
        case .nestedTooDeep(let limit): return "at most \(limit) nested arrays/objects"
        }
    }

    /// The standard wording of the problem, without the place.
    public func message(endOfInput: String = "end of input") -> String {
        let found = self.found.description(endOfInput: endOfInput)
        switch problem {
        case .trailingContent: return "unexpected \(found) after the end of the JSON value"
        case .unterminatedString: return "unterminated string: expected a closing '\"', found \(found)"
        case .leadingZero: return "number with a leading zero (expected a number without leading zeros)"
        case .invalidEscape: return "invalid escape \(found) in string (expected one of " + #"\" \\ \/ \b \f \n \r \t \uXXXX)"#
        case .unpairedSurrogate(let unit):
            return #"unpaired UTF-16 surrogate \u"# + hex(unit)
                + (unit < 0xDC00 ? #" (expected a low surrogate \uDC00-\uDFFF after it)"#
                   : " (a low surrogate must follow a high one)")
        case .unescapedControlCharacter(let byte):
            return "unescaped control character 0x\(String(byte, radix: 16)) in string "
                + #"(write it as an escape such as \n, \t or \u00XX)"#
        case .invalidUTF8(let utf8): return "string is not valid UTF-8: \(utf8)"
        case .nestedTooDeep(let limit): return "nested more than \(limit) levels deep"
        default: return "expected \(expected), found \(found)"
        }
    }

    public var description: String { "line \(line), column \(column): \(message())" }
}

/// Two upper-case hex digits per byte, four per UTF-16 unit: `0x0A`, `\uD83D`.
private func hex<Value: BinaryInteger>(_ value: Value) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    let width = MemoryLayout<Value>.size == 1 ? 2 : 4
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
