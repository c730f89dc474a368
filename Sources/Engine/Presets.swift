/// Built-in model sizes: seeded random inits of the GPT-NeoX architecture, so nothing has to be downloaded.
public enum ModelPreset: String, CaseIterable, Sendable {
    /// Tests: trains in milliseconds.
    case tiny
    /// The built-in demo: small enough to learn the demo task in a minute on two cores.
    case demo
    /// The engine benchmark (issue #3): hidden 256, 4 layers, 4 heads, intermediate 1024, vocab 4096, seq 256, batch 8.
    case bench

    /// The architecture; `vocabSize` overrides the preset's vocabulary (the byte tokenizer's size for tiny/demo).
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
        }
    }

    /// Sequence length and batch size the preset is benchmarked with.
    public var benchShape: (sequenceLength: Int, batchSize: Int) {
        switch self {
        case .tiny: return (64, 4)
        case .demo: return (128, 8)
        case .bench: return (256, 8)
        }
    }
}
