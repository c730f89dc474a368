import JSON

/// LLaMA-Factory sharegpt ranking records: `conversations` is a list of `{from, value}` messages ending with a
/// human turn, `chosen` and `rejected` are the two candidate replies (`{from, value}` objects, or plain strings).
/// The OpenAI spelling (`messages`, `role`, `content`) is read too.
enum ShareGPT {
    static func decode(_ fields: RecordFields) throws -> PreferencePair {
        let location = fields.location
        let (listKey, messages, turns) = try conversation(fields)
        guard let last = turns.last, last.role == .user else {
            throw DataError.record(.badConversation, at: location, field: listKey,
                                   "field \"\(listKey)\": expected the conversation to end with a human message, "
                                   + "found " + (turns.last.map { "a \($0.role.rawValue) message" } ?? "no messages"))
        }
        let chosen = try reply(fields, key: "chosen")
        let rejected = try reply(fields, key: "rejected")
        try RecordChecks.requirePrompt(last.text, field: "\(listKey)[\(messages.count - 1)].value", at: location)
        try RecordChecks.requirePreference(chosen: chosen, rejected: rejected, at: location)
        return PreferencePair(prompt: last.text, chosen: chosen, rejected: rejected,
                              context: Array(turns.dropLast()), source: location)
    }

    /// The message list's key, its raw messages, and its turns (a blank system message dropped); a system
    /// message anywhere but first is an error.
    static func conversation(_ fields: RecordFields) throws -> (key: String, messages: [JSONValue], turns: [Turn]) {
        let location = fields.location
        let listKey = fields.object["conversations"] != nil ? "conversations" : "messages"
        guard case .array(let messages) = try fields.value(listKey) else {
            throw DataError.record(.wrongFieldType, at: location, field: listKey,
                                   "field \"\(listKey)\": expected an array of {from, value} messages, found "
                                   + (fields.object[listKey]?.typeName ?? "nothing"))
        }
        var turns: [Turn] = []
        for (index, message) in messages.enumerated() {
            let field = "\(listKey)[\(index)]"
            let (role, text) = try roleAndText(message, field: field, at: location)
            if role == .system && RecordChecks.isBlank(text) { continue }
            if role == .system && turns.contains(where: { $0.role != .system }) {
                throw DataError.record(.badConversation, at: location, field: field,
                                       "\(field): a system message may only open the conversation")
            }
            turns.append(Turn(role, text))
        }
        return (listKey, messages, turns)
    }

    private static func reply(_ fields: RecordFields, key: String) throws -> String {
        let value = try fields.value(key)
        if case .string(let text) = value { return text }
        let (role, text) = try roleAndText(value, field: key, at: fields.location)
        guard role == .assistant else {
            throw DataError.record(.badConversation, at: fields.location, field: key,
                                   "field \"\(key)\": expected a reply from \"gpt\", found one from \"\(role.rawValue)\"")
        }
        return text
    }

    static func roleAndText(_ message: JSONValue, field: String,
                                    at location: RecordLocation) throws -> (Turn.Role, String) {
        guard case .object(let object) = message else {
            throw DataError.record(.wrongFieldType, at: location, field: field,
                                   "\(field): expected a {from, value} object, found \(message.typeName)")
        }
        let roleKey = object["from"] != nil ? "from" : "role"
        let textKey = object["value"] != nil ? "value" : "content"
        guard let roleValue = object[roleKey] else {
            throw DataError.record(.missingField, at: location, field: "\(field).from",
                                   "\(field): missing field \"from\" (who speaks: human, gpt or system)")
        }
        let roleName = try RecordFields.string(roleValue, field: "\(field).\(roleKey)", at: location)
        guard let textValue = object[textKey] else {
            throw DataError.record(.missingField, at: location, field: "\(field).value",
                                   "\(field): missing field \"value\" (the message text)")
        }
        let text = try RecordFields.string(textValue, field: "\(field).\(textKey)", at: location)
        switch roleName {
        case "human", "user": return (.user, text)
        case "gpt", "assistant", "model", "bot": return (.assistant, text)
        case "system": return (.system, text)
        default:
            throw DataError.record(.badConversation, at: location, field: "\(field).\(roleKey)",
                                   "\(field).\(roleKey): expected human, gpt or system, found \"\(roleName)\"")
        }
    }
}
