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

/// Causal multi-head self-attention over a fused, per-head-interleaved qkv (after rotary).
/// qkv [tokens, heads·3·headSize]; out [tokens, heads·headSize]; probs [heads · Σ lengths²] (softmax, saved).
public enum Attention {
    public static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, sequences: PackedSequences, heads: Int, headSize: Int) {
        let channels = heads * headSize, row = 3 * channels
        let scale = 1 / Float(headSize).squareRoot()
        forEachSequenceHead(sequences, heads) { b, h, _ in
            let L = sequences.lengths[b], start = sequences.starts[b]
            let q = qkv + start * row + h * 3 * headSize, k = q + headSize, v = q + 2 * headSize
            let p = probs + heads * sequences.attentionOffsets[b] + h * L * L
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(L), Int32(L), Int32(headSize),
                        scale, q, Int32(row), k, Int32(row), 0, p, Int32(L))
            causalSoftmaxRows(p, L)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(L), Int32(headSize), Int32(L),
                        1, p, Int32(L), v, Int32(row), 0, out + start * channels + h * headSize, Int32(channels))
        }
    }

    /// Writes dqkv (each element exactly once; dqkv need not be zeroed) from dOut.
    public static func backward(dqkv: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                probs: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                                sequences: PackedSequences, heads: Int, headSize: Int, scratch: FloatBuffer) {
        let channels = heads * headSize, row = 3 * channels
        let scale = 1 / Float(headSize).squareRoot()
        let maxL = sequences.lengths.max() ?? 0
        precondition(scratch.count >= EngineThreads.count * maxL * maxL, "attention scratch too small")
        forEachSequenceHead(sequences, heads) { b, h, worker in
            let L = sequences.lengths[b], start = sequences.starts[b]
            let q = qkv + start * row + h * 3 * headSize, k = q + headSize, v = q + 2 * headSize
            let dq = dqkv + start * row + h * 3 * headSize, dk = dq + headSize, dv = dq + 2 * headSize
            let dO = dOut + start * channels + h * headSize
            let p = probs + heads * sequences.attentionOffsets[b] + h * L * L
            let dp = scratch.pointer + worker * maxL * maxL
            // dP = dO·Vᵀ ; dV = Pᵀ·dO
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(L), Int32(L), Int32(headSize),
                        1, dO, Int32(channels), v, Int32(row), 0, dp, Int32(L))
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(L), Int32(headSize), Int32(L),
                        1, p, Int32(L), dO, Int32(channels), 0, dv, Int32(row))
            // dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale  (softmax backward; masked entries have P = 0)
            for i in 0..<L {
                let pr = p + i * L, dr = dp + i * L
                var dot: Float = 0
                for j in 0...i { dot += pr[j] * dr[j] }
                for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) * scale }
                for j in (i + 1)..<max(i + 1, L) { dr[j] = 0 }
            }
            // dQ = dS·K ; dK = dSᵀ·Q
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(L), Int32(headSize), Int32(L),
                        1, dp, Int32(L), k, Int32(row), 0, dq, Int32(row))
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(L), Int32(headSize), Int32(L),
                        1, dp, Int32(L), q, Int32(row), 0, dk, Int32(row))
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
