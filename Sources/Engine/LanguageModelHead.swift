/// The language-model head every architecture here ends in, after its final norm: the output projection to the
/// vocabulary (no bias: `embed_out` in GPT-NeoX, `lm_head` or the tied embedding in Llama), log p(target) by
/// log-softmax, and the way back. Whole-batch mode owns the logits between a forward pass and the backward pass
/// that consumes them: the logits gradient is written over them in place, so `lastLogits` is gone once `backward`
/// ran. Chunked mode (`chunkTokens`, under gradient checkpointing) holds only a chunk of rows × vocabulary: the
/// forward pass keeps the log-sum-exp of each row and the backward pass recomputes each chunk's logits, so a batch
/// never holds [tokens, vocabulary] floats (docs/TRAINING.md, "Memory").
final class LanguageModelHead {
    let channels: Int, vocab: Int
    /// Rows of logits computed at a time (nil: the whole batch, kept from forward to backward).
    var chunkTokens: Int? {
        didSet { if chunkTokens != oldValue { logitsCapacity = 0; logits = FloatBuffer(count: 0); logitsValid = false } }
    }
    private var tokenCapacity = 0, logitsCapacity = 0
    private var logits = FloatBuffer(count: 0), lse = FloatBuffer(count: 0), logProbs = FloatBuffer(count: 0)
    private var dHidden = FloatBuffer(count: 0)
    private var lastBatch: TokenBatch?
    private var logitsValid = false

    init(channels: Int, vocab: Int) {
        self.channels = channels
        self.vocab = vocab
    }

    /// log p(target) at every position of `batch` (0 where the target is −1) from the final norm's output
    /// `hidden` [tokens, channels] and the output projection `weight` [vocab, channels]. Whole-batch mode keeps
    /// the logits; chunked mode skips the chunks without a scored target.
    func forward(_ batch: TokenBatch, hidden: UnsafePointer<Float>, weight: UnsafePointer<Float>) -> [Float] {
        let N = batch.tokenCount
        reserve(tokens: N)
        batch.targets.withUnsafeBufferPointer { targets in
            for (r0, r1) in chunks(N) {
                let rows = r1 - r0
                if chunkTokens != nil && !(r0..<r1).contains(where: { targets[$0] >= 0 }) {
                    logProbs.pointer.advanced(by: r0).update(repeating: 0, count: rows)
                    lse.pointer.advanced(by: r0).update(repeating: 0, count: rows)
                    continue
                }
                // Whole-batch mode: one chunk, the logits stay at the buffer's start.
                Linear.forward(out: logits.pointer, input: hidden + r0 * channels, weight: weight, bias: nil,
                               rows: rows, inFeatures: channels, outFeatures: vocab)
                LogProbs.forward(logProbs: logProbs.pointer + r0, lse: lse.pointer + r0, logits: logits.pointer,
                                 targets: targets.baseAddress! + r0, rows: rows, vocab: vocab)
            }
        }
        lastBatch = batch
        logitsValid = true
        return Array(UnsafeBufferPointer(start: logProbs.pointer, count: N))
    }

    /// The logits of the last forward pass, [tokens, vocab]; chunked mode recomputes them from the same `hidden`
    /// and `weight` the forward pass read.
    func lastLogits(hidden: UnsafePointer<Float>, weight: UnsafePointer<Float>) -> [Float] {
        precondition(logitsValid, "logits are consumed by backward; run forward again")
        let N = lastBatch!.tokenCount
        if chunkTokens != nil {
            return Self.logits(hidden: hidden, weight: weight, rows: N, channels: channels, vocab: vocab)
        }
        return Array(UnsafeBufferPointer(start: logits.pointer, count: N * vocab))
    }

    /// Back through the head of the last forward pass, for the loss Σ_t dLogProbs[t] · log p_t: accumulates the
    /// projection's gradient into `dWeight` (nil when frozen) and returns that forward's batch with ∂L/∂hidden
    /// [tokens, channels], valid until the next call. `hidden` and `weight` are the ones the forward pass read.
    func backward(dLogProbs: [Float], hidden: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                  dWeight: UnsafeMutablePointer<Float>?) -> (batch: TokenBatch, dHidden: UnsafePointer<Float>) {
        guard let batch = lastBatch, logitsValid else { preconditionFailure("backward needs a forward pass first") }
        precondition(dLogProbs.count == batch.tokenCount, "one gradient per token")
        let N = batch.tokenCount
        logitsValid = false
        dHidden.zero()
        batch.targets.withUnsafeBufferPointer { targets in
            dLogProbs.withUnsafeBufferPointer { dlp in
                for (r0, r1) in chunks(N) {
                    let rows = r1 - r0
                    if chunkTokens != nil {
                        // A chunk whose rows all have zero gradient contributes nothing: skip its products.
                        guard (r0..<r1).contains(where: { targets[$0] >= 0 && dlp[$0] != 0 }) else { continue }
                        Linear.forward(out: logits.pointer, input: hidden + r0 * channels, weight: weight, bias: nil,
                                       rows: rows, inFeatures: channels, outFeatures: vocab)
                    }
                    // Logits gradient, in place over the logits.
                    LogProbs.backward(dLogits: logits.pointer, logits: logits.pointer, lse: lse.pointer + r0,
                                      targets: targets.baseAddress! + r0, dLogProbs: dlp.baseAddress! + r0,
                                      rows: rows, vocab: vocab)
                    Linear.backward(dInput: dHidden.pointer + r0 * channels, dWeight: dWeight, dBias: nil,
                                    dOut: logits.pointer, input: hidden + r0 * channels, weight: weight,
                                    rows: rows, inFeatures: channels, outFeatures: vocab)
                }
            }
        }
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

    /// [start, end) row ranges: one for the whole batch, or `chunkTokens` rows at a time.
    private func chunks(_ n: Int) -> [(Int, Int)] {
        let size = max(1, chunkTokens ?? n)
        return stride(from: 0, to: n, by: size).map { ($0, min(n, $0 + size)) }
    }

    // Grow to the largest batch seen; steady-state training never reallocates.
    private func reserve(tokens: Int) {
        let logitRows = min(tokens, chunkTokens ?? tokens)
        if logitRows > logitsCapacity {
            logits = FloatBuffer(count: logitRows * vocab)
            logitsCapacity = logitRows
        }
        guard tokens > tokenCapacity else { return }
        lse = FloatBuffer(count: tokens)
        logProbs = FloatBuffer(count: tokens); dHidden = FloatBuffer(count: tokens * channels)
        tokenCapacity = tokens
    }
}
