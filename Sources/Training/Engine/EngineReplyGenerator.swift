import Data
import Engine
import Foundation
import Text

/// Probe replies from the engine: greedy decoding with a KV cache over the model as it is now (LoRA adapters
/// merged in), each prompt in the run's prompt format. One decoder per round of samples, since the weights
/// change between rounds.
public final class EngineReplyGenerator: ReplyGenerator {
    let model: any CausalLanguageModel
    let tokenizer: any Tokenizer
    /// Prompt text → the text the model sees: the one seam for the prompt format (ProbeSetup.promptFormat).
    let format: (String) throws -> String
    let endTokens: Set<Int>
    private var decoder: (any IncrementalDecoder)?
    private var encoded: [String: [Int]] = [:]

    public init(model: any CausalLanguageModel, tokenizer: any Tokenizer, format: @escaping (String) throws -> String,
                endTokens: Set<Int>) {
        self.model = model
        self.tokenizer = tokenizer
        self.format = format
        self.endTokens = endTokens
    }

    public func beginSampling(prompts: [String], maxNewTokens: Int) throws {
        let limit = model.config.maxPositions
        guard maxNewTokens >= 1, maxNewTokens < limit else {
            throw SessionSetupError.invalid(what: "sample max new tokens", message:
                "expected 1…\(limit - 1) (the model holds \(limit) positions), got \(maxNewTokens)")
        }
        encoded = [:]
        for prompt in prompts where encoded[prompt] == nil {
            var ids = tokenizer.encode(try format(prompt))
            guard !ids.isEmpty else {
                throw SessionSetupError.invalid(what: "probe prompt \"\(prompt.prefix(40))\"", message: "encodes to no tokens")
            }
            // Like training data, a long prompt keeps its end (next to the reply).
            if ids.count + maxNewTokens > limit { ids = Array(ids.suffix(limit - maxNewTokens)) }
            encoded[prompt] = ids
        }
        let longest = encoded.values.map(\.count).max() ?? 1
        decoder = try Decoders.make(for: model, capacity: min(limit, longest + maxNewTokens))
    }

    public func reply(to prompt: String, maxNewTokens: Int, onToken: (Int) -> Void) throws -> GeneratedReply {
        if decoder == nil || encoded[prompt] == nil { try beginSampling(prompts: [prompt], maxNewTokens: maxNewTokens) }
        guard let decoder, let ids = encoded[prompt] else { throw SessionError.internalInconsistency("no decoder") }
        var sampler = Sampler(.greedy)
        var count = 0
        let result = try Generator.run(decoder, prompt: ids, maxNewTokens: maxNewTokens, sampler: &sampler,
                                       endTokens: endTokens) { _ in
            count += 1
            onToken(count)
            return true
        }
        return GeneratedReply(text: tokenizer.decode(result.ids), tokens: result.ids.count)
    }
}

/// Which prompts a run samples by default, and how they are formatted.
public enum ProbeSetup {
    /// Default probes: the first held-out SFT prompts and preference prompts, alternating, `count` in all
    /// (distinct, non-empty, in data order).
    public static func defaultPrompts(heldOutSFT: [String], heldOutPreference: [String], count: Int = 3) -> [String] {
        var picked: [String] = [], seen = Set<String>()
        var a = heldOutSFT.makeIterator(), b = heldOutPreference.makeIterator()
        var exhausted = false
        while picked.count < count && !exhausted {
            exhausted = true
            for next in [a.next(), b.next()] {
                guard let p = next else { continue }
                exhausted = false
                let trimmed = p.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty, picked.count < count, seen.insert(trimmed).inserted { picked.append(trimmed) }
            }
        }
        return picked
    }

    /// The prompt format probes are generated in: the run's own (text or chat template), so replies are answers
    /// to the prompts as the model was trained to see them.
    public static func promptFormat(_ format: PromptFormat) -> (String) throws -> String {
        { try format.renderPrompt($0) }
    }

    /// Turns `requested` on for `session`: its prompts, or (none given) the default probes from the held-out
    /// prompts. A run with no prompts to probe samples nothing (and says so in `note`).
    public static func enable(_ requested: ProbeSchedule, on session: TrainingSession, model: any CausalLanguageModel,
                              tokenizer: any Tokenizer, format: PromptFormat, heldOutSFT: [String],
                              heldOutPreference: [String]) throws -> String {
        var schedule = requested
        let positions = model.config.maxPositions
        guard (1..<positions).contains(schedule.maxNewTokens) else {
            throw SessionSetupError.invalid(what: "--sample-tokens", message: "expected 1…\(positions - 1) new tokens (the "
                + "model holds \(positions) positions, and a reply needs a prompt before it), got \(schedule.maxNewTokens)")
        }
        if schedule.prompts.isEmpty {
            schedule.prompts = defaultPrompts(heldOutSFT: heldOutSFT, heldOutPreference: heldOutPreference)
        }
        guard !schedule.prompts.isEmpty else {
            return "samples: off (no held-out prompts to probe with; give --probe-prompts FILE)"
        }
        let generator = EngineReplyGenerator(model: model, tokenizer: tokenizer, format: promptFormat(format),
                                             endTokens: endTokens(tokenizer: tokenizer, format: format))
        try session.enableSamples(schedule, generator: generator)
        let when = schedule.every.map { "every \($0) steps" } ?? "automatically (≤ \(Int(schedule.maxShare * 100))% of training time)"
        return "samples: \(schedule.prompts.count) probe prompts, \(schedule.maxNewTokens) tokens, \(when)"
    }

    /// The tokens that end a reply: the tokenizer's end of sequence, and a chat template's end-of-turn marker
    /// when the tokenizer spells it as one token (`<|im_end|>`, `<|eot_id|>`).
    public static func endTokens(tokenizer: any Tokenizer, format: PromptFormat) -> Set<Int> {
        var ends: Set<Int> = tokenizer.eosTokenId >= 0 ? [tokenizer.eosTokenId] : []
        if let marker = format.endOfTurn, !marker.isEmpty {
            let ids = tokenizer.encode(marker)
            if ids.count == 1 { ends.insert(ids[0]) }
        }
        return ends
    }
}
