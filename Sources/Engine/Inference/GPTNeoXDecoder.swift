/// GPT-NeoX decoding over a KV cache: the same layer as `GPTNeoX.forward` (LayerNorm → fused qkv, per head
/// [q | k | v] → partial rotary → attention over the cache → dense; parallel or sequential residual with the
/// GELU MLP), for the new tokens only.
final class GPTNeoXDecoder: IncrementalDecoder {
    let config: GPTNeoXConfig
    let cache: KVCache
    var vocabSize: Int { config.vocabSize }
    private let w: DecoderWeights
    private let rotary: RotaryTable
    private let scratch: Scratch
    private let scores: FloatBuffer
    private enum S { static let x = 0, ln = 1, qkv = 2, attn = 3, mid = 4, fc = 5 }

    init(_ model: GPTNeoX, capacity: Int) {
        let c = model.config
        config = c
        cache = KVCache(layers: c.numLayers, kvHeads: c.numHeads, headDim: c.headSize, capacity: capacity)
        w = DecoderWeights(model)
        rotary = RotaryTable(headSize: c.headSize, rotaryPct: c.rotaryPct, base: c.rotaryBase, maxPositions: capacity)
        let C = c.hiddenSize
        scratch = Scratch(perRow: [C, C, 3 * C, C, C, c.intermediateSize])
        scores = FloatBuffer(count: capacity)
    }

    func feed(_ ids: [Int], allPositions: Bool) -> [Float] {
        let c = config, N = ids.count, C = c.hiddenSize, I = c.intermediateSize, V = c.vocabSize
        let H = c.numHeads, D = c.headSize
        scratch.reserve(N)
        let s = scratch, x = s[S.x], eps = Float(c.layerNormEps)
        let positions = w.embed(ids, table: "gpt_neox.embed_in.weight", into: x, channels: C, cache: cache)
        let mean = FloatBuffer(count: N), rstd = FloatBuffer(count: N)
        func norm(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ name: String, _ rows: Int) {
            LayerNorm.forward(out: out, mean: mean.pointer, rstd: rstd.pointer, input: input,
                              weight: w(name + ".weight"), bias: w(name + ".bias"), rows: rows, channels: C, eps: eps)
        }
        positions.withUnsafeBufferPointer { pos in
            for l in 0..<c.numLayers {
                let p = "gpt_neox.layers.\(l)."
                norm(s[S.ln], x, p + "input_layernorm", N)
                w.linear(s[S.qkv], s[S.ln], p + "attention.query_key_value", N, C, 3 * C)
                Rotary.forward(qkv: s[S.qkv], positions: pos.baseAddress!, tokens: N, heads: H, headSize: D,
                               table: rotary)
                let (_, k, v) = HeadView.fusedQKV(s[S.qkv], heads: H, headSize: D)
                cache.store(layer: l, k: k, v: v, tokens: N)
                cache.attend(layer: l, q: s[S.qkv], qRowStride: 3 * C, qHeadStride: 3 * D, tokens: N, heads: H,
                             out: s[S.attn], scores: scores.pointer)
                // Parallel: x + attn(ln1(x)) + mlp(ln2(x)); sequential: h = x + attn(…), h + mlp(ln2(h)).
                if c.useParallelResidual {
                    norm(s[S.ln], x, p + "post_attention_layernorm", N)
                    w.linear(x, s[S.attn], p + "attention.dense", N, C, C, accumulate: true)
                } else {
                    w.linear(x, s[S.attn], p + "attention.dense", N, C, C, accumulate: true)
                    norm(s[S.ln], x, p + "post_attention_layernorm", N)
                }
                w.linear(s[S.fc], s[S.ln], p + "mlp.dense_h_to_4h", N, C, I)
                GELU.forward(out: s[S.fc], input: s[S.fc], count: N * I)
                w.linear(x, s[S.fc], p + "mlp.dense_4h_to_h", N, I, C, accumulate: true)
            }
        }
        cache.count += N
        let first = allPositions ? 0 : N - 1, rows = N - first
        norm(s[S.ln], x + first * C, "gpt_neox.final_layer_norm", rows)
        return LanguageModelHead.logits(hidden: s[S.ln], weight: w("embed_out.weight"), rows: rows, channels: C,
                                        vocab: V)
    }
}
