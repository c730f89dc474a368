/// Low-rank adapters on named linear layers (Hu et al. 2021): y = x·Wᵀ + b + (α/r)·(x·Aᵀ)·Bᵀ,
/// A [r, in] random, B [out, r] zero, so training starts from the base model exactly.
/// Names follow PEFT (`…q_proj.lora_A.weight`) so adapters load in Python.
public struct LoRAConfig: Codable, Equatable, Sendable {
    public var rank: Int
    public var alpha: Float
    /// Linear layers to adapt, by their last name component (GPT-NeoX: query_key_value, dense, dense_h_to_4h,
    /// dense_4h_to_h; Llama: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj). Empty: the
    /// architecture's default (`CausalLanguageModel.defaultLoRATargets`), filled in when adapters are attached.
    public var targets: [String]

    public init(rank: Int = 8, alpha: Float = 16, targets: [String] = []) {
        self.rank = rank
        self.alpha = alpha
        self.targets = targets
    }

    public var scale: Float { alpha / Float(rank) }

    /// Every name some architecture can adapt; a model checks its own list when adapters are attached.
    public static let adaptableLayers = GPTNeoX.adaptableLayers + Llama.adaptableLayers

    public func validate() throws {
        if rank <= 0 { throw EngineError.invalidInput(what: "lora rank", message: "expected a positive integer, got \(rank)") }
        if !(alpha > 0) { throw EngineError.invalidInput(what: "lora alpha", message: "expected a positive number, got \(alpha)") }
        try validateTargets(Self.adaptableLayers, architecture: "any supported architecture")
    }

    func validateTargets(_ adaptable: [String], architecture: String) throws {
        for t in targets where !adaptable.contains(t) {
            throw EngineError.invalidInput(what: "lora target '\(t)'",
                                           message: "expected one of \(adaptable.joined(separator: ", ")) (\(architecture))")
        }
    }
}

public final class LoRAAdapters: @unchecked Sendable {
    public let config: LoRAConfig
    public let parameters: ParameterSet

    /// Adapters for the targeted sites of every block; `layerPrefixes[l]` is block l's name prefix
    /// (`model.layers.3.`).
    init(config: LoRAConfig, layerPrefixes: [String], sites: [LinearSite]) {
        self.config = config
        var specs = [(name: String, shape: [Int])]()
        for prefix in layerPrefixes {
            for site in sites where config.targets.contains(site.shortName) {
                let base = prefix + site.path
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

    /// W + (α/r)·B·A for one adapted weight, as a new array (saving a merged model).
    func merged(weight: [Float], base: String, site: LinearSite) -> [Float] {
        var w = weight
        let a = parameters.array(base + ".lora_A.weight"), b = parameters.array(base + ".lora_B.weight")
        let r = config.rank, s = config.scale
        for o in 0..<site.outFeatures {
            for k in 0..<r {
                let bs = b[o * r + k] * s
                if bs == 0 { continue }
                for i in 0..<site.inFeatures { w[o * site.inFeatures + i] += bs * a[k * site.inFeatures + i] }
            }
        }
        return w
    }
}
