/// Llama-family decoding over a KV cache: the same layer as `Llama.forward` (RMSNorm → q/k/v with optional
/// biases → rope (llama3 scaling) → grouped-query attention over the cache → o_proj; RMSNorm → SwiGLU), for the
/// new tokens only.
final class LlamaDecoder: IncrementalDecoder {
    let config: LlamaConfig
    let cache: KVCache
    var vocabSize: Int { config.vocabSize }
    private let w: DecoderWeights
    private var rotary: RotaryTable
    private let scratch: Scratch
    private let scores: FloatBuffer
    private let outputName: String
    private enum S { static let x = 0, ln = 1, q = 2, k = 3, v = 4, attn = 5, gate = 6, up = 7 }

    init(_ model: Llama, capacity: Int) {
        let c = model.config
        config = c
        cache = KVCache(layers: c.numLayers, kvHeads: c.numKVHeads, headDim: c.headDim, capacity: capacity)
        w = DecoderWeights(model)
        rotary = RotaryTable(headSize: c.headDim, rotaryPct: 1, base: c.ropeTheta, maxPositions: capacity,
                             llama3: c.llama3Scaling)
        let C = c.hiddenSize, QD = c.numHeads * c.headDim, KVD = c.numKVHeads * c.headDim, I = c.intermediateSize
        scratch = Scratch(perRow: [C, C, QD, KVD, KVD, QD, I, I])
        scores = FloatBuffer(count: capacity)
        outputName = c.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight"
    }

    func feed(_ ids: [Int], allPositions: Bool) -> [Float] {
        let c = config, N = ids.count, C = c.hiddenSize, I = c.intermediateSize, V = c.vocabSize
        let H = c.numHeads, KV = c.numKVHeads, D = c.headDim
        scratch.reserve(N)
        let s = scratch, x = s[S.x], eps = Float(c.rmsNormEps)
        let positions = w.embed(ids, table: "model.embed_tokens.weight", into: x, channels: C, cache: cache)
        let rstd = FloatBuffer(count: N)
        positions.withUnsafeBufferPointer { pos in
            for l in 0..<c.numLayers {
                let p = "model.layers.\(l)."
                RMSNorm.forward(out: s[S.ln], rstd: rstd.pointer, input: x, weight: w(p + "input_layernorm.weight"),
                                rows: N, channels: C, eps: eps)
                w.linear(s[S.q], s[S.ln], p + "self_attn.q_proj", N, C, H * D)
                w.linear(s[S.k], s[S.ln], p + "self_attn.k_proj", N, C, KV * D)
                w.linear(s[S.v], s[S.ln], p + "self_attn.v_proj", N, C, KV * D)
                let q = HeadView(contiguous: s[S.q], heads: H, headSize: D)
                let k = HeadView(contiguous: s[S.k], heads: KV, headSize: D)
                Rotary.apply(q, H, pos.baseAddress!, N, rotary, inverse: false)
                Rotary.apply(k, KV, pos.baseAddress!, N, rotary, inverse: false)
                cache.store(layer: l, k: k, v: HeadView(contiguous: s[S.v], heads: KV, headSize: D), tokens: N)
                cache.attend(layer: l, q: s[S.q], qRowStride: H * D, qHeadStride: D, tokens: N, heads: H,
                             out: s[S.attn], scores: scores.pointer)
                w.linear(x, s[S.attn], p + "self_attn.o_proj", N, H * D, C, accumulate: true)
                RMSNorm.forward(out: s[S.ln], rstd: rstd.pointer, input: x,
                                weight: w(p + "post_attention_layernorm.weight"), rows: N, channels: C, eps: eps)
                w.linear(s[S.gate], s[S.ln], p + "mlp.gate_proj", N, C, I)
                w.linear(s[S.up], s[S.ln], p + "mlp.up_proj", N, C, I)
                SwiGLU.forward(out: s[S.gate], gate: s[S.gate], up: s[S.up], count: N * I)
                w.linear(x, s[S.gate], p + "mlp.down_proj", N, I, C, accumulate: true)
            }
        }
        cache.count += N
        let first = allPositions ? 0 : N - 1, rows = N - first
        RMSNorm.forward(out: s[S.ln], rstd: rstd.pointer, input: x + first * C, weight: w("model.norm.weight"),
                        rows: rows, channels: C, eps: eps)
        return LanguageModelHead.logits(hidden: s[S.ln], weight: w(outputName), rows: rows, channels: C, vocab: V)
    }
}
