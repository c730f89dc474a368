import Text

/// Token ids of one training sequence: with a text template, ids = tok(templated prompt) ++ tok(response) ++ [eos]
/// (docs/DESIGN.md §1); with a chat template, the ids of the rendered conversation through the reply's end-of-turn
/// marker (docs/DATA.md, "Prompt formats"). The loss covers `ids[responseStart...]`: the response and its eos or
/// end-of-turn marker.
public struct TokenizedExample: Hashable, Sendable {
    public var ids: [Int32]
    public var responseStart: Int

    public init(ids: [Int32], responseStart: Int) {
        self.ids = ids
        self.responseStart = responseStart
    }

    public var promptTokenCount: Int { responseStart }
    public var responseTokenCount: Int { ids.count - responseStart }
}

/// Both sequences of a preference pair; their prompt tokens are identical (also after truncation).
public struct TokenizedPair: Hashable, Sendable {
    public var chosen: TokenizedExample
    public var rejected: TokenizedExample

    public init(chosen: TokenizedExample, rejected: TokenizedExample) {
        self.chosen = chosen
        self.rejected = rejected
    }
}

/// Turns records into token ids in a prompt format, truncating to `maxLength` tokens.
///
/// With a chat template the record is a conversation (context, the prompt as the last user turn, the response as
/// the assistant turn), rendered and encoded at once: the ids are those `transformers`' `apply_chat_template`
/// gives, through the reply's end-of-turn marker, with no eos added after it. The prompt part is everything
/// before the reply (a token straddling the boundary counts as reply). For a pair, the prompt is the part both
/// sequences share, so chosen and rejected start with the same ids.
///
/// Truncation rule (P prompt tokens, R response tokens counting eos, L = maxLength, m = minResponseTokens):
/// when P + R > L the response keeps min(R, max(L − P, min(m, L − 1))) tokens, cut from the right (a cut
/// response loses its eos: the text did not end there), and the prompt keeps the remaining budget, cut from the
/// left (the end of the prompt, next to the response, matters most). At least one prompt token always stays,
/// since the first response token is predicted from the token before it. For a pair, the longer response sets
/// the prompt budget so chosen and rejected keep the same prompt tokens.
public struct ExampleTokenizer: Sendable {
    public let tokenizer: any Tokenizer
    public let format: PromptFormat
    public let maxLength: Int?
    public let minResponseTokens: Int

    public init(tokenizer: any Tokenizer, template: PromptTemplate = .xright, maxLength: Int? = nil,
                minResponseTokens: Int = 16) throws {
        try self.init(tokenizer: tokenizer, format: .text(template), maxLength: maxLength,
                      minResponseTokens: minResponseTokens)
    }

    public init(tokenizer: any Tokenizer, format: PromptFormat, maxLength: Int? = nil,
                minResponseTokens: Int = 16) throws {
        if let maxLength, maxLength < 2 {
            throw DataOptionError(option: "--max-len", "expected at least 2 tokens (one of prompt, one of "
                                  + "response), found \(maxLength)")
        }
        guard minResponseTokens >= 1 else {
            throw DataOptionError(option: "min-response-tokens", "expected at least 1, found \(minResponseTokens)")
        }
        self.tokenizer = tokenizer
        self.format = format
        self.maxLength = maxLength
        self.minResponseTokens = minResponseTokens
    }

    public func tokenize(_ example: SFTExample) throws -> TokenizedExample {
        let prompt: [Int], response: [Int]
        switch format {
        case .text(let template):
            prompt = try promptTokens(template.render(example), source: example.source)
            response = responseTokens(example.response)
        case .chat(let template):
            let sequence = try chatSequence(template, example.context, example.prompt, example.response,
                                            source: example.source)
            (prompt, response) = (Array(sequence.ids[..<sequence.replyStart]), Array(sequence.ids[sequence.replyStart...]))
            try requirePrompt(prompt, source: example.source)
        }
        let (promptKeep, responseKeep) = budget(promptCount: prompt.count, longestResponse: response.count)
        return assemble(prompt: prompt, promptKeep: promptKeep, response: response,
                        responseKeep: min(response.count, responseKeep))
    }

