/// The record layouts xright reads. Each may sit in a JSON array or in JSON Lines, gzip-compressed or not.
public enum RecordFormat: String, CaseIterable, Codable, Sendable {
    /// `{instruction, input?, output}` (Stanford Alpaca); prompt = instruction, plus "\n" + input when non-empty.
    case alpaca
    /// `{prompt, response}`.
    case promptResponse = "prompt-response"
    /// `{prompt, chosen, rejected}`, all strings.
    case promptChosenRejected = "prompt-chosen-rejected"
    /// Anthropic HH-RLHF: `{chosen, rejected}`, each a whole "\n\nHuman: … \n\nAssistant: …" transcript.
    case anthropicHH = "hh"
    /// LLaMA-Factory sharegpt ranking data: `{conversations: [{from, value}], chosen: {from, value}, rejected}`.
    case sharegpt
    /// Conversations for SFT, sharegpt (`{conversations: [{from, value}]}`) or OpenAI (`{messages: [{role,
    /// content}]}`): every gpt reply is trained (`ShareGPTConversation`).
    case sharegptSFT = "sharegpt-sft"

    public var kind: DatasetKind {
        switch self {
        case .alpaca, .promptResponse, .sharegptSFT: return .sft
        case .promptChosenRejected, .anthropicHH, .sharegpt: return .preference
        }
    }

    /// The keys that identify the format, as listed in messages.
    public var expectedKeys: String {
        switch self {
        case .alpaca: return "instruction, input, output"
        case .promptResponse: return "prompt, response"
        case .promptChosenRejected: return "prompt, chosen, rejected"
        case .anthropicHH: return "chosen, rejected"
        case .sharegpt: return "conversations, chosen, rejected"
        case .sharegptSFT: return "conversations or messages"
        }
    }

    /// The format a record with these keys is in, or nil when they match none. Loose on purpose: a first record
    /// missing one field should still select its format, so that the problem is reported as a missing field.
    /// `kind`, when the caller knows it, settles a conversation without `chosen`/`rejected` in its first record.
    public static func detect(keys: Set<String>, kind: DatasetKind? = nil) -> RecordFormat? {
        if keys.contains("conversations") || keys.contains("messages") {
            if let kind { return kind == .preference ? .sharegpt : .sharegptSFT }
            return keys.contains("chosen") || keys.contains("rejected") ? .sharegpt : .sharegptSFT
        }
        if keys.contains("chosen") || keys.contains("rejected") {
            return keys.contains("prompt") ? .promptChosenRejected : .anthropicHH
        }
        if keys.contains("instruction") { return .alpaca }
        if keys.contains("prompt") || keys.contains("response") { return .promptResponse }
        return nil
    }
}
