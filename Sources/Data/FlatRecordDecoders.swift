/// Decoders for the single-turn formats, whose fields map directly onto the record types.
enum FlatRecordDecoders {
    /// Alpaca: prompt = instruction, followed by "\n" and the input when the input is non-empty (the input is
    /// the material the instruction refers to). `input` may be absent, as in Alpaca-style files without it.
    static func alpaca(_ fields: RecordFields) throws -> SFTExample {
        let instruction = try fields.string("instruction")
        let input = try fields.optionalString("input") ?? ""
        let output = try fields.string("output")
        try RecordChecks.requirePrompt(instruction, field: "instruction", at: fields.location)
        try RecordChecks.requireResponse(output, field: "output", at: fields.location)
        let prompt = RecordChecks.isBlank(input) ? instruction : instruction + "\n" + input
        return SFTExample(prompt: prompt, response: output, source: fields.location)
    }

    static func promptResponse(_ fields: RecordFields) throws -> SFTExample {
        let prompt = try fields.string("prompt")
        let response = try fields.string("response")
        try RecordChecks.requirePrompt(prompt, field: "prompt", at: fields.location)
        try RecordChecks.requireResponse(response, field: "response", at: fields.location)
        return SFTExample(prompt: prompt, response: response, source: fields.location)
    }

    static func promptChosenRejected(_ fields: RecordFields) throws -> PreferencePair {
        let prompt = try fields.string("prompt")
        let chosen = try fields.string("chosen")
        let rejected = try fields.string("rejected")
        try RecordChecks.requirePrompt(prompt, field: "prompt", at: fields.location)
        try RecordChecks.requirePreference(chosen: chosen, rejected: rejected, at: fields.location)
        return PreferencePair(prompt: prompt, chosen: chosen, rejected: rejected, source: fields.location)
    }
}
