import CBLAS

/// Keys and values of every position decoded so far, per layer, as in llama2.c: layer l's K and V are flat
/// arrays [positions, kvHeads, headDim] (rotary already applied to K). Capacity is fixed up front (prompt + new
/// tokens), so decoding allocates nothing per token. See docs/GENERATE.md, "KV cache".
public final class KVCache {
    public let layers: Int
    public let kvHeads: Int
    public let headDim: Int
    public let capacity: Int
    /// Positions filled (the next token's position).
    public internal(set) var count = 0
    let keys: [FloatBuffer]
    let values: [FloatBuffer]

    public init(layers: Int, kvHeads: Int, headDim: Int, capacity: Int) {
        precondition(capacity > 0, "a KV cache needs room for at least one position")
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.capacity = capacity
        keys = (0..<layers).map { _ in FloatBuffer(count: capacity * kvHeads * headDim) }
        values = (0..<layers).map { _ in FloatBuffer(count: capacity * kvHeads * headDim) }
    }

    /// Forgets every position (the buffers are reused).
    public func reset() { count = 0 }

    var rowSize: Int { kvHeads * headDim }

    /// Causal attention of `tokens` new queries (at positions count…count+tokens−1, whose K and V are already
    /// stored) over the cache: query head h reads kv head h / (heads / kvHeads). q is [tokens, heads·headDim];
    /// out [tokens, heads·headDim]; scores is scratch of at least `capacity` floats.
    func attend(layer: Int, q: UnsafePointer<Float>, qRowStride: Int, qHeadStride: Int, tokens: Int, heads: Int,
                out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>) {
        let group = heads / kvHeads, D = headDim, row = rowSize
        let scale = 1 / Float(D).squareRoot()
        let K = keys[layer].pointer, V = values[layer].pointer
        for t in 0..<tokens {
            let length = count + t + 1
            for h in 0..<heads {
                let kvh = h / group
                let qh = q + t * qRowStride + h * qHeadStride
                // scores[j] = scale · q · K[j]
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(length), Int32(D), scale, K + kvh * D, Int32(row),
                            qh, 1, 0, scores, 1)
                var maxScore = -Float.infinity
                for j in 0..<length { maxScore = max(maxScore, scores[j]) }
                var sum: Float = 0
                for j in 0..<length { let e = FastMath.exp(scores[j] - maxScore); scores[j] = e; sum += e }
                let inv = 1 / sum
                for j in 0..<length { scores[j] *= inv }
                // out = Σ_j p_j V[j]
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(length), Int32(D), 1, V + kvh * D, Int32(row),
                            scores, 1, 0, out + t * heads * D + h * D, 1)
            }
        }
    }

    /// Copies `tokens` rows of K and V (kvHeads·headDim each, at the given strides) into positions count….
    func store(layer: Int, k: HeadView, v: HeadView, tokens: Int) {
        let D = headDim
        for t in 0..<tokens {
            let dst = (count + t) * rowSize
            for h in 0..<kvHeads {
                (keys[layer].pointer + dst + h * D).update(from: k.at(t, h), count: D)
                (values[layer].pointer + dst + h * D).update(from: v.at(t, h), count: D)
            }
        }
    }
}
