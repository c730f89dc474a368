/// A GGUF file that cannot be read as asked: names the file and says what was expected and what was found (the
/// metadata key, tensor or byte offset when there is one). See docs/GGUF.md.
public struct GGUFError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let message: String

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
