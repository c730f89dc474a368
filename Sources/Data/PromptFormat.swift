import Text

/// How records become the text a model is trained on, scored on and asked: a text template (`PromptTemplate`:
/// the prompt placed in a pattern, the response and eos after it) or a model's chat template (`ChatTemplate`: the
/// conversation rendered as the model was tuned on it, the reply and its end-of-turn marker trained).
/// `PromptFormatChoice` (Training) picks one from `--template` and the model (docs/DATA.md, "Prompt formats").
public enum PromptFormat: Equatable, Sendable, CustomStringConvertible {
    case text(PromptTemplate)
    case chat(ChatTemplate)

    /// The text templates' names and the chat families that `--template` accepts. A name both could mean
    /// (`alpaca`) is the chat family.
    public static var templateNames: [String] {
        ChatTemplate.Family.allCases.map(\.rawValue)
            + PromptTemplate.named.compactMap(\.name).filter { ChatTemplate.named($0) == nil }
    }

    /// A `--template` value: a chat family (`chatml`, `llama3`, `llama2`, `mistral`, `alpaca`), a text template
    /// (`xright`, `raw`, `hh`) or a custom text with `{prompt}`. `bosToken` / `eosToken` are the model's, used
    /// by a chat family instead of the family's usual ones when given (as `transformers` renders with the
    /// tokenizer's). Throws `DataOptionError` naming `--template`.
    public init(parsing specification: String, bosToken: String? = nil, eosToken: String? = nil) throws {
        if let chat = ChatTemplate.named(specification) {
            self = .chat(chat.with(bosToken: bosToken, eosToken: eosToken))
            return
        }
        guard PromptTemplate.named.contains(where: { $0.name == specification })
                || specification.contains("{prompt}") else {
            throw DataOptionError(option: "--template", "\"\(specification)\" is neither a template name ("
                + Self.templateNames.joined(separator: ", ") + ") nor a custom template containing {prompt}")
        }
        self = .text(try PromptTemplate(parsing: specification))
    }

    /// What the run log and reports call it: the text template's name (or its text), or `chat:<family>`.
    public var description: String {
        switch self {
        case .text(let template): return template.description
        case .chat(let template): return "chat:" + template.family.rawValue
        }
    }

    /// The text a model continues to answer `prompt` after `context` (generation and probes).
    public func renderPrompt(_ prompt: String, context: [Turn] = []) throws -> String {
        switch self {
        case .text(let template): return template.render(prompt: prompt, context: context)
        case .chat(let template):
            return try template.render(Self.messages(context) + [ChatMessage(.user, prompt)],
                                       addGenerationPrompt: true).text
        }
    }

    /// The marker a reply in this format ends with when it is not the tokenizer's EOS (chat templates).
    public var endOfTurn: String? {
        if case .chat(let template) = self { return template.endOfTurn }
        return nil
    }

    static func messages(_ turns: [Turn]) -> [ChatMessage] {
        turns.map { turn in
            switch turn.role {
            case .system: return ChatMessage(.system, turn.text)
            case .user: return ChatMessage(.user, turn.text)
            case .assistant: return ChatMessage(.assistant, turn.text)
            }
        }
    }
}
