import CBLAS

/// Sequences packed back to back without padding: sequence b covers tokens [starts[b], starts[b] + lengths[b]).
/// Packing is what makes padding unable to change any result: no token ever sees another sequence.
public struct PackedSequences: Sendable {
    public let starts: [Int]
    public let lengths: [Int]
    public var count: Int { lengths.count }
    public var tokenCount: Int { lengths.reduce(0, +) }
    /// Offset of sequence b's [length, length] attention matrices, one per head.
    public let attentionOffsets: [Int]
    public var attentionSize: Int { lengths.reduce(0) { $0 + $1 * $1 } }

    public init(lengths: [Int]) {
        precondition(lengths.allSatisfy { $0 > 0 }, "every packed sequence needs at least one token")
        self.lengths = lengths
        var s = [Int](), a = [Int](), t = 0, o = 0
        for l in lengths { s.append(t); a.append(o); t += l; o += l * l }
        starts = s
        attentionOffsets = a
    }
}

/// Where head h of token t starts in a [tokens, …] activation: base + t·rowStride + h·headStride. Lets one
/// kernel read GPT-NeoX's fused, per-head-interleaved qkv and Llama's separate q, k, v alike.
public struct HeadView {
    public let base: UnsafeMutablePointer<Float>
    public let rowStride: Int
    public let headStride: Int

    public init(_ base: UnsafeMutablePointer<Float>, rowStride: Int, headStride: Int) {
        self.base = base
        self.rowStride = rowStride
        self.headStride = headStride
    }

    /// heads × headSize contiguous per token ([tokens, heads·headSize]).
    public init(contiguous base: UnsafeMutablePointer<Float>, heads: Int, headSize: Int) {
        self.init(base, rowStride: heads * headSize, headStride: headSize)
    }

    @inline(__always) func at(_ token: Int, _ head: Int) -> UnsafeMutablePointer<Float> {
        base + token * rowStride + head * headStride
    }

    /// q, k and v of GPT-NeoX's fused qkv [tokens, heads·3·headSize], laid out per head as [q | k | v].
    static func fusedQKV(_ qkv: UnsafeMutablePointer<Float>, heads: Int, headSize: Int) -> (HeadView, HeadView, HeadView) {
        let row = 3 * heads * headSize, stride = 3 * headSize
        return (HeadView(qkv, rowStride: row, headStride: stride),
                HeadView(qkv + headSize, rowStride: row, headStride: stride),
                HeadView(qkv + 2 * headSize, rowStride: row, headStride: stride))
    }
}

