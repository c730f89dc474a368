/// Where a record came from: the file, the 1-based line its first byte is on, and its 0-based index among the
/// records of the file (bad records count too, so indices match what an editor or `jq` shows).
public struct RecordLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var recordIndex: Int

    public init(file: String, line: Int, recordIndex: Int) {
        self.file = file
        self.line = line
        self.recordIndex = recordIndex
    }

    /// `file:line`, the form editors and compilers use.
    public var description: String { "\(file):\(line)" }
}
