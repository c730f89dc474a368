/// Log-probabilities of target tokens under a softmax over the vocabulary, and their backward pass.
/// Every loss we train is a weighted sum of these: SFT is −mean over response tokens; DPO's log π(y|x) is the
/// sum over a response's tokens (DESIGN §1). logits [rows, vocab]; targets [rows], −1 = not scored.
public enum LogProbs {
    /// logProbs[r] = logits[r, target] − logsumexp(logits[r]); lse[r] is saved. Rows with target −1 give 0.
    public static func forward(logProbs: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>,
                               logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, vocab: Int) {
        EngineThreads.parallelRanges(rows, minimumPerThread: 8) { r0, r1 in
            for r in r0..<r1 {
                let t = Int(targets[r])
                guard t >= 0 else { logProbs[r] = 0; lse[r] = 0; continue }
                let x = logits + r * vocab
                var m = -Float.infinity
                for v in 0..<vocab { m = max(m, x[v]) }
                var sum: Float = 0
                for v in 0..<vocab { sum += FastMath.exp(x[v] - m) }
                let l = m + Float(Foundation.log(Double(sum)))
                lse[r] = l
                logProbs[r] = x[t] - l
            }
        }
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
