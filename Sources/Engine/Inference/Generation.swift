import Foundation

/// Why generation ended.
public enum StopReason: String, Sendable, Codable {
    /// An end-of-sequence / end-of-turn token (not part of the reply).
    case endToken = "end_token"
    /// A `--stop` string appeared (cut from the reply).
    case stopString = "stop_string"
    case maxTokens = "max_tokens"
}

public struct GenerationResult: Sendable {
    public var promptTokens: Int
    /// The new tokens, without the end token that stopped them.
    public var ids: [Int]
    public var stopReason: StopReason
    /// From the start of prefill to the first new token's logits.
    public var timeToFirstToken: Double
    /// From the first token to the last (decode steps only).
    public var decodeSeconds: Double

    /// Decode speed: tokens after the first over the time they took.
    public var decodeTokensPerSecond: Double {
        ids.count > 1 && decodeSeconds > 0 ? Double(ids.count - 1) / decodeSeconds : 0
    }
}

/// Prompt → prefill (all prompt tokens in one `feed`) → one token per step until an end token, `maxNewTokens`,
/// or `onToken` returns false (a stop string). The decoder's cache is reset first.
public enum Generator {
    public static func run(_ decoder: any IncrementalDecoder, prompt: [Int], maxNewTokens: Int,
                           sampler: inout Sampler, endTokens: Set<Int>,
                           onToken: (Int) -> Bool = { _ in true }) throws -> GenerationResult {
        precondition(!prompt.isEmpty, "empty prompt")
        for id in prompt where id < 0 || id >= decoder.vocabSize {
            throw InferenceError.tokenOutOfRange(id: id, vocab: decoder.vocabSize)
        }
        let needed = prompt.count + maxNewTokens
        guard needed <= decoder.cache.capacity + 1 else {
            throw InferenceError.contextFull(capacity: decoder.cache.capacity, needed: needed)
        }
        decoder.cache.reset()
        let start = DispatchTime.now().uptimeNanoseconds
        var logits = decoder.feed(prompt)
        var firstAt = start
        var ids = [Int](), reason = StopReason.maxTokens
        while ids.count < maxNewTokens {
            let id = sampler.next(logits)
            if ids.isEmpty { firstAt = DispatchTime.now().uptimeNanoseconds }
            if endTokens.contains(id) { reason = .endToken; break }
            ids.append(id)
            if !onToken(id) { reason = .stopString; break }
            if ids.count == maxNewTokens { break }
            logits = decoder.feed([id])
        }
        let end = DispatchTime.now().uptimeNanoseconds
        return GenerationResult(promptTokens: prompt.count, ids: ids, stopReason: reason,
                                timeToFirstToken: Double(firstAt - start) / 1e9,
                                decodeSeconds: Double(end - firstAt) / 1e9)
    }
}
