import JSON

/// Typed access to the fields of one record, turning absent or mistyped fields into `DataError`s that name
/// the field, the expected type and what was found.
struct RecordFields {
    let object: JSONObject
    let location: RecordLocation

    func string(_ key: String) throws -> String {
        guard let value = object[key] else {
            throw DataError.record(.missingField, at: location, field: key,
                                   "missing field \"\(key)\" (the record has \(keyList))")
        }
        return try Self.string(value, field: key, at: location)
    }

    /// nil when absent or null.
    func optionalString(_ key: String) throws -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        return try Self.string(value, field: key, at: location)
    }

    func value(_ key: String) throws -> JSONValue {
        guard let value = object[key] else {
            throw DataError.record(.missingField, at: location, field: key,
                                   "missing field \"\(key)\" (the record has \(keyList))")
        }
        return value
    }

    static func string(_ value: JSONValue, field: String, at location: RecordLocation) throws -> String {
        guard case .string(let text) = value else {
            throw DataError.record(.wrongFieldType, at: location, field: field,
                                   "field \"\(field)\": expected a string, found \(value.typeName)")
        }
        return text
    }

    private var keyList: String {
        object.isEmpty ? "no fields" : "fields " + Set(object.keys).sorted().map { "\"\($0)\"" }.joined(separator: ", ")
    }
}

/// Checks shared by every format: a prompt and responses with something in them, and a real preference.
enum RecordChecks {
    static func isBlank(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
    }

    static func requirePrompt(_ prompt: String, field: String, at location: RecordLocation) throws {
        if isBlank(prompt) {
            throw DataError.record(.emptyPrompt, at: location, field: field,
                                   "field \"\(field)\": expected a non-empty prompt, found \(quoteShort(prompt))")
        }
    }

    static func requireResponse(_ response: String, field: String, at location: RecordLocation) throws {
        if isBlank(response) {
            throw DataError.record(.emptyResponse, at: location, field: field,
                                   "field \"\(field)\": expected a non-empty response, found \(quoteShort(response))")
        }
    }

    static func requirePreference(chosen: String, rejected: String, at location: RecordLocation) throws {
        try requireResponse(chosen, field: "chosen", at: location)
        try requireResponse(rejected, field: "rejected", at: location)
        if chosen == rejected {
            throw DataError.record(.identicalResponses, at: location, field: "rejected",
                                   "chosen and rejected responses are identical (\(quoteShort(chosen))), "
                                   + "so the pair expresses no preference")
        }
    }

    /// The text in quotes, cut to 40 characters, for messages.
    static func quoteShort(_ text: String) -> String {
        let cut = text.count > 40 ? String(text.prefix(40)) + "…" : text
        var escaped = ""
        for character in cut.unicodeScalars {
            switch character {
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            case "\r": escaped += "\\r"
            case "\"": escaped += "\\\""
            default: escaped.unicodeScalars.append(character)
            }
        }
        return "\"\(escaped)\""
    }
}
