/// Sequences of token ids packed back to back, with the target each position is scored against.
/// targets[t] is the id the model should predict after position t, or −1 where nothing is scored
/// (the last token of each sequence, prompt tokens under SFT).
public struct TokenBatch: Sendable {
    public let ids: [Int32]
    public let targets: [Int32]
    public let positions: [Int32]
    public let sequences: PackedSequences

    public var tokenCount: Int { ids.count }

    /// Next-token targets over each whole sequence (language-model training and the reference goldens).
    public init(sequences tokenLists: [[Int]]) {
        self.init(sequences: tokenLists, scoredFrom: tokenLists.map { _ in 1 })
    }

    /// Scores the tokens of sequence b from index scoredFrom[b] on (≥ 1): position t predicts token t+1,
    /// so target index j ≥ scoredFrom[b] is scored at position j−1. SFT scores response + eos this way.
    public init(sequences tokenLists: [[Int]], scoredFrom: [Int]) {
        precondition(tokenLists.count == scoredFrom.count, "one scoredFrom per sequence")
        var ids = [Int32](), targets = [Int32](), positions = [Int32]()
        for (seq, from) in zip(tokenLists, scoredFrom) {
            for (i, id) in seq.enumerated() {
                ids.append(Int32(id))
                positions.append(Int32(i))
                let next = i + 1
                targets.append(next < seq.count && next >= max(1, from) ? Int32(seq[next]) : -1)
            }
        }
        self.ids = ids
        self.targets = targets
        self.positions = positions
        self.sequences = PackedSequences(lengths: tokenLists.map(\.count))
    }
}