/// Causal multi-head self-attention (after rotary), with grouped-query attention: query head h reads key/value
/// head h / (heads / kvHeads). out [tokens, heads·headSize]; probs [heads · Σ lengths²] (softmax, saved).
public enum Attention {
    /// GPT-NeoX's fused form: qkv [tokens, heads·3·headSize], per head [q | k | v].
    public static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, sequences: PackedSequences, heads: Int, headSize: Int) {
        let (q, k, v) = HeadView.fusedQKV(UnsafeMutablePointer(mutating: qkv), heads: heads, headSize: headSize)
        forward(out: out, probs: probs, q: q, k: k, v: v, sequences: sequences, heads: heads, kvHeads: heads,
                headSize: headSize)
    }

    public static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               q: HeadView, k: HeadView, v: HeadView, sequences: PackedSequences,
                               heads: Int, kvHeads: Int, headSize: Int) {
        precondition(kvHeads > 0 && heads % kvHeads == 0, "kv heads must divide heads")
        let channels = heads * headSize, group = heads / kvHeads
        let scale = 1 / Float(headSize).squareRoot()
        forEachSequenceHead(sequences, heads) { b, h, _ in
            let L = sequences.lengths[b], start = sequences.starts[b]
            let qh = q.at(start, h), kh = k.at(start, h / group), vh = v.at(start, h / group)
            let p = probs + heads * sequences.attentionOffsets[b] + h * L * L
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(L), Int32(L), Int32(headSize),
                        scale, qh, Int32(q.rowStride), kh, Int32(k.rowStride), 0, p, Int32(L))
            causalSoftmaxRows(p, L)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(L), Int32(headSize), Int32(L),
                        1, p, Int32(L), vh, Int32(v.rowStride), 0, out + start * channels + h * headSize, Int32(channels))
        }
    }

    /// Writes dqkv (each element exactly once; dqkv need not be zeroed) from dOut.
    public static func backward(dqkv: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                probs: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                                sequences: PackedSequences, heads: Int, headSize: Int, scratch: FloatBuffer) {
        let (q, k, v) = HeadView.fusedQKV(UnsafeMutablePointer(mutating: qkv), heads: heads, headSize: headSize)
        let (dq, dk, dv) = HeadView.fusedQKV(dqkv, heads: heads, headSize: headSize)
        backward(dq: dq, dk: dk, dv: dv, dOut: dOut, probs: probs, q: q, k: k, v: v, sequences: sequences,
                 heads: heads, kvHeads: heads, headSize: headSize, scratch: scratch)
    }

    /// Writes dq, dk and dv (each element exactly once; they need not be zeroed). Work is split by
    /// (sequence, kv head) so the query heads sharing a key/value head add into dk, dv on one thread.
    public static func backward(dq: HeadView, dk: HeadView, dv: HeadView, dOut: UnsafePointer<Float>,
                                probs: UnsafePointer<Float>, q: HeadView, k: HeadView, v: HeadView,
                                sequences: PackedSequences, heads: Int, kvHeads: Int, headSize: Int,
                                scratch: FloatBuffer) {
        precondition(kvHeads > 0 && heads % kvHeads == 0, "kv heads must divide heads")
        let channels = heads * headSize, group = heads / kvHeads
        let scale = 1 / Float(headSize).squareRoot()
        let maxL = sequences.lengths.max() ?? 0
        precondition(scratch.count >= EngineThreads.count * maxL * maxL, "attention scratch too small")
        forEachSequenceHead(sequences, kvHeads) { b, kvh, worker in
            let L = sequences.lengths[b], start = sequences.starts[b]
            let kh = k.at(start, kvh), vh = v.at(start, kvh), dkh = dk.at(start, kvh), dvh = dv.at(start, kvh)
            let dp = scratch.pointer + worker * maxL * maxL
            for h in (kvh * group)..<((kvh + 1) * group) {
                let first = h == kvh * group, accumulate: Float = first ? 0 : 1
                let qh = q.at(start, h), dqh = dq.at(start, h)
                let dO = dOut + start * channels + h * headSize
                let p = probs + heads * sequences.attentionOffsets[b] + h * L * L
                // dP = dO·Vᵀ ; dV (+)= Pᵀ·dO
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(L), Int32(L), Int32(headSize),
                            1, dO, Int32(channels), vh, Int32(v.rowStride), 0, dp, Int32(L))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(L), Int32(headSize), Int32(L),
                            1, p, Int32(L), dO, Int32(channels), accumulate, dvh, Int32(dv.rowStride))
                // dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale  (softmax backward; masked entries have P = 0)
                for i in 0..<L {
                    let pr = p + i * L, dr = dp + i * L
                    var dot: Float = 0
                    for j in 0...i { dot += pr[j] * dr[j] }
                    for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) * scale }
                    for j in (i + 1)..<max(i + 1, L) { dr[j] = 0 }
                }
                // dQ = dS·K ; dK (+)= dSᵀ·Q
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(L), Int32(headSize), Int32(L),
                            1, dp, Int32(L), kh, Int32(k.rowStride), 0, dqh, Int32(dq.rowStride))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(L), Int32(headSize), Int32(L),
                            1, dp, Int32(L), qh, Int32(q.rowStride), accumulate, dkh, Int32(dk.rowStride))
            }
        }
    }

    /// Numerically stable softmax of each row i over columns 0...i; columns after i are set to 0.
    @inline(__always)
    static func causalSoftmaxRows(_ p: UnsafeMutablePointer<Float>, _ L: Int) {
        for i in 0..<L {
            let r = p + i * L
            let m = LogProbs.rowMax(r, i + 1)
            // exp in place (a loop the compiler vectorises), then the sum with independent accumulators.
            for j in 0...i { r[j] = FastMath.exp(r[j] - m) }
            let inv = 1 / rowSum(r, i + 1)
            for j in 0...i { r[j] *= inv }
            for j in (i + 1)..<max(i + 1, L) { r[j] = 0 }
        }
    }

    @inline(__always)
    static func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = SIMD8<Float>(), i = 0
        while i + 8 <= n {
            a += SIMD8(x[i], x[i + 1], x[i + 2], x[i + 3], x[i + 4], x[i + 5], x[i + 6], x[i + 7])
            i += 8
        }
        var s = a.sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Runs body(sequence, head, worker) for every pair, spread over the engine's threads, each pair's small
    /// matrix products single-threaded (nested BLAS threading on small products costs more than it gains).
    static func forEachSequenceHead(_ sequences: PackedSequences, _ heads: Int, _ body: (Int, Int, Int) -> Void) {
        let pairs = sequences.count * heads
        let workers = min(EngineThreads.count, pairs)
        if workers <= 1 {
            for i in 0..<pairs { body(i / heads, i % heads, 0) }
            return
        }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(EngineThreads.count)) }
        // Interleave pairs across workers so long and short sequences spread evenly.
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < pairs { body(i / heads, i % heads, w); i += workers }
        }
    }
}

import Dispatch
