/// Bad input to an evaluation (a multiple-choice file, a prompts file, a judge): the file, the 1-based line and
/// the field when the problem has a place, and what was expected.
public struct EvaluationInputError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: String?
    public var message: String

    public init(file: String, line: Int? = nil, field: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let field { place += ": field \"\(field)\"" }
        return "\(place): \(message)"
    }
}
