/// A problem with input data, with enough context to fix it: the file, the line (and byte column) where it was
/// found, the field involved, and a message saying what was expected and what was found.
///
/// Record-level problems (`isRecordLevel`) are skipped and counted by the readers unless `strict` is set;
/// the others make the whole file unreadable and are always thrown.
public struct DataError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: String, CaseIterable, Codable, Sendable {
        // One record is bad; the rest of the file can still be read.
        case malformedJSON = "malformed-json"
        case invalidUTF8 = "invalid-utf8"
        case recordTooLong = "record-too-long"
        case notAnObject = "not-an-object"
        case missingField = "missing-field"
        case wrongFieldType = "wrong-field-type"
        case badConversation = "bad-conversation"
        case emptyPrompt = "empty-prompt"
        case emptyResponse = "empty-response"
        case noSharedPrompt = "no-shared-prompt"
        case identicalResponses = "identical-responses"
        // The file as a whole cannot be read.
        case unreadableFile = "unreadable-file"
        case emptyFile = "empty-file"
        case truncatedGzip = "truncated-gzip"
        case corruptGzip = "corrupt-gzip"
        case malformedStructure = "malformed-structure"
        case unknownFormat = "unknown-format"
        case wrongKind = "wrong-kind"

        /// True when the problem concerns one record only, so a reader may skip it and go on.
        public var isRecordLevel: Bool {
            switch self {
            case .malformedJSON, .invalidUTF8, .recordTooLong, .notAnObject, .missingField, .wrongFieldType,
                 .badConversation, .emptyPrompt, .emptyResponse, .noSharedPrompt, .identicalResponses:
                return true
            case .unreadableFile, .emptyFile, .truncatedGzip, .corruptGzip, .malformedStructure, .unknownFormat,
                 .wrongKind:
                return false
            }
        }
    }

    public var reason: Reason
    public var file: String
    /// 1-based line, when the problem has a place in the file.
    public var line: Int?
    /// 1-based byte column on `line`, when known (JSON syntax and encoding errors).
    public var column: Int?
    /// 0-based index of the record among all records of the file, when the problem belongs to one record.
    public var recordIndex: Int?
    /// The JSON field involved, e.g. `output` or `conversations[2].from`.
    public var field: String?
    /// What was expected and what was found.
    public var message: String

    public init(_ reason: Reason, file: String, line: Int? = nil, column: Int? = nil, recordIndex: Int? = nil,
                field: String? = nil, _ message: String) {
        self.reason = reason
        self.file = file
        self.line = line
        self.column = column
        self.recordIndex = recordIndex
        self.field = field
        self.message = message
    }

    /// A problem with one record, placed at that record.
    static func record(_ reason: Reason, at location: RecordLocation, field: String? = nil,
                       _ message: String) -> DataError {
        DataError(reason, file: location.file, line: location.line, recordIndex: location.recordIndex,
                  field: field, message)
    }

    public var isRecordLevel: Bool { reason.isRecordLevel }

    /// `file:line:column: record N: message`, omitting the parts that are unknown. N counts from 0, as
    /// `jq '.[N]'` does, and tells records apart when a JSON array is written on one line.
    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        if let recordIndex { place += ": record \(recordIndex)" }
        return "\(place): \(message)"
    }
}
