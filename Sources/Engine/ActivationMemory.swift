/// What a model keeps between its forward and backward passes (`--gradient-checkpointing`,
/// docs/TRAINING.md, "Memory"). By default every layer's activations and the whole batch's logits stay in
/// memory. Gradient checkpointing keeps only each decoder layer's input and recomputes the layer's forward pass
/// just before its backward pass (one layer's activations live at a time; the backward pass costs one more
/// forward pass), and computes the logits and their gradient a chunk of tokens at a time, so the
/// [tokens, vocabulary] logits are never held whole.
public struct ActivationMemory: Sendable, Equatable, Codable {
    /// Recompute each layer's activations in the backward pass instead of keeping them.
    public var recomputeLayers: Bool
    /// Tokens whose logits are computed at a time (nil: the whole batch, kept from forward to backward).
    public var logitChunkTokens: Int?

    public init(recomputeLayers: Bool, logitChunkTokens: Int?) {
        precondition(logitChunkTokens.map { $0 >= 1 } ?? true, "a logit chunk holds at least one token")
        self.recomputeLayers = recomputeLayers
        self.logitChunkTokens = logitChunkTokens
    }

    /// Everything kept: the fastest backward pass, and the exact arithmetic of every earlier release.
    public static let keepAll = ActivationMemory(recomputeLayers: false, logitChunkTokens: nil)

    /// Layers recomputed, logits in chunks of 128 tokens: at a 49,152-token vocabulary a chunk is 25 MB where the
    /// logits of a 1,024-token batch are 201 MB, and 128 rows still keep the output projection's products at
    /// full speed.
    public static let gradientCheckpointing = ActivationMemory(recomputeLayers: true, logitChunkTokens: 128)
}
