import JSON

/// A conversation for SFT in the sharegpt spelling (`conversations: [{from, value}]`) or OpenAI's (`messages:
/// [{role, content}]`), with an optional system message first: human and gpt messages alternate, starting with a
/// human one and ending with a gpt reply. Every gpt reply is trained; everything else is masked.
///
/// A training sequence has one trained span (`TokenizedExample.responseStart`), so a conversation with n replies
/// becomes n SFT examples: example i is reply i after the whole conversation before it (system message, earlier
/// exchanges, the human message it answers) rendered in the prompt format (`ExampleTokenizer`: the model's chat
/// template, or a text template's `PromptTemplate.render(prompt:context:)`). Each reply is thus trained exactly
/// once, with the same history the model sees at inference; the history's tokens are computed again for each reply
/// (docs/DATA.md, "Conversations").
enum ShareGPTConversation {
    struct Decoded {
        var examples: [SFTExample]
        /// Messages in the conversation, the system message included.
        var turns: Int
    }

    static func decode(_ fields: RecordFields) throws -> Decoded {
        let location = fields.location
        let (listKey, messages, turns) = try ShareGPT.conversation(fields)
        // Indexes into `messages` for the messages' field names (a blank system message was dropped from turns).
        let offset = messages.count - turns.count
        var examples: [SFTExample] = []
        var expected = Turn.Role.user
        for (index, turn) in turns.enumerated() where turn.role != .system {
            let field = "\(listKey)[\(index + offset)]"
            guard turn.role == expected else {
                throw DataError.record(.badConversation, at: location, field: field,
                                       "\(field): expected a \(expected == .user ? "human" : "gpt") message (human and gpt "
                                       + "messages alternate, starting with a human one), found a \(turn.role == .user ? "human" : "gpt") message")
            }
            if turn.role == .user {
                try RecordChecks.requirePrompt(turn.text, field: "\(field).value", at: location)
                expected = .assistant
            } else {
                try RecordChecks.requireResponse(turn.text, field: "\(field).value", at: location)
                examples.append(SFTExample(prompt: turns[index - 1].text, response: turn.text,
                                           context: Array(turns[..<(index - 1)]), source: location))
                expected = .user
            }
        }
        guard expected == .user, !examples.isEmpty else {
            throw DataError.record(.badConversation, at: location, field: listKey,
                                   "field \"\(listKey)\": expected the conversation to end with a gpt reply to train, found "
                                   + (turns.last.map { "a \($0.role == .user ? "human" : $0.role.rawValue) message" } ?? "no messages"))
        }
        return Decoded(examples: examples, turns: turns.count)
    }
}
