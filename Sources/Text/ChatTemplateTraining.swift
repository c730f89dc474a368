/// What training needs from a chat template: the end-of-turn marker, the template with a model's own special
/// tokens, and the token ids of a conversation through its last assistant reply with where that reply starts
/// (docs/DATA.md, "Prompt formats").
extension ChatTemplate {
    /// The marker that ends an assistant turn as this family writes it: `<|im_end|>` (ChatML), `<|eot_id|>`
    /// (Llama 3), the EOS token otherwise (Llama 2, Mistral, Alpaca).
    public var endOfTurn: String {
        switch family {
        case .chatML: return "<|im_end|>"
        case .llama3: return "<|eot_id|>"
        case .llama2, .mistral, .alpaca: return eosToken
        }
    }

    /// The same template rendered with a model's BOS / EOS token texts (what `transformers` passes as
    /// `bos_token` / `eos_token`); nil keeps the current one.
    public func with(bosToken: String?, eosToken: String?) -> ChatTemplate {
        ChatTemplate(family: family, defaultSystemPrompt: defaultSystemPrompt, bosToken: bosToken ?? self.bosToken,
                     eosToken: eosToken ?? self.eosToken)
    }

    /// The training sequence of a conversation that ends with an assistant reply: the ids of the rendered text up
    /// to the end of that reply's span (the reply and its end-of-turn marker; what the template writes after the
    /// marker, such as ChatML's "\n", is not part of it), and the index of the first id of the reply.
    ///
    /// The text is encoded at once, so the ids equal the start of `apply_chat_template(messages, tokenize=True)`
    /// and special tokens written by the template become their single ids. A token that straddles the reply's start
    /// counts as reply (as `tokenize(_:with:)` does). Earlier assistant replies are part of the prompt.
    public func tokenizeLastReply(_ messages: [ChatMessage], with tokenizer: any Tokenizer) throws
        -> (ids: [Int], replyStart: Int)
    {
        guard messages.last?.role == .assistant else {
            throw ChatTemplateError("a training conversation must end with an assistant reply; it ends with "
                + (messages.last.map { "a \($0.role.rawValue) turn" } ?? "no turn"))
        }
        let rendered = try render(messages, addGenerationPrompt: false)
        guard let span = rendered.assistantSpans.last else {
            throw ChatTemplateError("the \(family.rawValue) chat template wrote no assistant reply")
        }
        let bytes = Array(rendered.text.utf8)
        let ids = tokenizer.encode(String(decoding: bytes[..<span.upperBound], as: UTF8.self))
        let start = Self.tokensWhollyBefore(span.lowerBound, of: bytes, ids: ids, tokenizer: tokenizer)
        return (ids, start)
    }

    /// How many of `ids` (the encoding of `bytes`, or of a prefix of it at least `offset` long) lie wholly before
    /// byte `offset`: the length of the common prefix of `ids` and the encoding of `bytes[..<offset]`.
    static func tokensWhollyBefore(_ offset: Int, of bytes: [UInt8], ids: [Int], tokenizer: any Tokenizer) -> Int {
        let prefix = tokenizer.encode(String(decoding: bytes[0..<offset], as: UTF8.self))
        var k = 0
        while k < prefix.count, k < ids.count, prefix[k] == ids[k] { k += 1 }
        return k
    }
}
