/// A config file that cannot be used, with where and why: `run.yaml:3: key 'lambda': expected a number, got 'abc'`.
public struct ConfigFileError: Error, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the problem is the whole file (unreadable, empty).
    public var line: Int?
    public var key: String?
    public var message: String

    public init(file: String, line: Int?, key: String?, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += "key '\(key)': " }
        return text + message
    }
}
