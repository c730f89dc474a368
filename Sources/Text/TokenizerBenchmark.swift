/// Encoding throughput of a tokenizer over a list of texts, on the calling thread.
public struct TokenizerThroughput: Sendable, Equatable {
    /// UTF-8 bytes and token ids in one pass over the texts.
    public let bytes: Int
    public let texts: Int
    public let tokens: Int
    /// Wall time of each pass, in order; the first pass starts with an empty word cache.
    public let passSeconds: [Double]

    public init(bytes: Int, texts: Int, tokens: Int, passSeconds: [Double]) {
        self.bytes = bytes
        self.texts = texts
        self.tokens = tokens
        self.passSeconds = passSeconds
    }

    /// Megabytes (10^6 bytes) of text per second in the fastest pass.
    public var megabytesPerSecond: Double {
        guard let best = passSeconds.min(), best > 0 else { return 0 }
        return Double(bytes) / best / 1e6
    }

    /// Megabytes per second in the first pass (cold cache).
    public var firstPassMegabytesPerSecond: Double {
        guard let first = passSeconds.first, first > 0 else { return 0 }
        return Double(bytes) / first / 1e6
    }
}

public enum TokenizerBenchmark {
    /// Encodes every text `passes` times (one `encode` call per text) and times each pass.
    /// `progress(pass, textsDone)` is called every 1000 texts and at the end of each pass.
    public static func measure(_ tokenizer: any Tokenizer, texts: [String], passes: Int = 3,
                               progress: ((Int, Int) -> Void)? = nil) -> TokenizerThroughput {
        var bytes = 0
        for text in texts { bytes += text.utf8.count }
        var tokens = 0
        var seconds: [Double] = []
        let clock = ContinuousClock()
        for pass in 0..<max(1, passes) {
            var passTokens = 0
            let start = clock.now
            for (index, text) in texts.enumerated() {
                passTokens += tokenizer.encode(text).count
                if let progress, (index + 1) % 1000 == 0 { progress(pass, index + 1) }
            }
            let elapsed = clock.now - start
            seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            if texts.count % 1000 != 0 { progress?(pass, texts.count) }
            tokens = passTokens
        }
        return TokenizerThroughput(bytes: bytes, texts: texts.count, tokens: tokens, passSeconds: seconds)
    }
}
