import Foundation
import XCTest
import Engine

/// Finite-difference checks of every backward kernel: the analytical gradient of L = Σ w ⊙ f(x) (random w)
/// must match central differences (L accumulated in Double so Float rounding does not swamp the difference).
final class GradientCheckTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    // MARK: helpers

    private var rng = SeededRandom(seed: 1234)

    private func randomArray(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in rng.nextGaussian() * scale }
    }

    private func weightedSum(_ out: [Float], _ w: [Float]) -> Double {
        zip(out, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Compares `analytical` against central differences of `loss` around `x`, on every coordinate.
    private func assertGradient(_ name: String, x: [Float], analytical: [Float], eps: Float = 1e-2,
                                loss: ([Float]) -> Double, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(x.count, analytical.count, "\(name): gradient size", file: file, line: line)
        var worst = 0.0, worstIndex = -1
        for i in 0..<x.count {
            var plus = x, minus = x
            plus[i] += eps
            minus[i] -= eps
            let numeric = (loss(plus) - loss(minus)) / Double(2 * eps)
            let err = abs(numeric - Double(analytical[i])) / max(1, abs(numeric))
            if err > worst { worst = err; worstIndex = i }
        }
        XCTAssertLessThan(worst, 2e-3, "\(name): worst relative error \(worst) at index \(worstIndex)", file: file, line: line)
    }

    // MARK: kernels

    func test_linear_backwardMatchesFiniteDifferences() {
        let rows = 5, inF = 7, outF = 4
        let x = randomArray(rows * inF), W = randomArray(outF * inF), b = randomArray(outF), w = randomArray(rows * outF)
        func run(_ x: [Float], _ W: [Float], _ b: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: rows * outF)
            Linear.forward(out: &out, input: x, weight: W, bias: b, rows: rows, inFeatures: inF, outFeatures: outF)
            return out
        }
        var dx = [Float](repeating: 0, count: x.count), dW = [Float](repeating: 0, count: W.count)
        var db = [Float](repeating: 0, count: b.count)
        Linear.backward(dInput: &dx, dWeight: &dW, dBias: &db, dOut: w, input: x, weight: W,
                        rows: rows, inFeatures: inF, outFeatures: outF)
        assertGradient("linear dx", x: x, analytical: dx) { weightedSum(run($0, W, b), w) }
        assertGradient("linear dW", x: W, analytical: dW) { weightedSum(run(x, $0, b), w) }
        assertGradient("linear db", x: b, analytical: db) { weightedSum(run(x, W, $0), w) }
    }

    func test_linear_accumulateAddsToExistingOutput() {
        let x: [Float] = [1, 2], W: [Float] = [3, 4], b: [Float] = [0.5]
        var out: [Float] = [10]
        Linear.forward(out: &out, input: x, weight: W, bias: b, rows: 1, inFeatures: 2, outFeatures: 1, accumulate: true)
        XCTAssertEqual(out[0], 10 + 11 + 0.5)
    }

    func test_embedding_backwardAccumulatesRepeatedIds() {
        let vocab = 6, C = 3
        let table = randomArray(vocab * C)
        let ids: [Int32] = [2, 5, 2, 0]
        let w = randomArray(ids.count * C)
        func run(_ t: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: ids.count * C)
            Embedding.forward(out: &out, ids: ids, table: t, rows: ids.count, channels: C)
            return out
        }
        var dT = [Float](repeating: 0, count: table.count)
        Embedding.backward(dTable: &dT, dOut: w, ids: ids, rows: ids.count, channels: C)
        assertGradient("embedding", x: table, analytical: dT) { weightedSum(run($0), w) }
    }

    func test_layerNorm_backwardMatchesFiniteDifferences() {
        let rows = 4, C = 9
        let x = randomArray(rows * C, scale: 2), gamma = randomArray(C), beta = randomArray(C), w = randomArray(rows * C)
        func run(_ x: [Float], _ g: [Float], _ b: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: rows * C), m = [Float](repeating: 0, count: rows), r = m
            LayerNorm.forward(out: &out, mean: &m, rstd: &r, input: x, weight: g, bias: b, rows: rows, channels: C, eps: 1e-5)
            return out
        }
        var out = [Float](repeating: 0, count: rows * C), m = [Float](repeating: 0, count: rows), r = m
        LayerNorm.forward(out: &out, mean: &m, rstd: &r, input: x, weight: gamma, bias: beta, rows: rows, channels: C, eps: 1e-5)
        var dx = [Float](repeating: 0, count: x.count), dg = [Float](repeating: 0, count: C), db = dg
        LayerNorm.backward(dInput: &dx, dWeight: &dg, dBias: &db, dOut: w, input: x, weight: gamma,
                           mean: m, rstd: r, rows: rows, channels: C)
        assertGradient("layernorm dx", x: x, analytical: dx, eps: 5e-3) { weightedSum(run($0, gamma, beta), w) }
        assertGradient("layernorm dweight", x: gamma, analytical: dg) { weightedSum(run(x, $0, beta), w) }
        assertGradient("layernorm dbias", x: beta, analytical: db) { weightedSum(run(x, gamma, $0), w) }
    }

    func test_gelu_matchesErfFormAndBackward() {
        let x = randomArray(64, scale: 3) + [0, -0.5, 0.5, 8, -8]
        var out = [Float](repeating: 0, count: x.count)
        GELU.forward(out: &out, input: x, count: x.count)
        for (xi, yi) in zip(x, out) {
            let exact = 0.5 * Double(xi) * (1 + erf(Double(xi) / 2.0.squareRoot()))
            XCTAssertEqual(Double(yi), exact, accuracy: 1e-6 * max(1, abs(exact)))
        }
        let w = randomArray(x.count)
        var dx = [Float](repeating: 0, count: x.count)
        GELU.backward(dInput: &dx, input: x, dOut: w, count: x.count)
        assertGradient("gelu", x: x, analytical: dx) { x in
            var o = [Float](repeating: 0, count: x.count)
            GELU.forward(out: &o, input: x, count: x.count)
            return weightedSum(o, w)
        }
    }

    func test_fastExp_isAccurateOverTheRange() {
        var worst = 0.0
        for i in -8700...8800 {
            let x = Float(i) / 100
            let rel = abs(Double(FastMath.exp(x)) - Foundation.exp(Double(x))) / Foundation.exp(Double(x))
            worst = max(worst, rel)
        }
        XCTAssertLessThan(worst, 5e-7)
    }

    func test_rotary_backwardIsTheTransposeOfForward() {
        let heads = 2, D = 8, tokens = 5
        let table = RotaryTable(headSize: D, rotaryPct: 0.5, base: 10_000, maxPositions: 16)
        XCTAssertEqual(table.rotaryDims, 4)
        let positions: [Int32] = [0, 1, 2, 7, 3]
        let qkv = randomArray(tokens * heads * 3 * D), w = randomArray(qkv.count)
        func run(_ x: [Float]) -> [Float] {
            var y = x
            Rotary.forward(qkv: &y, positions: positions, tokens: tokens, heads: heads, headSize: D, table: table)
            return y
        }
        var d = w
        Rotary.backward(dqkv: &d, positions: positions, tokens: tokens, heads: heads, headSize: D, table: table)
        assertGradient("rotary", x: qkv, analytical: d) { weightedSum(run($0), w) }
        // v and the unrotated tail of q/k are untouched; position 0 is the identity.
        let y = run(qkv)
        for h in 0..<heads {
            let base = 1 * heads * 3 * D + h * 3 * D
            for i in 4..<D { XCTAssertEqual(y[base + i], qkv[base + i]) }
            for i in 0..<D { XCTAssertEqual(y[base + 2 * D + i], qkv[base + 2 * D + i]) }
            for i in 0..<(3 * D) { XCTAssertEqual(y[h * 3 * D + i], qkv[h * 3 * D + i]) }
        }
    }

    func test_attention_backwardMatchesFiniteDifferences() {
        let heads = 2, D = 4, seqs = PackedSequences(lengths: [3, 5])
        let N = seqs.tokenCount
        let qkv = randomArray(N * heads * 3 * D), w = randomArray(N * heads * D)
        func run(_ x: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: N * heads * D)
            var probs = [Float](repeating: 0, count: heads * seqs.attentionSize)
            Attention.forward(out: &out, probs: &probs, qkv: x, sequences: seqs, heads: heads, headSize: D)
            return out
        }
        var out = [Float](repeating: 0, count: N * heads * D), probs = [Float](repeating: 0, count: heads * seqs.attentionSize)
        Attention.forward(out: &out, probs: &probs, qkv: qkv, sequences: seqs, heads: heads, headSize: D)
        var dqkv = [Float](repeating: .nan, count: qkv.count)
        Attention.backward(dqkv: &dqkv, dOut: w, probs: probs, qkv: qkv, sequences: seqs, heads: heads, headSize: D,
                           scratch: FloatBuffer(count: 2 * 25))
        assertGradient("attention", x: qkv, analytical: dqkv) { weightedSum(run($0), w) }
    }

    func test_attention_isCausalAndStaysInsideItsSequence() {
        let heads = 1, D = 4, seqs = PackedSequences(lengths: [4, 3])
        let qkv = randomArray(seqs.tokenCount * 3 * D)
        func run(_ x: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: seqs.tokenCount * D), p = [Float](repeating: 0, count: seqs.attentionSize)
            Attention.forward(out: &out, probs: &p, qkv: x, sequences: seqs, heads: heads, headSize: D)
            return out
        }
        let base = run(qkv)
        // Changing token 2 (first sequence) must not change tokens 0, 1 (earlier) nor 4...6 (other sequence).
        var changed = qkv
        for i in (2 * 3 * D)..<(3 * 3 * D) { changed[i] += 1 }
        let after = run(changed)
        for t in [0, 1, 4, 5, 6] {
            for i in 0..<D { XCTAssertEqual(base[t * D + i], after[t * D + i], "token \(t) saw a later/foreign token") }
        }
    }

    func test_logProbs_forwardIsLogSoftmaxAndBackwardMatches() {
        let rows = 4, vocab = 11
        let logits = randomArray(rows * vocab, scale: 3)
        let targets: [Int32] = [3, -1, 10, 0]
        func run(_ x: [Float]) -> [Float] {
            var lp = [Float](repeating: 0, count: rows), lse = lp
            LogProbs.forward(logProbs: &lp, lse: &lse, logits: x, targets: targets, rows: rows, vocab: vocab)
            return lp
        }
        let lp = run(logits)
        for r in 0..<rows {
            guard targets[r] >= 0 else { XCTAssertEqual(lp[r], 0); continue }
            let row = logits[(r * vocab)..<((r + 1) * vocab)].map(Double.init)
            let m = row.max()!
            let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
            XCTAssertEqual(Double(lp[r]), row[Int(targets[r])] - lse, accuracy: 1e-5)
        }
        let w = randomArray(rows)
        var lpv = [Float](repeating: 0, count: rows), lse = lpv
        LogProbs.forward(logProbs: &lpv, lse: &lse, logits: logits, targets: targets, rows: rows, vocab: vocab)
        var d = [Float](repeating: .nan, count: logits.count)
        LogProbs.backward(dLogits: &d, logits: logits, lse: lse, targets: targets, dLogProbs: w, rows: rows, vocab: vocab)
        assertGradient("logprobs", x: logits, analytical: d) { weightedSum(run($0), w) }
    }

    // MARK: Llama kernels

    func test_rmsNorm_forwardNormalisesAndBackwardMatches() {
        let rows = 4, C = 9
        let x = randomArray(rows * C, scale: 2), gamma = randomArray(C), w = randomArray(rows * C)
        func run(_ x: [Float], _ g: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: rows * C), rstd = [Float](repeating: 0, count: rows)
            RMSNorm.forward(out: &out, rstd: &rstd, input: x, weight: g, rows: rows, channels: C, eps: 1e-5)
            return out
        }
        // y = x / rms(x) · γ, checked in Double.
        let y = run(x, gamma)
        for r in 0..<rows {
            let row = x[(r * C)..<((r + 1) * C)].map(Double.init)
            let rms = (row.reduce(0) { $0 + $1 * $1 } / Double(C) + 1e-5).squareRoot()
            for c in 0..<C { XCTAssertEqual(Double(y[r * C + c]), row[c] / rms * Double(gamma[c]), accuracy: 1e-5) }
        }
        var out = [Float](repeating: 0, count: rows * C), rstd = [Float](repeating: 0, count: rows)
        RMSNorm.forward(out: &out, rstd: &rstd, input: x, weight: gamma, rows: rows, channels: C, eps: 1e-5)
        var dx = [Float](repeating: 0, count: x.count), dg = [Float](repeating: 0, count: C)
        RMSNorm.backward(dInput: &dx, dWeight: &dg, dOut: w, input: x, weight: gamma, rstd: rstd, rows: rows, channels: C)
        assertGradient("rmsnorm dx", x: x, analytical: dx) { weightedSum(run($0, gamma), w) }
        assertGradient("rmsnorm dγ", x: gamma, analytical: dg) { weightedSum(run(x, $0), w) }
    }

    func test_swiGLU_isSiluTimesUpAndBackwardMatches() {
        let n = 37
        let gate = randomArray(n, scale: 3), up = randomArray(n), w = randomArray(n)
        func run(_ g: [Float], _ u: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: n)
            SwiGLU.forward(out: &out, gate: g, up: u, count: n)
            return out
        }
        let y = run(gate, up)
        for i in 0..<n {
            let g = Double(gate[i])
            XCTAssertEqual(Double(y[i]), g / (1 + Foundation.exp(-g)) * Double(up[i]), accuracy: 1e-5)
        }
        var dGate = [Float](repeating: .nan, count: n), dUp = w
        // dUp aliases dOut, as the model calls it.
        dUp.withUnsafeMutableBufferPointer { d in
            SwiGLU.backward(dGate: &dGate, dUp: d.baseAddress!, dOut: d.baseAddress!, gate: gate, up: up, count: n)
        }
        assertGradient("swiglu dgate", x: gate, analytical: dGate) { weightedSum(run($0, up), w) }
        assertGradient("swiglu dup", x: up, analytical: dUp) { weightedSum(run(gate, $0), w) }
    }

    /// Grouped-query attention on separate q [N, H·D], k and v [N, KV·D]: every query head of a group reads the
    /// same key/value head, and dk, dv sum over the group.
    private func checkGroupedAttention(heads: Int, kvHeads: Int) {
        let D = 4, seqs = PackedSequences(lengths: [3, 5])
        let N = seqs.tokenCount, Q = heads * D, KV = kvHeads * D
        let qkv = randomArray(N * (Q + 2 * KV)), w = randomArray(N * Q)
        func run(_ x: [Float]) -> ([Float], [Float]) {
            var x = x
            var out = [Float](repeating: 0, count: N * Q), probs = [Float](repeating: 0, count: heads * seqs.attentionSize)
            x.withUnsafeMutableBufferPointer { b in
                let p = b.baseAddress!
                Attention.forward(out: &out, probs: &probs, q: HeadView(contiguous: p, heads: heads, headSize: D),
                                  k: HeadView(contiguous: p + N * Q, heads: kvHeads, headSize: D),
                                  v: HeadView(contiguous: p + N * (Q + KV), heads: kvHeads, headSize: D),
                                  sequences: seqs, heads: heads, kvHeads: kvHeads, headSize: D)
            }
            return (out, probs)
        }
        var x = qkv, d = [Float](repeating: .nan, count: qkv.count)
        var probs = run(qkv).1
        x.withUnsafeMutableBufferPointer { xb in
            d.withUnsafeMutableBufferPointer { db in
                let p = xb.baseAddress!, dp = db.baseAddress!
                Attention.backward(dq: HeadView(contiguous: dp, heads: heads, headSize: D),
                                   dk: HeadView(contiguous: dp + N * Q, heads: kvHeads, headSize: D),
                                   dv: HeadView(contiguous: dp + N * (Q + KV), heads: kvHeads, headSize: D),
                                   dOut: w, probs: &probs, q: HeadView(contiguous: p, heads: heads, headSize: D),
                                   k: HeadView(contiguous: p + N * Q, heads: kvHeads, headSize: D),
                                   v: HeadView(contiguous: p + N * (Q + KV), heads: kvHeads, headSize: D),
                                   sequences: seqs, heads: heads, kvHeads: kvHeads, headSize: D,
                                   scratch: FloatBuffer(count: 2 * 25))
            }
        }
        assertGradient("attention \(heads):\(kvHeads)", x: qkv, analytical: d) { weightedSum(run($0).0, w) }
    }

    func test_groupedQueryAttention_4to2_backwardMatchesFiniteDifferences() { checkGroupedAttention(heads: 4, kvHeads: 2) }

    func test_groupedQueryAttention_6to1_backwardMatchesFiniteDifferences() { checkGroupedAttention(heads: 6, kvHeads: 1) }

    func test_groupedQueryAttention_withOneHeadPerGroup_equalsTheFusedKernel() {
        let heads = 2, D = 4, seqs = PackedSequences(lengths: [4, 2]), N = seqs.tokenCount
        let fused = randomArray(N * heads * 3 * D)
        var a = [Float](repeating: 0, count: N * heads * D), b = a
        var pa = [Float](repeating: 0, count: heads * seqs.attentionSize), pb = pa
        Attention.forward(out: &a, probs: &pa, qkv: fused, sequences: seqs, heads: heads, headSize: D)
        // The same numbers split into separate q, k, v.
        var q = [Float](), k = [Float](), v = [Float]()
        for t in 0..<N { for h in 0..<heads {
            let base = t * heads * 3 * D + h * 3 * D
            q += fused[base..<(base + D)]; k += fused[(base + D)..<(base + 2 * D)]; v += fused[(base + 2 * D)..<(base + 3 * D)]
        } }
        Attention.forward(out: &b, probs: &pb, q: HeadView(contiguous: &q, heads: heads, headSize: D),
                          k: HeadView(contiguous: &k, heads: heads, headSize: D),
                          v: HeadView(contiguous: &v, heads: heads, headSize: D), sequences: seqs, heads: heads,
                          kvHeads: heads, headSize: D)
        XCTAssertEqual(a, b)
    }

    func test_llama3RopeScaling_matchesTransformersFormula() {
        // transformers' _compute_llama3_parameters, written out here in Double for three frequency bands.
        let s = Llama3RopeScaling(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64)
        let dims = 16, base = 10_000.0
        let table = RotaryTable(headSize: dims, rotaryPct: 1, base: base, maxPositions: 4, llama3: s)
        let plain = RotaryTable(headSize: dims, rotaryPct: 1, base: base, maxPositions: 4)
        var bands = Set<String>()
        for i in 0..<(dims / 2) {
            let inv = Double(Float(1 / Foundation.pow(base, Double(2 * i) / Double(dims))))
            let wavelen = 2 * Double.pi / inv
            var expected = inv
            if wavelen > 64 / 1 { expected = inv / 8; bands.insert("low") }
            else if wavelen >= 64 / 4 {
                let smooth = (64 / wavelen - 1) / (4 - 1)
                expected = (1 - smooth) * inv / 8 + smooth * inv; bands.insert("mid")
            } else { bands.insert("high") }
            // At position 1 the angle is the frequency itself.
            XCTAssertEqual(Double(table.sinValue(position: 1, index: i)), Foundation.sin(expected), accuracy: 1e-6, "band \(i)")
            XCTAssertEqual(Double(plain.sinValue(position: 1, index: i)), Foundation.sin(inv), accuracy: 1e-6)
        }
        XCTAssertEqual(bands, ["low", "mid", "high"], "the test covers every band")
    }
}
