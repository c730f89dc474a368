/// Built-in model sizes: seeded random inits, so nothing has to be downloaded. GPT-NeoX presets for tests, the demo
/// and the engine benchmark; `smollm2-135m` has the shape of SmolLM2-135M (Llama) for benchmarks on a real size.
public enum ModelPreset: String, CaseIterable, Sendable {
    /// Tests: trains in milliseconds.
    case tiny
    /// The built-in demo: small enough to learn the demo task in a minute on two cores.
    case demo
    /// The engine benchmark (issue #3): hidden 256, 4 layers, 4 heads, intermediate 1024, vocab 4096, seq 256, batch 8.
    case bench
    /// SmolLM2-135M's architecture (Llama, 30 layers, hidden 576, 9 heads, 3 KV heads, intermediate 1536,
    /// vocab 49,152, tied embeddings, rope θ 100,000), randomly initialised.
    case smollm2_135m = "smollm2-135m"

    /// The GPT-NeoX architecture of the NeoX presets; `vocabSize` overrides the preset's vocabulary (the byte
    /// tokenizer's size for tiny/demo). Llama presets have `llamaConfig` instead.
    public func config(vocabSize: Int? = nil) -> GPTNeoXConfig {
        switch self {
        case .tiny:
            return GPTNeoXConfig(vocabSize: vocabSize ?? 260, hiddenSize: 32, numLayers: 2, numHeads: 4,
                                 intermediateSize: 128, rotaryPct: 0.25, maxPositions: 256)
        case .demo:
            return GPTNeoXConfig(vocabSize: vocabSize ?? 260, hiddenSize: 128, numLayers: 4, numHeads: 4,
                                 intermediateSize: 512, rotaryPct: 0.25, maxPositions: 256)
        case .bench:
            return GPTNeoXConfig(vocabSize: vocabSize ?? 4096, hiddenSize: 256, numLayers: 4, numHeads: 4,
                                 intermediateSize: 1024, rotaryPct: 0.25, maxPositions: 256)
        case .smollm2_135m:
            preconditionFailure("smollm2-135m is a Llama preset; use llamaConfig or makeModel")
        }
    }

    /// The Llama architecture of the Llama presets (nil for GPT-NeoX ones).
    public var llamaConfig: LlamaConfig? {
        switch self {
        case .smollm2_135m:
            return LlamaConfig(vocabSize: 49152, hiddenSize: 576, numLayers: 30, numHeads: 9, numKVHeads: 3,
                               intermediateSize: 1536, ropeTheta: 100_000, maxPositions: 8192, rmsNormEps: 1e-5,
                               tieWordEmbeddings: true, bosTokenId: 1, eosTokenId: 2)
        default: return nil
        }
    }

    /// A zeroed model of the preset (initialise it next). `vocabSize` applies to the NeoX presets only.
    public func makeModel(vocabSize: Int? = nil) -> any CausalLanguageModel {
        if let llama = llamaConfig { return Llama(config: llama) }
        return GPTNeoX(config: config(vocabSize: vocabSize))
    }

    /// Sequence length and batch size the preset is benchmarked with.
    public var benchShape: (sequenceLength: Int, batchSize: Int) {
        switch self {
        case .tiny: return (64, 4)
        case .demo: return (128, 8)
        case .bench: return (256, 8)
        case .smollm2_135m: return (256, 4)
        }
    }
}
