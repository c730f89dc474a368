import Data
import Engine

/// Per-record losses of a model on data, with the token convention of docs/DESIGN.md §1 (`xright score`, parity tests
/// against transformers and the PyTorch bridge).
public struct Scorer {
    public let model: any CausalLanguageModel
    public let reference: any CausalLanguageModel
    public let preference: PreferenceLoss
    /// Sequences per forward pass.
    public var batchSize = 16

    public init(model: any CausalLanguageModel, reference: (any CausalLanguageModel)? = nil, preference: PreferenceLoss = PreferenceLoss()) {
        self.model = model
        self.reference = reference ?? model
        self.preference = preference
    }

    /// Mean −log p over response tokens and eos, per example.
    public func sftLosses(_ examples: [TokenizedExample]) -> [Double] {
        sequenceLogProbs(model, examples).map { -$0.sum / Double(max(1, $0.count)) }
    }

    public struct PairScores: Equatable {
        public var chosen, rejected, referenceChosen, referenceRejected, loss: [Double]
    }

    public func pairScores(_ pairs: [TokenizedPair]) -> PairScores {
        let seqs = pairs.flatMap { [$0.chosen, $0.rejected] }
        let policy = sequenceLogProbs(model, seqs).map(\.sum)
        let ref = sequenceLogProbs(reference, seqs).map(\.sum)
        var s = PairScores(chosen: [], rejected: [], referenceChosen: [], referenceRejected: [], loss: [])
        for i in 0..<pairs.count {
            s.chosen.append(policy[2 * i]); s.rejected.append(policy[2 * i + 1])
            s.referenceChosen.append(ref[2 * i]); s.referenceRejected.append(ref[2 * i + 1])
            s.loss.append(preference.loss(policyChosen: policy[2 * i], policyRejected: policy[2 * i + 1],
                                          referenceChosen: ref[2 * i], referenceRejected: ref[2 * i + 1]).loss)
        }
        return s
    }

    /// Σ log p over each sequence's scored tokens (response and eos), and how many there are.
    func sequenceLogProbs(_ m: any CausalLanguageModel, _ examples: [TokenizedExample]) -> [(sum: Double, count: Int)] {
        var out = [(sum: Double, count: Int)]()
        for start in stride(from: 0, to: examples.count, by: max(1, batchSize)) {
            let chunk = Array(examples[start..<min(examples.count, start + max(1, batchSize))])
            let batch = SFTTokenBatch(examples: chunk).tokenBatch
            let lp = m.forward(batch)
            for (b, s) in batch.sequences.starts.enumerated() {
                var sum = 0.0, count = 0
                for t in s..<(s + batch.sequences.lengths[b]) where batch.targets[t] >= 0 { sum += Double(lp[t]); count += 1 }
                out.append((sum, count))
            }
        }
        return out
    }
}
