import JSON

/// How a record's JSON error reads in `xright data check` and the problem log: the wording data users have
/// always seen, which names the container ("in the object") since a record is shown without its neighbours.
extension JSONError {
    /// True when the bytes are not UTF-8 (rather than not JSON).
    var isEncodingError: Bool {
        if case .invalidUTF8 = problem { return true }
        return false
    }

    var recordMessage: String {
        let found = self.found.description(endOfInput: "the end of the text")
        switch problem {
        case .invalidUTF8(let utf8): return "invalid UTF-8: \(utf8)"
        case .expectedKey: return "malformed JSON: expected a quoted key in the object, found \(found)"
        case .expectedCommaOrEnd(.object): return "malformed JSON: expected ',' or '}' in the object, found \(found)"
        case .expectedCommaOrEnd(.array): return "malformed JSON: expected ',' or ']' in the array, found \(found)"
        default: return "malformed JSON: " + message(endOfInput: "the end of the text")
        }
    }
}
