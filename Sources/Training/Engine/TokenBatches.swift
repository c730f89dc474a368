import Data
import Engine
import Foundation

/// A batch of SFT examples, tokenized (ids = prompt ++ response ++ eos; the loss covers response and eos).
public struct SFTTokenBatch: TrainingBatch {
    public let examples: [TokenizedExample]
    public var tokenCount: Int { examples.reduce(0) { $0 + $1.ids.count } }

    public init(examples: [TokenizedExample]) { self.examples = examples }

    var tokenBatch: TokenBatch {
        TokenBatch(sequences: examples.map { $0.ids.map(Int.init) }, scoredFrom: examples.map(\.responseStart))
    }
}

/// A batch of preference pairs; `pairIDs` name each pair for the reference log-prob cache.
public struct PreferenceTokenBatch: TrainingBatch {
    public let pairs: [TokenizedPair]
    public let pairIDs: [Int]
    public var tokenCount: Int { pairs.reduce(0) { $0 + $1.chosen.ids.count + $1.rejected.ids.count } }

    public init(pairs: [TokenizedPair], pairIDs: [Int]) {
        precondition(pairs.count == pairIDs.count, "one id per pair")
        self.pairs = pairs
        self.pairIDs = pairIDs
    }

    /// chosen₀, rejected₀, chosen₁, rejected₁, …
    var tokenBatch: TokenBatch {
        let seqs = pairs.flatMap { [$0.chosen, $0.rejected] }
        return TokenBatch(sequences: seqs.map { $0.ids.map(Int.init) }, scoredFrom: seqs.map(\.responseStart))
    }
}

/// Batches of a list of items, reshuffled every epoch by (seed, epoch): batch `index` of epoch `epoch` is always
/// the same, so a loader's whole state is its `BatchPosition`.
public final class ShuffledBatches<Item>: BatchSource {
    let items: [Item]
    let batchSize: Int
    public let shuffleSeed: UInt64
    let make: ([Item], [Int]) -> any TrainingBatch
    private var cachedEpoch = -1
    private var order: [Int] = []

    public init(items: [Item], batchSize: Int, seed: UInt64, make: @escaping ([Item], [Int]) -> any TrainingBatch) {
        precondition(batchSize >= 1, "batch size must be at least 1")
        self.items = items
        self.batchSize = batchSize
        shuffleSeed = seed
        self.make = make
    }

    public var epochLength: Int { (items.count + batchSize - 1) / batchSize }

    public func batch(at position: BatchPosition) throws -> any TrainingBatch {
        guard position.index >= 0, position.index < epochLength else {
            throw TrainingConfigError.invalid(field: "batch position", expected: "an index below \(epochLength)",
                                              found: "\(position.index)")
        }
        if position.epoch != cachedEpoch {
            var rng = SeededRandom(seed: shuffleSeed &+ UInt64(position.epoch) &* 0x9E37_79B9_7F4A_7C15)
            order = Array(0..<items.count)
            // Fisher–Yates with our own generator: the same on every platform and Swift version.
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            cachedEpoch = position.epoch
        }
        let ids = Array(order[(position.index * batchSize)..<min(items.count, (position.index + 1) * batchSize)])
        return make(ids.map { items[$0] }, ids)
    }
}

extension ShuffledBatches where Item == TokenizedExample {
    public convenience init(sft examples: [TokenizedExample], batchSize: Int, seed: UInt64) {
        self.init(items: examples, batchSize: batchSize, seed: seed) { items, _ in SFTTokenBatch(examples: items) }
    }
}

extension ShuffledBatches where Item == TokenizedPair {
    public convenience init(preference pairs: [TokenizedPair], batchSize: Int, seed: UInt64) {
        self.init(items: pairs, batchSize: batchSize, seed: seed) { items, ids in
            PreferenceTokenBatch(pairs: items, pairIDs: ids)
        }
    }
}
