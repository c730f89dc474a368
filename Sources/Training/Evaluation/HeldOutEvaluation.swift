import Data
import Engine
import Foundation

/// SFT figures of a model on examples: the loss is the mean −log p over every scored token (response and eos)
/// of every example, as the training run's held-out evaluation computes it; perplexity is exp(loss).
public struct SFTFigures: Equatable, Sendable {
    public var examples: Int
    public var scoredTokens: Int
    public var loss: Double
    public var perplexity: Double { Foundation.exp(loss) }
}

/// DPO figures of a policy against a reference on preference pairs. The implicit reward of a response is
/// β·(log π(y|x) − log π_ref(y|x)); a pair counts as correct when the chosen reward is strictly above the
/// rejected one (as in the training run's `reward_accuracy`); the margin is the mean chosen − rejected reward.
public struct PreferenceFigures: Equatable, Sendable {
    public var pairs: Int
    public var loss: Double
    public var accuracy: Double
    public var margin: Double
    public var chosenReward: Double
    public var rejectedReward: Double
}

/// Held-out SFT and preference figures, in chunks so a long evaluation can report progress.
public enum HeldOutEvaluation {
    public static func sft(_ model: any CausalLanguageModel, _ examples: [TokenizedExample], batchSize: Int = 16,
                           progress: (Int) -> Void = { _ in }) -> SFTFigures {
        let scorer = Scorer(model: model)
        var sum = 0.0, count = 0, done = 0
        for chunk in chunks(examples, size: max(1, batchSize) * 4) {
            for s in scorer.sequenceLogProbs(model, chunk) { sum += s.sum; count += s.count }
            done += chunk.count
            progress(done)
        }
        return SFTFigures(examples: examples.count, scoredTokens: count, loss: -sum / Double(max(1, count)))
    }

    public static func preference(_ model: any CausalLanguageModel, reference: any CausalLanguageModel,
                                  _ pairs: [TokenizedPair], loss: PreferenceLoss, batchSize: Int = 16,
                                  progress: (Int) -> Void = { _ in }) -> PreferenceFigures {
        var scorer = Scorer(model: model, reference: reference, preference: loss)
        scorer.batchSize = max(1, batchSize)
        var lossSum = 0.0, chosen = 0.0, rejected = 0.0, correct = 0, done = 0
        for chunk in chunks(pairs, size: max(1, batchSize) * 2) {
            let s = scorer.pairScores(chunk)
            for i in 0..<chunk.count {
                let rc = loss.beta * (s.chosen[i] - s.referenceChosen[i])
                let rr = loss.beta * (s.rejected[i] - s.referenceRejected[i])
                lossSum += s.loss[i]; chosen += rc; rejected += rr
                if rc > rr { correct += 1 }
            }
            done += chunk.count
            progress(done)
        }
        let n = Double(max(1, pairs.count))
        return PreferenceFigures(pairs: pairs.count, loss: lossSum / n, accuracy: Double(correct) / n,
                                 margin: (chosen - rejected) / n, chosenReward: chosen / n, rejectedReward: rejected / n)
    }

    static func chunks<T>(_ items: [T], size: Int) -> [[T]] {
        stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min(items.count, $0 + size)]) }
    }
}
