/// The language-model head every architecture here ends in, after its final norm: the output projection to the
/// vocabulary (no bias: `embed_out` in GPT-NeoX, `lm_head` or the tied embedding in Llama), log p(target) by
/// log-softmax, and the way back. It owns the logits between a forward pass and the backward pass that consumes
/// them: the logits gradient is written over them in place, so `lastLogits` is gone once `backward` ran.
final class LanguageModelHead {
    let channels: Int, vocab: Int
    private var tokenCapacity = 0
    private var logits = FloatBuffer(count: 0), lse = FloatBuffer(count: 0), logProbs = FloatBuffer(count: 0)
    private var dHidden = FloatBuffer(count: 0)
    private var lastBatch: TokenBatch?
    private var logitsValid = false

    init(channels: Int, vocab: Int) {
        self.channels = channels
        self.vocab = vocab
    }

    /// log p(target) at every position of `batch` (0 where the target is −1) from the final norm's output
    /// `hidden` [tokens, channels] and the output projection `weight` [vocab, channels]. Keeps the logits.
    func forward(_ batch: TokenBatch, hidden: UnsafePointer<Float>, weight: UnsafePointer<Float>) -> [Float] {
        let N = batch.tokenCount
        reserve(tokens: N)
        Linear.forward(out: logits.pointer, input: hidden, weight: weight, bias: nil,
                       rows: N, inFeatures: channels, outFeatures: vocab)
        batch.targets.withUnsafeBufferPointer { targets in
            LogProbs.forward(logProbs: logProbs.pointer, lse: lse.pointer, logits: logits.pointer,
                             targets: targets.baseAddress!, rows: N, vocab: vocab)
        }
        lastBatch = batch
        logitsValid = true
        return Array(UnsafeBufferPointer(start: logProbs.pointer, count: N))
    }

    /// The logits of the last forward pass, [tokens, vocab].
    func lastLogits() -> [Float] {
        precondition(logitsValid, "logits are consumed by backward; run forward again")
        return Array(UnsafeBufferPointer(start: logits.pointer, count: lastBatch!.tokenCount * vocab))
    }

    /// Back through the head of the last forward pass, for the loss Σ_t dLogProbs[t] · log p_t: accumulates the
    /// projection's gradient into `dWeight` (nil when frozen) and returns that forward's batch with ∂L/∂hidden
    /// [tokens, channels], valid until the next call. `hidden` and `weight` are the ones the forward pass read.
    func backward(dLogProbs: [Float], hidden: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                  dWeight: UnsafeMutablePointer<Float>?) -> (batch: TokenBatch, dHidden: UnsafePointer<Float>) {
        guard let batch = lastBatch, logitsValid else { preconditionFailure("backward needs a forward pass first") }
        precondition(dLogProbs.count == batch.tokenCount, "one gradient per token")
        let N = batch.tokenCount
        // Logits gradient, in place over the logits.
        batch.targets.withUnsafeBufferPointer { targets in
            dLogProbs.withUnsafeBufferPointer { dlp in
                LogProbs.backward(dLogits: logits.pointer, logits: logits.pointer, lse: lse.pointer,
                                  targets: targets.baseAddress!, dLogProbs: dlp.baseAddress!, rows: N, vocab: vocab)
            }
        }
        logitsValid = false
        dHidden.zero()
        Linear.backward(dInput: dHidden.pointer, dWeight: dWeight, dBias: nil, dOut: logits.pointer,
                        input: hidden, weight: weight, rows: N, inFeatures: channels, outFeatures: vocab)
        return (batch, UnsafePointer(dHidden.pointer))
    }

    /// Logits [rows, vocab] of `hidden` [rows, channels], for decoding (nothing kept).
    static func logits(hidden: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, channels: Int,
                       vocab: Int) -> [Float] {
        var logits = [Float](repeating: 0, count: rows * vocab)
        logits.withUnsafeMutableBufferPointer { out in
            Linear.forward(out: out.baseAddress!, input: hidden, weight: weight, bias: nil,
                           rows: rows, inFeatures: channels, outFeatures: vocab)
        }
        return logits
    }

    // Grow to the largest batch seen; steady-state training never reallocates.
    private func reserve(tokens: Int) {
        guard tokens > tokenCapacity else { return }
        logits = FloatBuffer(count: tokens * vocab); lse = FloatBuffer(count: tokens)
        logProbs = FloatBuffer(count: tokens); dHidden = FloatBuffer(count: tokens * channels)
        tokenCapacity = tokens
    }
}
