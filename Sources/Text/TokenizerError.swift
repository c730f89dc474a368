/// Why a tokenizer could not be loaded: which file, which field (a JSON path such as `model.merges[12]`, or
/// `line 7` for text files), what was expected there and what was found. Printed once, at the edge.
public struct TokenizerError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// The file or directory is missing or cannot be read.
        case unreadableFile
        /// The bytes are not valid JSON (the field names the line and column).
        case malformedJSON
        /// A required field is absent.
        case missingField
        /// A field holds the wrong JSON type or an out-of-range value.
        case invalidValue
        /// A valid setting this implementation does not support (another model type, normalizer, ...).
        case unsupported
        /// A merge or special token names a token that is not in the vocabulary.
        case unknownToken
        /// A line of a merges file is not `left right`.
        case malformedMerge
    }

    public let kind: Kind
    public let file: String
    public let field: String
    public let expected: String
    public let got: String

    public init(_ kind: Kind, file: String, field: String, expected: String, got: String) {
        self.kind = kind
        self.file = file
        self.field = field
        self.expected = expected
        self.got = got
    }

    public var description: String {
        "\(file): \(field): expected \(expected), got \(got)"
    }
}
