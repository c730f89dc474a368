/// Anthropic HH-RLHF pairs: `chosen` and `rejected` are whole transcripts that share every turn but the last
/// assistant reply.
///
/// The prompt is the longest common prefix of the two transcripts, cut back to the end of the last
/// "\n\nAssistant:" marker inside it; the responses are what follows in each (one leading space removed).
/// Cutting both at their own *last* marker instead fails when a reply itself contains "\n\nAssistant:"
/// (5 of 2,312 harmless and 9 of 2,354 helpful test pairs, see docs/DATA.md).
enum AnthropicHH {
    static let assistantMarker = Array("\n\nAssistant:".utf8)
    static let humanMarker = Array("\n\nHuman:".utf8)

    static func decode(_ fields: RecordFields) throws -> PreferencePair {
        let location = fields.location
        let chosenText = try fields.string("chosen")
        let rejectedText = try fields.string("rejected")
        let chosen = Array(chosenText.utf8)
        let rejected = Array(rejectedText.utf8)

        var common = 0
        let shorter = min(chosen.count, rejected.count)
        while common < shorter && chosen[common] == rejected[common] { common += 1 }
        guard let marker = lastIndex(of: assistantMarker, in: chosen, before: common) else {
            throw DataError.record(.noSharedPrompt, at: location, field: "chosen",
                                   "chosen and rejected share no prompt: their common beginning "
                                   + "(\(common) bytes) holds no \"\\n\\nAssistant:\" marker")
        }
        let promptEnd = marker + assistantMarker.count
        let chosenReply = reply(chosen[promptEnd...])
        let rejectedReply = reply(rejected[promptEnd...])
        // A later Human turn in a reply means the transcripts part before their final exchange.
        if firstIndex(of: humanMarker, in: chosen, from: promptEnd) != nil
            || firstIndex(of: humanMarker, in: rejected, from: promptEnd) != nil {
            throw DataError.record(.noSharedPrompt, at: location, field: "chosen",
                                   "chosen and rejected part before their last Human turn, "
                                   + "so they do not answer the same prompt")
        }
        let (context, prompt) = turns(of: chosen[..<marker])
        try RecordChecks.requirePrompt(prompt, field: "chosen", at: location)
        try RecordChecks.requirePreference(chosen: chosenReply, rejected: rejectedReply, at: location)
        return PreferencePair(prompt: prompt, chosen: chosenReply, rejected: rejectedReply, context: context,
                              source: location)
    }

    /// Splits a transcript that ends just before its final "\n\nAssistant:" into earlier turns and the last
    /// Human message. Turns alternate: a Human turn runs to the next Assistant marker, an Assistant turn to the
    /// next Human marker, so a stray marker of the same role stays inside the text (and the hh template
    /// renders the transcript back byte for byte). Text before the first Human marker becomes a system turn.
    static func turns(of transcript: ArraySlice<UInt8>) -> (context: [Turn], prompt: String) {
        var context: [Turn] = []
        guard let firstHuman = firstIndex(of: humanMarker, in: transcript, from: transcript.startIndex) else {
            return ([], text(transcript))
        }
        let preamble = text(transcript[transcript.startIndex..<firstHuman])
        if !RecordChecks.isBlank(preamble) { context.append(Turn(.system, preamble)) }
        var position = firstHuman + humanMarker.count
        while true {
            guard let assistant = firstIndex(of: assistantMarker, in: transcript, from: position) else {
                return (context, reply(transcript[position...]))
            }
            context.append(Turn(.user, reply(transcript[position..<assistant])))
            let replyStart = assistant + assistantMarker.count
            guard let human = firstIndex(of: humanMarker, in: transcript, from: replyStart) else {
                // Ends with an assistant turn and no Human message after it: keep the transcript whole.
                return ([], text(transcript))
            }
            context.append(Turn(.assistant, reply(transcript[replyStart..<human])))
            position = human + humanMarker.count
        }
    }

    /// The text after a marker, without the one space that separates them ("Human: hi").
    private static func reply(_ bytes: ArraySlice<UInt8>) -> String {
        if bytes.first == 0x20 { return text(bytes.dropFirst()) }
        return text(bytes)
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>, from start: Int) -> Int? {
        guard haystack.endIndex - start >= needle.count else { return nil }
        var index = start
        let last = haystack.endIndex - needle.count
        while index <= last {
            if haystack[index] == needle[0] && haystack[index..<index + needle.count].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        firstIndex(of: needle, in: haystack[...], from: start)
    }

    /// The start of the last occurrence of `needle` that ends at or before `end`.
    static func lastIndex(of needle: [UInt8], in haystack: [UInt8], before end: Int) -> Int? {
        var index = end - needle.count
        while index >= 0 {
            if haystack[index] == needle[0] && haystack[index..<index + needle.count].elementsEqual(needle) {
                return index
            }
            index -= 1
        }
        return nil
    }
}
