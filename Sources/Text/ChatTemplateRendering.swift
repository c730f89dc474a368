/// Rendering a conversation with each chat template family, written to give the text of the published Jinja
/// templates (see the family list on `ChatTemplate`) and to record the assistant spans on the way.
extension ChatTemplate {
    /// Renders `messages`; with `addGenerationPrompt`, ends with the header of an assistant turn (families
    /// without one, Llama 2 and Mistral, end after `[/INST]` anyway). Throws `ChatTemplateError` for a
    /// conversation the template rejects (roles that do not alternate, a system turn Mistral does not take).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> RenderedChat {
        var out = Output()
        switch family {
        case .chatML:
            if messages.first?.role != .system, let system = defaultSystemPrompt {
                out.append("<|im_start|>system\n\(system)<|im_end|>\n")
            }
            for message in messages {
                out.append("<|im_start|>\(message.role.rawValue)\n")
                if message.role == .assistant {
                    out.appendAssistant(message.content + "<|im_end|>")
                } else {
                    out.append(message.content + "<|im_end|>")
                }
                out.append("\n")
            }
            if addGenerationPrompt { out.append("<|im_start|>assistant\n") }

        case .llama3:
            out.append(bosToken)
            for message in messages {
                out.append("<|start_header_id|>\(message.role.rawValue)<|end_header_id|>\n\n")
                let content = Self.pythonStrip(message.content) + "<|eot_id|>"
                if message.role == .assistant { out.appendAssistant(content) } else { out.append(content) }
            }
            if addGenerationPrompt { out.append("<|start_header_id|>assistant<|end_header_id|>\n\n") }

        case .llama2:
            var turns = messages[...]
            var system: String? = nil
            if turns.first?.role == .system {
                system = turns.first!.content
                turns = turns.dropFirst()
            }
            for (index, message) in turns.enumerated() {
                try checkAlternation(message, index)
                var content = message.content
                if index == 0, let system { content = "<<SYS>>\n\(system)\n<</SYS>>\n\n" + content }
                if message.role == .user {
                    out.append(bosToken + "[INST] " + Self.pythonStrip(content) + " [/INST]")
                } else {
                    out.appendAssistant(" " + Self.pythonStrip(content) + " " + eosToken)
                }
            }

        case .mistral:
            out.append(bosToken)
            for (index, message) in messages.enumerated() {
                guard message.role != .system else {
                    throw ChatTemplateError("the Mistral [INST] chat template takes only user and assistant turns; "
                        + "message \(index + 1) is a system turn (choose another format with --template)")
                }
                try checkAlternation(message, index)
                if message.role == .user {
                    out.append("[INST] " + message.content + " [/INST]")
                } else {
                    out.appendAssistant(message.content + eosToken)
                }
            }

        case .alpaca:
            var turns = messages[...]
            if turns.first?.role == .system {
                out.append(turns.first!.content + "\n\n")
                turns = turns.dropFirst()
            } else if let system = defaultSystemPrompt {
                out.append(system + "\n\n")
            }
            for (index, message) in turns.enumerated() {
                switch message.role {
                case .user: out.append("### Instruction:\n" + message.content + "\n\n")
                case .assistant:
                    out.append("### Response:\n")
                    out.appendAssistant(message.content + eosToken)
                    out.append("\n\n")
                case .system:
                    throw ChatTemplateError("the Alpaca chat template takes a system turn only first; message "
                        + "\(index + 2) is a system turn")
                }
            }
            if addGenerationPrompt { out.append("### Response:\n") }
        }
        return RenderedChat(text: out.text, assistantSpans: out.spans)
    }

    /// A prompt and its response as one user turn and one assistant turn (after an optional system turn): the
    /// shape of SFT and DPO examples. The assistant span is the response and its end-of-turn marker.
    public func render(prompt: String, response: String, system: String? = nil) throws -> RenderedChat {
        var messages = system.map { [ChatMessage(.system, $0)] } ?? []
        messages += [ChatMessage(.user, prompt), ChatMessage(.assistant, response)]
        return try render(messages, addGenerationPrompt: false)
    }

    /// The text a model continues to answer `prompt` (generation and scoring).
    public func renderPrompt(_ prompt: String, system: String? = nil) throws -> String {
        var messages = system.map { [ChatMessage(.system, $0)] } ?? []
        messages.append(ChatMessage(.user, prompt))
        return try render(messages, addGenerationPrompt: true).text
    }

    /// Token ids of the rendered text and, per token, whether it belongs to an assistant span (the tokens the
    /// loss is taken on). The whole text is encoded at once, so ids equal `tokenizer.encode(rendered.text)`; a
    /// token that straddles a span's edge counts as assistant.
    public func tokenize(_ rendered: RenderedChat, with tokenizer: any Tokenizer) -> (ids: [Int], assistantMask: [Bool]) {
        let ids = tokenizer.encode(rendered.text)
        var mask = [Bool](repeating: false, count: ids.count)
        let bytes = Array(rendered.text.utf8)
        // Tokens wholly before byte `offset`, and whether a token straddles it.
        func boundary(_ offset: Int) -> (count: Int, straddles: Bool) {
            let prefix = tokenizer.encode(String(decoding: bytes[0..<offset], as: UTF8.self))
            var k = 0
            while k < prefix.count, k < ids.count, prefix[k] == ids[k] { k += 1 }
            return k == prefix.count ? (k, false) : (k, true)
        }
        for span in rendered.assistantSpans {
            let start = boundary(span.lowerBound).count
            let end = boundary(span.upperBound)
            let stop = min(ids.count, end.straddles ? end.count + 1 : end.count)
            if start < stop { for i in start..<stop { mask[i] = true } }
        }
        return (ids, mask)
    }

    private func checkAlternation(_ message: ChatMessage, _ index: Int) throws {
        let expected: ChatMessage.Role = index % 2 == 0 ? .user : .assistant
        guard message.role == expected else {
            throw ChatTemplateError("the \(family.rawValue) chat template needs turns alternating user/assistant "
                + "(after an optional first system turn); turn \(index + 1) is \(message.role.rawValue), "
                + "expected \(expected.rawValue)")
        }
    }

    /// Python's `str.strip()` (Jinja's `trim`): drops leading and trailing characters Python calls whitespace.
    static func pythonStrip(_ text: String) -> String {
        func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace || (0x1C...0x1F).contains(s.value) }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(scalars[first...last])
    }

    /// Accumulates the rendered text and the byte ranges of assistant parts.
    private struct Output {
        var text = ""
        var spans: [Range<Int>] = []
        mutating func append(_ piece: String) { text += piece }
        mutating func appendAssistant(_ piece: String) {
            let start = text.utf8.count
            text += piece
            spans.append(start..<text.utf8.count)
        }
    }
}
