/// A reading that could not be understood: which source, where, what was expected and what was there.
public enum TelemetryError: Error, Equatable, CustomStringConvertible {
    case malformed(source: String, line: Int, field: String, expected: String, found: String)
    case toolFailed(tool: String, detail: String)

    public var description: String {
        switch self {
        case let .malformed(source, line, field, expected, found):
            return "\(source) line \(line), field \(field): expected \(expected); got '\(found)'"
        case let .toolFailed(tool, detail):
            return "\(tool) failed: \(detail)"
        }
    }
}