    public func tokenize(_ pair: PreferencePair) throws -> TokenizedPair {
        let prompt: [Int], chosen: [Int], rejected: [Int]
        switch format {
        case .text(let template):
            prompt = try promptTokens(template.render(pair), source: pair.source)
            chosen = responseTokens(pair.chosen)
            rejected = responseTokens(pair.rejected)
        case .chat(let template):
            let a = try chatSequence(template, pair.context, pair.prompt, pair.chosen, source: pair.source)
            let b = try chatSequence(template, pair.context, pair.prompt, pair.rejected, source: pair.source)
            // The shared prompt: both start with the same rendered text, so their ids agree up to the replies
            // (short of a token that straddles a reply's start in one of them).
            var shared = 0
            let limit = min(a.replyStart, b.replyStart)
            while shared < limit, a.ids[shared] == b.ids[shared] { shared += 1 }
            prompt = Array(a.ids[..<shared])
            chosen = Array(a.ids[shared...])
            rejected = Array(b.ids[shared...])
            try requirePrompt(prompt, source: pair.source)
        }
        let (promptKeep, responseKeep) = budget(promptCount: prompt.count,
                                                longestResponse: max(chosen.count, rejected.count))
        return TokenizedPair(
            chosen: assemble(prompt: prompt, promptKeep: promptKeep, response: chosen,
                             responseKeep: min(chosen.count, responseKeep)),
            rejected: assemble(prompt: prompt, promptKeep: promptKeep, response: rejected,
                               responseKeep: min(rejected.count, responseKeep)))
    }

    /// Tokens kept of the prompt, and at most how many of each response, under the rule above.
    public static func truncationBudget(promptCount: Int, longestResponse: Int, maxLength: Int,
                                        minResponseTokens: Int) -> (prompt: Int, response: Int) {
        guard promptCount + longestResponse > maxLength else { return (promptCount, longestResponse) }
        let responseFloor = min(minResponseTokens, maxLength - 1)
        let response = min(longestResponse, max(maxLength - promptCount, responseFloor))
        return (min(promptCount, maxLength - response), response)
    }

    private func budget(promptCount: Int, longestResponse: Int) -> (Int, Int) {
        guard let maxLength else { return (promptCount, longestResponse) }
        return Self.truncationBudget(promptCount: promptCount, longestResponse: longestResponse,
                                     maxLength: maxLength, minResponseTokens: minResponseTokens)
    }

    private func promptTokens(_ text: String, source: RecordLocation) throws -> [Int] {
        let ids = tokenizer.encode(text)
        try requirePrompt(ids, source: source)
        return ids
    }

    private func requirePrompt(_ ids: [Int], source: RecordLocation) throws {
        if ids.isEmpty {
            throw DataError.record(.emptyPrompt, at: source, "the templated prompt encodes to no tokens, "
                                   + "so the first response token has nothing to be predicted from")
        }
    }

    /// The conversation (context, prompt as the user turn, response as the assistant turn) through the reply's
    /// end-of-turn marker. A conversation the template rejects is a bad record, not a failed run.
    private func chatSequence(_ template: ChatTemplate, _ context: [Turn], _ prompt: String, _ response: String,
                              source: RecordLocation) throws -> (ids: [Int], replyStart: Int) {
        let messages = PromptFormat.messages(context) + [ChatMessage(.user, prompt), ChatMessage(.assistant, response)]
        do {
            return try template.tokenizeLastReply(messages, with: tokenizer)
        } catch let error as ChatTemplateError {
            throw DataError.record(.badConversation, at: source, error.message)
        }
    }

    private func responseTokens(_ text: String) -> [Int] {
        var ids = tokenizer.encode(text)
        ids.append(tokenizer.eosTokenId)
        return ids
    }

    private func assemble(prompt: [Int], promptKeep: Int, response: [Int], responseKeep: Int) -> TokenizedExample {
        var ids: [Int32] = []
        ids.reserveCapacity(promptKeep + responseKeep)
        for id in prompt[(prompt.count - promptKeep)...] { ids.append(Int32(id)) }
        for id in response[..<responseKeep] { ids.append(Int32(id)) }
        return TokenizedExample(ids: ids, responseStart: promptKeep)
    }
}
