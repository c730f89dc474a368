/// One batch as the engine understands it (token ids, masks, prompt lengths). Training never looks inside; it
/// hands batches from a `BatchSource` to the `TrainingBackend`, which knows their concrete type.
public protocol TrainingBatch {
    /// Tokens in the batch (for tokens/s).
    var tokenCount: Int { get }
}

/// Where in a source the next batch comes from. `epoch` selects the shuffle (a function of the source's seed and
/// the epoch), `index` the batch within it. Serializable, so a resumed run continues with the same batch.
public struct BatchPosition: Codable, Hashable, Sendable {
    public var epoch: Int
    public var index: Int

    public init(epoch: Int, index: Int) {
        self.epoch = epoch
        self.index = index
    }
}

/// The batches of one objective's training data, addressable by position: random access keeps the loader state
/// down to a `BatchPosition`, and makes resuming exact without replaying the data.
public protocol BatchSource: AnyObject {
    /// Batches per epoch (≥ 1).
    var epochLength: Int { get }
    /// Seed of the per-epoch shuffle; stored in checkpoints so a resume with other data is caught.
    var shuffleSeed: UInt64 { get }
    /// The batch at `position` (`0 ≤ index < epochLength`). The same position always gives the same batch.
    func batch(at position: BatchPosition) throws -> any TrainingBatch
}

/// A loader's progress through its source (what `iter(dataloader)` + `next()` hold in the official code).
public struct BatchCursor: Codable, Equatable, Sendable {
    public var position: BatchPosition
    /// Epochs this objective has begun; the next `beginEpoch()` starts epoch `epochsBegun`.
    public var epochsBegun: Int
    public var shuffleSeed: UInt64

    public init(shuffleSeed: UInt64) {
        position = BatchPosition(epoch: 0, index: 0)
        epochsBegun = 0
        self.shuffleSeed = shuffleSeed
    }

    /// A fresh pass in the next shuffle, as the official trainers re-create both iterators every epoch.
    public mutating func beginEpoch() {
        position = BatchPosition(epoch: epochsBegun, index: 0)
        epochsBegun += 1
    }

    /// The batch under the cursor. A source shorter than the session's epoch cycles through its order again
    /// (the official code assumes equal lengths and would stop).
    public func current(in source: BatchSource) throws -> any TrainingBatch {
        try source.batch(at: BatchPosition(epoch: position.epoch, index: position.index % source.epochLength))
    }

    public mutating func advance() {
        position.index += 1
    }
}
