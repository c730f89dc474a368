import Data
import Engine

/// A DPO-trained policy as a judge (RewardBench's way of scoring DPO models): the reward of a response is
/// β·(log π(y|x) − log π_ref(y|x)), the log-probabilities summed over the response tokens and eos.
public struct ImplicitReward {
    public let policy: any CausalLanguageModel
    public let reference: any CausalLanguageModel
    public let beta: Double
    public var batchSize = 8

    public init(policy: any CausalLanguageModel, reference: any CausalLanguageModel, beta: Double) {
        self.policy = policy
        self.reference = reference
        self.beta = beta
    }

    public func rewards(_ responses: [TokenizedExample]) -> [Double] {
        var scorer = Scorer(model: policy, reference: reference)
        scorer.batchSize = batchSize
        let p = scorer.sequenceLogProbs(policy, responses)
        let r = scorer.sequenceLogProbs(reference, responses)
        return zip(p, r).map { beta * ($0.sum - $1.sum) }
    }
}
