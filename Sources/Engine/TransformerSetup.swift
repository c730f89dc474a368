/// The setup steps every architecture here shares before training: Hugging Face's initialisation and attaching
/// LoRA adapters to the block linears. The model types call these with their own names and targets.
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
