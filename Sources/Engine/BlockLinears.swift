import CBLAS

/// One linear layer of a transformer block, by its Hugging Face path inside the block (`self_attn.q_proj`).
public struct LinearSite: Sendable, Equatable {
    public let path: String
    public let inFeatures: Int
    public let outFeatures: Int
    public let hasBias: Bool
    /// The name LoRA targets use: the path's last component.
    public let shortName: String

    public init(path: String, inFeatures: Int, outFeatures: Int, hasBias: Bool) {
        self.path = path
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.hasBias = hasBias
        shortName = String(path.split(separator: ".").last!)
    }
}

/// The linear layers of every block of a model with their optional LoRA adapters: the one forward/backward
/// path every architecture uses. Names and adapter slots are computed once, not inside a step.
final class BlockLinears {
    let sites: [LinearSite]
    let layerPrefixes: [String]
    private let weightNames: [[String]], biasNames: [[String?]], loraANames: [[String]], loraBNames: [[String]]
    private(set) var adapters: LoRAAdapters?
    /// For each site, its index among the adapted sites (nil: not adapted).
    private var slots: [Int?]
    /// x·Aᵀ of every adapted site, kept from forward for backward: [layer][slot], each [tokens, rank].
    private var loraInputs: [[FloatBuffer]] = []
    private var dLoraInput = FloatBuffer(count: 0)
    private var tokenCapacity = 0

    init(layerPrefixes: [String], sites: [LinearSite]) {
        self.sites = sites
        self.layerPrefixes = layerPrefixes
        weightNames = layerPrefixes.map { p in sites.map { p + $0.path + ".weight" } }
        biasNames = layerPrefixes.map { p in sites.map { $0.hasBias ? p + $0.path + ".bias" : nil } }
        loraANames = layerPrefixes.map { p in sites.map { p + $0.path + ".lora_A.weight" } }
        loraBNames = layerPrefixes.map { p in sites.map { p + $0.path + ".lora_B.weight" } }
        slots = sites.map { _ in nil }
    }

    /// Parameter names and shapes of every block's linear layers, in block order.
    func parameterSpecs(layer: Int) -> [(name: String, shape: [Int])] {
        var specs = [(name: String, shape: [Int])]()
        for (i, site) in sites.enumerated() {
            specs.append((weightNames[layer][i], [site.outFeatures, site.inFeatures]))
            if let b = biasNames[layer][i] { specs.append((b, [site.outFeatures])) }
        }
        return specs
    }

    func attach(_ adapters: LoRAAdapters) {
        self.adapters = adapters
        var next = 0
        slots = sites.map { adapters.config.targets.contains($0.shortName) ? { defer { next += 1 }; return next }() : nil }
        tokenCapacity = 0
    }

    /// Sizes the LoRA scratch for `tokens` rows (grows only).
    func reserve(tokens: Int) {
        guard let adapters, tokens > tokenCapacity else { return }
        let adapted = slots.compactMap { $0 }.count, r = adapters.config.rank
        loraInputs = layerPrefixes.map { _ in (0..<adapted).map { _ in FloatBuffer(count: tokens * r) } }
        dLoraInput = FloatBuffer(count: tokens * r)
        tokenCapacity = tokens
    }

    /// out (+)= input·Wᵀ + b, plus the adapter's (α/r)·(input·Aᵀ)·Bᵀ when the site is adapted.
    func forward(_ parameters: ParameterSet, out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                 layer: Int, site: Int, rows: Int, accumulate: Bool) {
        let s = sites[site]
        Linear.forward(out: out, input: input, weight: parameters.value(weightNames[layer][site]),
                       bias: biasNames[layer][site].map { parameters.value($0) }, rows: rows,
                       inFeatures: s.inFeatures, outFeatures: s.outFeatures, accumulate: accumulate)
        guard let slot = slots[site], let adapters else { return }
        let r = adapters.config.rank
        let xa = loraInputs[layer][slot].pointer
        let A = adapters.parameters.value(loraANames[layer][site]), B = adapters.parameters.value(loraBNames[layer][site])
        // xa = x·Aᵀ ; out += scale · xa·Bᵀ
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(r), Int32(s.inFeatures),
                    1, input, Int32(s.inFeatures), A, Int32(s.inFeatures), 0, xa, Int32(r))
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(s.outFeatures), Int32(r),
                    adapters.config.scale, xa, Int32(r), B, Int32(r), 1, out, Int32(s.outFeatures))
    }

    /// Accumulates dInput (when non-nil), the base weight's gradients (when trainable) and the adapter's.
    func backward(_ parameters: ParameterSet, dInput: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
                  input: UnsafePointer<Float>, layer: Int, site: Int, rows: Int) {
        let s = sites[site]
        Linear.backward(dInput: dInput, dWeight: parameters.gradient(weightNames[layer][site]),
                        dBias: biasNames[layer][site].flatMap { parameters.gradient($0) }, dOut: dOut, input: input,
                        weight: parameters.value(weightNames[layer][site]), rows: rows, inFeatures: s.inFeatures,
                        outFeatures: s.outFeatures)
        guard let slot = slots[site], let adapters else { return }
        let r = adapters.config.rank, scale = adapters.config.scale
        let xa = loraInputs[layer][slot].pointer, dxa = dLoraInput.pointer
        let a = loraANames[layer][site], b = loraBNames[layer][site]
        let A = adapters.parameters.value(a), B = adapters.parameters.value(b)
        let dA = adapters.parameters.gradient(a)!, dB = adapters.parameters.gradient(b)!
        // dxa = scale·dy·B ; dB += scale·dyᵀ·xa ; dA += dxaᵀ·x ; dx += dxa·A
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(r), Int32(s.outFeatures),
                    scale, dOut, Int32(s.outFeatures), B, Int32(r), 0, dxa, Int32(r))
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(s.outFeatures), Int32(r), Int32(rows),
                    scale, dOut, Int32(s.outFeatures), xa, Int32(r), 1, dB, Int32(r))
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(r), Int32(s.inFeatures), Int32(rows),
                    1, dxa, Int32(r), input, Int32(s.inFeatures), 1, dA, Int32(s.inFeatures))
        if let dInput {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(s.inFeatures), Int32(r),
                        1, dxa, Int32(r), A, Int32(s.inFeatures), 1, dInput, Int32(s.inFeatures))
        }
    }

    /// The block weights with adapters merged (W + (α/r)·B·A), by parameter name; empty without adapters.
    func mergedWeights(_ parameters: ParameterSet) -> [String: [Float]] {
        guard let adapters else { return [:] }
        var merged = [String: [Float]]()
        for (l, prefix) in layerPrefixes.enumerated() {
            for (i, site) in sites.enumerated() where slots[i] != nil {
                let name = weightNames[l][i]
                merged[name] = adapters.merged(weight: parameters.array(name), base: prefix + site.path, site: site)
            }
        }
        return merged
    }
}
