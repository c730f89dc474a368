/// Low-rank adapters on named linear layers (Hu et al. 2021): y = x·Wᵀ + b + (α/r)·(x·Aᵀ)·Bᵀ,
/// A [r, in] random, B [out, r] zero, so training starts from the base model exactly.
/// Names follow PEFT (`…query_key_value.lora_A.weight`) so adapters load in Python.
public struct LoRAConfig: Codable, Equatable, Sendable {
    public var rank: Int
    public var alpha: Float
    /// Linear layers to adapt, by their last name component: query_key_value, dense, dense_h_to_4h, dense_4h_to_h.
    public var targets: [String]

    public init(rank: Int = 8, alpha: Float = 16, targets: [String] = ["query_key_value"]) {
        self.rank = rank
        self.alpha = alpha
        self.targets = targets
    }

    public var scale: Float { alpha / Float(rank) }

    public static let adaptableLayers = ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]

    public func validate() throws {
        if rank <= 0 { throw EngineError.invalidInput(what: "lora rank", message: "expected a positive integer, got \(rank)") }
        if !(alpha > 0) { throw EngineError.invalidInput(what: "lora alpha", message: "expected a positive number, got \(alpha)") }
        for t in targets where !Self.adaptableLayers.contains(t) {
            throw EngineError.invalidInput(what: "lora target '\(t)'",
                                           message: "expected one of \(Self.adaptableLayers.joined(separator: ", "))")
        }
    }
}

public final class LoRAAdapters: @unchecked Sendable {
    public let config: LoRAConfig
    public let parameters: ParameterSet

    init(config: LoRAConfig, model: GPTNeoXConfig) {
        self.config = config
        var specs = [(name: String, shape: [Int])]()
        for layer in 0..<model.numLayers {
            for site in LinearSite.all(model) where config.targets.contains(site.shortName) {
                let base = "gpt_neox.layers.\(layer).\(site.path)"
                specs.append((base + ".lora_A.weight", [config.rank, site.inFeatures]))
                specs.append((base + ".lora_B.weight", [site.outFeatures, config.rank]))
            }
        }
        parameters = ParameterSet(specs)
        parameters.setTrainable(true)
    }

    /// A ~ kaiming-uniform-like N(0, 1/in) init (seeded), B = 0.
    func initialize(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for e in parameters.entries where e.name.hasSuffix("lora_A.weight") {
            let std = 1 / Float(e.shape[1]).squareRoot()
            let p = parameters.values.pointer + e.offset
            for i in 0..<e.count { p[i] = rng.nextGaussian() * std }
        }
    }
}

/// The four linear layers of a GPT-NeoX block, by their Hugging Face path inside `layers.N`.
struct LinearSite {
    let path: String
    let inFeatures: Int
    let outFeatures: Int
    var shortName: String { String(path.split(separator: ".").last!) }

    static func all(_ c: GPTNeoXConfig) -> [LinearSite] {
        [LinearSite(path: "attention.query_key_value", inFeatures: c.hiddenSize, outFeatures: 3 * c.hiddenSize),
         LinearSite(path: "attention.dense", inFeatures: c.hiddenSize, outFeatures: c.hiddenSize),
         LinearSite(path: "mlp.dense_h_to_4h", inFeatures: c.hiddenSize, outFeatures: c.intermediateSize),
         LinearSite(path: "mlp.dense_4h_to_h", inFeatures: c.intermediateSize, outFeatures: c.hiddenSize)]
    }
}
