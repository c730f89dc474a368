// Steps GPT-NeoX and Llama take alike, written once: Hugging Face's initialisation, attaching LoRA adapters to
// the block linears, and, at each step, checking a batch against the positions and the embedding lookup and its
// backward. The model types call these with their own parameter names and targets.

extension ParameterSet {
    /// Hugging Face's initialisation: N(0, std) weights, zero biases, norm weights 1 (LayerNorm and RMSNorm:
    /// the names ending in `norm.weight`). Seeded; draws in storage order, so a seed gives one model.
    func initializeLikeHuggingFace(seed: UInt64, std: Float) {
        var rng = SeededRandom(seed: seed)
        for e in entries {
            let p = values.pointer + e.offset
            if e.name.hasSuffix("norm.weight") {
                p.update(repeating: 1, count: e.count)
            } else if e.name.hasSuffix(".bias") {
                p.update(repeating: 0, count: e.count)
            } else {
                for i in 0..<e.count { p[i] = rng.nextGaussian() * std }
            }
        }
    }
}

extension BlockLinears {
    /// Adds LoRA adapters to these linears (targets empty: `defaultTargets`), checked against the layer names
    /// `architecture` has, and freezes `base`: its weights leave the optimizer, so they get no gradient storage.
    func attachAdapters(_ lora: LoRAConfig, seed: UInt64, adaptableLayers: [String], defaultTargets: [String],
                        architecture: String, freezing base: ParameterSet) throws {
        var lora = lora
        if lora.targets.isEmpty { lora.targets = defaultTargets }
        try lora.validate()
        try lora.validateTargets(adaptableLayers, architecture: architecture)
        let adapters = LoRAAdapters(config: lora, layerPrefixes: layerPrefixes, sites: sites)
        adapters.initialize(seed: seed)
        attach(adapters)
        base.setTrainable(false)
    }
}

extension RotaryTable {
    /// Checks that `batch` fits a model of `maxPositions` positions (not empty, no longer sequence) and returns
    /// the table grown to cover its longest sequence.
    func covering(_ batch: TokenBatch, maxPositions: Int) -> RotaryTable {
        precondition(batch.tokenCount > 0, "empty batch")
        let longest = batch.sequences.lengths.max()!
        precondition(longest <= maxPositions, "sequence longer than max_position_embeddings \(maxPositions)")
        return covering(longest, limit: maxPositions)
    }
}

extension Embedding {
    /// The rows of `table` for the batch's tokens into `out` [tokens, channels].
    static func forward(out: UnsafeMutablePointer<Float>, batch: TokenBatch, table: UnsafePointer<Float>,
                        channels: Int) {
        batch.ids.withUnsafeBufferPointer { ids in
            forward(out: out, ids: ids.baseAddress!, table: table, rows: batch.tokenCount, channels: channels)
        }
    }

    /// Accumulates `dOut` [tokens, channels] into the table rows of the batch's tokens; nothing when the table
    /// is frozen (`dTable` nil).
    static func backward(dTable: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>, batch: TokenBatch,
                         channels: Int) {
        guard let dTable else { return }
        batch.ids.withUnsafeBufferPointer { ids in
            backward(dTable: dTable, dOut: dOut, ids: ids.baseAddress!, rows: batch.tokenCount, channels: channels)
        }
    }
}
