import Foundation
import GGUF

/// One turn of a conversation.
public struct ChatMessage: Equatable, Sendable {
    public enum Role: String, Sendable { case system, user, assistant }
    public var role: Role
    public var content: String

    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

/// A conversation rendered by a chat template, with where the assistant's parts are: each span covers an
/// assistant reply and its end-of-turn marker (`<|im_end|>`, `<|eot_id|>`, the EOS token), the part the loss
/// goes on. Spans are UTF-8 byte offsets into `text`.
public struct RenderedChat: Equatable, Sendable {
    public let text: String
    public let assistantSpans: [Range<Int>]

    /// The text of each assistant span.
    public var assistantTexts: [String] {
        let bytes = Array(text.utf8)
        return assistantSpans.map { String(decoding: bytes[$0], as: UTF8.self) }
    }
}

/// Why a chat template cannot be used: names the template or the message and suggests `--template`.
public struct ChatTemplateError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A model's chat template, recognised from its Jinja text as one of the families xright renders natively
/// (docs/GGUF.md, "Chat templates"): ChatML (SmolLM2, Qwen2.5), Llama 3, Llama 2 `[INST]`/`<<SYS>>`,
/// Mistral `[INST]` (v0.1, no system turn) and Alpaca `### Instruction:`/`### Response:`. Rendering gives the text
/// `transformers`' `apply_chat_template` gives for the same template, and the spans of the assistant parts.
public struct ChatTemplate: Equatable, Sendable {
    public enum Family: String, CaseIterable, Sendable {
        case chatML = "chatml", llama3, llama2, mistral, alpaca
    }

    public let family: Family
    /// The system turn the template inserts when a conversation has none (ChatML, Alpaca), or nil.
    public let defaultSystemPrompt: String?
    public let bosToken: String
    public let eosToken: String

    public init(family: Family, defaultSystemPrompt: String? = nil, bosToken: String, eosToken: String) {
        self.family = family
        self.defaultSystemPrompt = defaultSystemPrompt
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    /// The template a `--template` name stands for, with the family's usual special tokens.
    public static func named(_ name: String) -> ChatTemplate? {
        switch Family(rawValue: name.lowercased()) {
        case .chatML: return ChatTemplate(family: .chatML, bosToken: "", eosToken: "<|im_end|>")
        case .llama3: return ChatTemplate(family: .llama3, bosToken: "<|begin_of_text|>", eosToken: "<|eot_id|>")
        case .llama2: return ChatTemplate(family: .llama2, bosToken: "<s>", eosToken: "</s>")
        case .mistral: return ChatTemplate(family: .mistral, bosToken: "<s>", eosToken: "</s>")
        case .alpaca:
            return ChatTemplate(family: .alpaca, defaultSystemPrompt: Self.alpacaPreamble, bosToken: "<s>",
                                eosToken: "</s>")
        case nil: return nil
        }
    }

    static let alpacaPreamble = "Below is an instruction that describes a task. Write a response that "
        + "appropriately completes the request."

    /// Recognises the family of a Jinja chat template. `bosToken` / `eosToken` are the model's (the template's
    /// `bos_token` / `eos_token`). An unrecognised template is an error that names `--template`.
    public init(recognizing template: String, bosToken: String, eosToken: String) throws {
        let has = { (marker: String) in template.contains(marker) }
        if has("<|im_start|>") && has("<|im_end|>") {
            self.init(family: .chatML, defaultSystemPrompt: Self.chatMLDefaultSystem(template), bosToken: bosToken,
                      eosToken: eosToken)
        } else if has("<|start_header_id|>") && has("<|end_header_id|>") && has("<|eot_id|>") {
            guard !has("Cutting Knowledge Date") else {
                throw ChatTemplateError("the model's chat template is Llama 3.1 or later (a dated system header), "
                    + "which xright does not render; choose a prompt format with --template (e.g. --template llama3)")
            }
            self.init(family: .llama3, bosToken: bosToken, eosToken: eosToken)
        } else if has("[INST]") && has("[/INST]") && has("<<SYS>>") {
            self.init(family: .llama2, bosToken: bosToken, eosToken: eosToken)
        } else if has("[INST]") && has("[/INST]") && !template.lowercased().contains("system") {
            self.init(family: .mistral, bosToken: bosToken, eosToken: eosToken)
        } else if has("### Instruction:") && has("### Response:") {
            self.init(family: .alpaca, defaultSystemPrompt: has(Self.alpacaPreamble) ? Self.alpacaPreamble : nil,
                      bosToken: bosToken, eosToken: eosToken)
        } else {
            let head = template.prefix(80).replacingOccurrences(of: "\n", with: "\\n")
            throw ChatTemplateError("the model's chat template is not one xright recognises (ChatML, Llama 3, "
                + "Llama 2 [INST] <<SYS>>, Mistral [INST], Alpaca); it begins \"\(head)\"; choose a prompt format "
                + "with --template (\(Family.allCases.map(\.rawValue).joined(separator: ", ")) or a custom one)")
        }
    }

    /// The chat template of a GGUF (`tokenizer.chat_template`, with the file's BOS and EOS tokens), or nil when
    /// the file has none.
    public static func fromGGUF(_ file: GGUFFile) throws -> ChatTemplate? {
        let info = try GGUFTokenizerInfo(file: file)
        guard let template = info.chatTemplate else { return nil }
        let tokens = try GGUFTokenizerReader(file: file).strings("tokenizer.ggml.tokens") ?? []
        func token(_ id: Int?) -> String { id.flatMap { $0 >= 0 && $0 < tokens.count ? tokens[$0] : nil } ?? "" }
        return try ChatTemplate(recognizing: template, bosToken: token(info.bosTokenId),
                                eosToken: token(info.eosTokenId))
    }

    /// ChatML templates that insert a system turn when there is none write it as one string literal:
    /// `'<|im_start|>system\n…<|im_end|>\n'`. The first such literal (no quote, `+` or `{` inside) is the default.
    static func chatMLDefaultSystem(_ template: String) -> String? {
        var rest = Substring(template)
        while let start = rest.range(of: "<|im_start|>system") {
            rest = rest[start.upperBound...]
            var body = rest
            if body.hasPrefix("\n") { body = body.dropFirst() } else if body.hasPrefix("\\n") { body = body.dropFirst(2) } else { continue }
            guard let end = body.range(of: "<|im_end|>") else { return nil }
            let literal = body[..<end.lowerBound]
            if literal.contains(where: { "'\"+{}".contains($0) }) { continue }
            return literal.replacingOccurrences(of: "\\n", with: "\n")
        }
        return nil
    }
}
