/// A bad setting (template, length limit, eval fraction), named as the user typed it, with what to use instead.
public struct DataOptionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var option: String
    public var message: String

    public init(option: String, _ message: String) {
        self.option = option
        self.message = message
    }

    public var description: String { "\(option): \(message)" }
}
