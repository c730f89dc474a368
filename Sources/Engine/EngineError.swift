/// Errors the engine reports; each names the file (or object) and field, what was expected and what was found.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(file: String, field: String, expected: String, got: String)
    case io(file: String, message: String)
    case invalidInput(what: String, message: String)

    public var description: String {
        switch self {
        case let .invalidConfig(file, field, expected, got):
            return "\(file): field '\(field)': expected \(expected), got \(got)"
        case let .io(file, message):
            return "\(file): \(message)"
        case let .invalidInput(what, message):
            return "\(what): \(message)"
        }
    }
}
