/// A safetensors file that cannot be read or written as asked: names the file and says what was expected and what
/// was found (the tensor, field or byte offset when there is one).
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
