/// Log-probabilities of target tokens under a softmax over the vocabulary, and their backward pass.
/// Every loss we train is a weighted sum of these: SFT is −mean over response tokens; DPO's log π(y|x) is the
/// sum over a response's tokens (docs/DESIGN.md §1). logits [rows, vocab]; targets [rows], −1 = not scored.
public enum LogProbs {
    /// logProbs[r] = logits[r, target] − logsumexp(logits[r]); lse[r] is saved. Rows with target −1 give 0.
    public static func forward(logProbs: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>,
                               logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, vocab: Int) {
        EngineThreads.parallelRanges(rows, minimumPerThread: 8) { r0, r1 in
            for r in r0..<r1 {
                let t = Int(targets[r])
                guard t >= 0 else { logProbs[r] = 0; lse[r] = 0; continue }
                let x = logits + r * vocab
                let m = rowMax(x, vocab)
                let sum = rowSumExp(x, vocab, shift: m)
                let l = m + Float(Foundation.log(Double(sum)))
                lse[r] = l
                logProbs[r] = x[t] - l
            }
        }
    }

    // Eight independent accumulators: Swift keeps float sums in order, so one accumulator would serialise the
    // loop; eight let the compiler put them in vector lanes.
    @inline(__always)
    static func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = SIMD8<Float>(repeating: -.infinity), i = 0
        while i + 8 <= n {
            a = pointwiseMax(a, SIMD8(x[i], x[i + 1], x[i + 2], x[i + 3], x[i + 4], x[i + 5], x[i + 6], x[i + 7]))
            i += 8
        }
        var m = a.max()
        while i < n { m = max(m, x[i]); i += 1 }
        return m
    }

    @inline(__always)
    static func rowSumExp(_ x: UnsafePointer<Float>, _ n: Int, shift: Float) -> Float {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0, s4: Float = 0, s5: Float = 0, s6: Float = 0, s7: Float = 0
        var i = 0
        while i + 8 <= n {
            s0 += FastMath.exp(x[i] - shift); s1 += FastMath.exp(x[i + 1] - shift)
            s2 += FastMath.exp(x[i + 2] - shift); s3 += FastMath.exp(x[i + 3] - shift)
            s4 += FastMath.exp(x[i + 4] - shift); s5 += FastMath.exp(x[i + 5] - shift)
            s6 += FastMath.exp(x[i + 6] - shift); s7 += FastMath.exp(x[i + 7] - shift)
            i += 8
        }
        var sum = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        while i < n { sum += FastMath.exp(x[i] - shift); i += 1 }
        return sum
    }

    /// dLogits[r, v] = dLogProbs[r] · (1[v = target] − softmax(logits[r])_v). Overwrites; dLogits may be the
    /// logits buffer itself (the logits are not needed after this).
    public static func backward(dLogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                                lse: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
                                dLogProbs: UnsafePointer<Float>, rows: Int, vocab: Int) {
        EngineThreads.parallelRanges(rows, minimumPerThread: 8) { r0, r1 in
            for r in r0..<r1 {
                let t = Int(targets[r]), g = dLogProbs[r]
                let x = logits + r * vocab, d = dLogits + r * vocab
                guard t >= 0, g != 0 else { d.update(repeating: 0, count: vocab); continue }
                let l = lse[r]
                for v in 0..<vocab { d[v] = -g * FastMath.exp(x[v] - l) }
                d[t] += g
            }
        }
    }
}

import Foundation
