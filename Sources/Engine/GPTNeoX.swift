import CBLAS

/// GPT-NeoX causal language model with the semantics of Hugging Face `GPTNeoXForCausalLM` (DESIGN §3):
/// embed_in → N × (input_layernorm → fused qkv → partial rotary → causal attention → dense;
/// post_attention_layernorm → dense_h_to_4h → GELU → dense_4h_to_h; parallel or sequential residual)
/// → final_layer_norm → embed_out. Forward and backward are explicit (llm.c style); every intermediate needed
/// by the backward pass lives in a `Workspace` that is reused across steps.
public final class GPTNeoX: @unchecked Sendable {
    public let config: GPTNeoXConfig
    public let parameters: ParameterSet
    public private(set) var adapters: LoRAAdapters?
    let rotary: RotaryTable
    private var workspace = Workspace()
    private let names: [LayerNames]

    /// Parameter names and shapes as in a Hugging Face snapshot.
    public static func parameterSpecs(_ c: GPTNeoXConfig) -> [(name: String, shape: [Int])] {
        var specs: [(name: String, shape: [Int])] = [("gpt_neox.embed_in.weight", [c.vocabSize, c.hiddenSize])]
        for l in 0..<c.numLayers {
            let p = "gpt_neox.layers.\(l)."
            specs.append((p + "input_layernorm.weight", [c.hiddenSize]))
            specs.append((p + "input_layernorm.bias", [c.hiddenSize]))
            specs.append((p + "post_attention_layernorm.weight", [c.hiddenSize]))
            specs.append((p + "post_attention_layernorm.bias", [c.hiddenSize]))
            for site in LinearSite.all(c) {
                specs.append((p + site.path + ".weight", [site.outFeatures, site.inFeatures]))
                specs.append((p + site.path + ".bias", [site.outFeatures]))
            }
        }
        specs.append(("gpt_neox.final_layer_norm.weight", [c.hiddenSize]))
        specs.append(("gpt_neox.final_layer_norm.bias", [c.hiddenSize]))
        specs.append(("embed_out.weight", [c.vocabSize, c.hiddenSize]))
        return specs
    }

    /// A model with zeroed parameters (load or initialise them next).
    public init(config: GPTNeoXConfig) {
        self.config = config
        parameters = ParameterSet(Self.parameterSpecs(config))
        rotary = RotaryTable(headSize: config.headSize, rotaryPct: config.rotaryPct, base: config.rotaryBase,
                             maxPositions: config.maxPositions)
        names = (0..<config.numLayers).map { LayerNames(layer: $0) }
    }

    /// Hugging Face's initialisation: N(0, 0.02) weights, zero biases, LayerNorm weight 1 (seeded).
    public func initializeRandomly(seed: UInt64, std: Float = 0.02) {
        var rng = SeededRandom(seed: seed)
        for e in parameters.entries {
            let p = parameters.values.pointer + e.offset
            if e.name.hasSuffix("layernorm.weight") || e.name.hasSuffix("layer_norm.weight") {
                p.update(repeating: 1, count: e.count)
            } else if e.name.hasSuffix(".bias") {
                p.update(repeating: 0, count: e.count)
            } else {
                for i in 0..<e.count { p[i] = rng.nextGaussian() * std }
            }
        }
    }

    /// Adds LoRA adapters and freezes the base weights (they leave the optimizer: no gradient storage).
    public func attachAdapters(_ lora: LoRAConfig, seed: UInt64) throws {
        try lora.validate()
        let adapters = LoRAAdapters(config: lora, model: config)
        adapters.initialize(seed: seed)
        self.adapters = adapters
        parameters.setTrainable(false)
    }

    /// The parameters the optimizer updates: the adapters when attached, otherwise the whole model.
    public var trainableParameters: ParameterSet { adapters?.parameters ?? parameters }

    // MARK: Forward

    /// Runs the model over `batch` and returns log p(target) at every position (0 where target is −1).
    /// Keeps what `backward` needs; call `backward` before the next `forward` if you want gradients.
    @discardableResult
    public func forward(_ batch: TokenBatch) -> [Float] {
        let c = config, N = batch.tokenCount, C = c.hiddenSize, I = c.intermediateSize
        let H = c.numHeads, D = c.headSize, V = c.vocabSize
        precondition(N > 0, "empty batch")
        precondition(batch.sequences.lengths.max()! <= c.maxPositions,
                     "sequence longer than max_position_embeddings \(c.maxPositions)")
        let ws = workspace
        ws.reserve(config: c, batch: batch, loraRank: adapters?.config.rank ?? 0, loraSites: loraSiteCount)
        batch.ids.withUnsafeBufferPointer { ids in
            Embedding.forward(out: ws.residual[0].pointer, ids: ids.baseAddress!,
                              table: parameters.value("gpt_neox.embed_in.weight"), rows: N, channels: C)
        }
        let eps = Float(c.layerNormEps)
        batch.positions.withUnsafeBufferPointer { positions in
            for l in 0..<c.numLayers {
                let n = names[l], a = ws.layers[l]
                let x = ws.residual[l].pointer, out = ws.residual[l + 1].pointer
                LayerNorm.forward(out: a.ln1.pointer, mean: a.ln1Mean.pointer, rstd: a.ln1Rstd.pointer, input: x,
                                  weight: parameters.value(n.ln1Weight), bias: parameters.value(n.ln1Bias),
                                  rows: N, channels: C, eps: eps)
                linearForward(out: a.qkv.pointer, input: a.ln1.pointer, layer: l, site: 0, rows: N, accumulate: false)
                Rotary.forward(qkv: a.qkv.pointer, positions: positions.baseAddress!, tokens: N, heads: H,
                               headSize: D, table: rotary)
                Attention.forward(out: a.attn.pointer, probs: a.probs.pointer, qkv: a.qkv.pointer,
                                  sequences: batch.sequences, heads: H, headSize: D)
                // out = x + dense(attn) [+ mlp(...) below]
                out.update(from: x, count: N * C)
                linearForward(out: out, input: a.attn.pointer, layer: l, site: 1, rows: N, accumulate: true)
                // Parallel: ln2 reads the block input; sequential: it reads x + attention (saved as `mid`).
                if !c.useParallelResidual { a.mid.pointer.update(from: out, count: N * C) }
                LayerNorm.forward(out: a.ln2.pointer, mean: a.ln2Mean.pointer, rstd: a.ln2Rstd.pointer,
                                  input: c.useParallelResidual ? x : a.mid.pointer,
                                  weight: parameters.value(n.ln2Weight), bias: parameters.value(n.ln2Bias),
                                  rows: N, channels: C, eps: eps)
                linearForward(out: a.fc.pointer, input: a.ln2.pointer, layer: l, site: 2, rows: N, accumulate: false)
                GELU.forward(out: a.gelu.pointer, input: a.fc.pointer, count: N * I)
                linearForward(out: out, input: a.gelu.pointer, layer: l, site: 3, rows: N, accumulate: true)
            }
        }
        let last = ws.residual[c.numLayers].pointer
        LayerNorm.forward(out: ws.lnf.pointer, mean: ws.lnfMean.pointer, rstd: ws.lnfRstd.pointer, input: last,
                          weight: parameters.value("gpt_neox.final_layer_norm.weight"),
                          bias: parameters.value("gpt_neox.final_layer_norm.bias"), rows: N, channels: C, eps: eps)
        Linear.forward(out: ws.logits.pointer, input: ws.lnf.pointer, weight: parameters.value("embed_out.weight"),
                       bias: nil, rows: N, inFeatures: C, outFeatures: V)
        batch.targets.withUnsafeBufferPointer { targets in
            LogProbs.forward(logProbs: ws.logProbs.pointer, lse: ws.lse.pointer, logits: ws.logits.pointer,
                             targets: targets.baseAddress!, rows: N, vocab: V)
        }
        ws.lastBatch = batch
        ws.logitsValid = true
        return Array(UnsafeBufferPointer(start: ws.logProbs.pointer, count: N))
    }

    /// The logits of the last forward pass, [tokens, vocab] (gone once `backward` ran).
    public func lastLogits() -> [Float] {
        precondition(workspace.logitsValid, "logits are consumed by backward; run forward again")
        let n = workspace.lastBatch!.tokenCount * config.vocabSize
        return Array(UnsafeBufferPointer(start: workspace.logits.pointer, count: n))
    }

    // MARK: Backward

    /// Accumulates into the trainable parameters' gradients the gradient of Σ_t dLogProbs[t] · logp_t
    /// for the last forward pass. Any loss built from per-token log-probs (SFT, DPO) reaches the model this way.
    public func backward(dLogProbs: [Float]) {
        guard let batch = workspace.lastBatch, workspace.logitsValid else {
            preconditionFailure("backward needs a forward pass first")
        }
        precondition(dLogProbs.count == batch.tokenCount, "one gradient per token")
        let c = config, N = batch.tokenCount, C = c.hiddenSize, I = c.intermediateSize
        let H = c.numHeads, D = c.headSize, V = c.vocabSize
        let ws = workspace
        let g = { (name: String) in self.parameters.gradient(name) }
        // Logits gradient, in place over the logits.
        batch.targets.withUnsafeBufferPointer { targets in
            dLogProbs.withUnsafeBufferPointer { dlp in
                LogProbs.backward(dLogits: ws.logits.pointer, logits: ws.logits.pointer, lse: ws.lse.pointer,
                                  targets: targets.baseAddress!, dLogProbs: dlp.baseAddress!, rows: N, vocab: V)
            }
        }
        ws.logitsValid = false
        var dres = ws.dResidualA, dnext = ws.dResidualB
        ws.dLnf.zero()
        Linear.backward(dInput: ws.dLnf.pointer, dWeight: g("embed_out.weight"), dBias: nil, dOut: ws.logits.pointer,
                        input: ws.lnf.pointer, weight: parameters.value("embed_out.weight"),
                        rows: N, inFeatures: C, outFeatures: V)
        dres.zero()
        LayerNorm.backward(dInput: dres.pointer, dWeight: g("gpt_neox.final_layer_norm.weight"),
                           dBias: g("gpt_neox.final_layer_norm.bias"), dOut: ws.dLnf.pointer,
                           input: ws.residual[c.numLayers].pointer,
                           weight: parameters.value("gpt_neox.final_layer_norm.weight"),
                           mean: ws.lnfMean.pointer, rstd: ws.lnfRstd.pointer, rows: N, channels: C)
        batch.positions.withUnsafeBufferPointer { positions in
            for l in stride(from: c.numLayers - 1, through: 0, by: -1) {
                let n = names[l], a = ws.layers[l], x = ws.residual[l].pointer
                // dres = ∂L/∂(block output). MLP branch first.
                ws.dGelu.zero()
                linearBackward(dInput: ws.dGelu.pointer, dOut: dres.pointer, input: a.gelu.pointer,
                               layer: l, site: 3, rows: N)
                ws.dFc.zero()
                GELU.backward(dInput: ws.dFc.pointer, input: a.fc.pointer, dOut: ws.dGelu.pointer, count: N * I)
                ws.dLn.zero()
                linearBackward(dInput: ws.dLn.pointer, dOut: ws.dFc.pointer, input: a.ln2.pointer,
                               layer: l, site: 2, rows: N)
                // dAttnOut: gradient reaching the attention branch's output (block output, or the mid point).
                let dAttnOut: FloatBuffer
                dnext.pointer.update(from: dres.pointer, count: N * C)
                if c.useParallelResidual {
                    LayerNorm.backward(dInput: dnext.pointer, dWeight: g(n.ln2Weight), dBias: g(n.ln2Bias),
                                       dOut: ws.dLn.pointer, input: x, weight: parameters.value(n.ln2Weight),
                                       mean: a.ln2Mean.pointer, rstd: a.ln2Rstd.pointer, rows: N, channels: C)
                    dAttnOut = dres
                } else {
                    ws.dMid.pointer.update(from: dres.pointer, count: N * C)
                    LayerNorm.backward(dInput: ws.dMid.pointer, dWeight: g(n.ln2Weight), dBias: g(n.ln2Bias),
                                       dOut: ws.dLn.pointer, input: a.mid.pointer, weight: parameters.value(n.ln2Weight),
                                       mean: a.ln2Mean.pointer, rstd: a.ln2Rstd.pointer, rows: N, channels: C)
                    dnext.pointer.update(from: ws.dMid.pointer, count: N * C)
                    dAttnOut = ws.dMid
                }
                // Attention branch.
                ws.dAttn.zero()
                linearBackward(dInput: ws.dAttn.pointer, dOut: dAttnOut.pointer, input: a.attn.pointer,
                               layer: l, site: 1, rows: N)
                Attention.backward(dqkv: ws.dQkv.pointer, dOut: ws.dAttn.pointer, probs: a.probs.pointer,
                                   qkv: a.qkv.pointer, sequences: batch.sequences, heads: H, headSize: D,
                                   scratch: ws.attentionScratch)
                Rotary.backward(dqkv: ws.dQkv.pointer, positions: positions.baseAddress!, tokens: N, heads: H,
                                headSize: D, table: rotary)
                ws.dLn.zero()
                linearBackward(dInput: ws.dLn.pointer, dOut: ws.dQkv.pointer, input: a.ln1.pointer,
                               layer: l, site: 0, rows: N)
                LayerNorm.backward(dInput: dnext.pointer, dWeight: g(n.ln1Weight), dBias: g(n.ln1Bias),
                                   dOut: ws.dLn.pointer, input: x, weight: parameters.value(n.ln1Weight),
                                   mean: a.ln1Mean.pointer, rstd: a.ln1Rstd.pointer, rows: N, channels: C)
                swap(&dres, &dnext)
            }
        }
        if let dTable = g("gpt_neox.embed_in.weight") {
            batch.ids.withUnsafeBufferPointer { ids in
                Embedding.backward(dTable: dTable, dOut: dres.pointer, ids: ids.baseAddress!, rows: N, channels: C)
            }
        }
    }

    // MARK: Linear layers with optional LoRA

    private var loraSiteCount: Int {
        guard let a = adapters else { return 0 }
        return LinearSite.all(config).filter { a.config.targets.contains($0.shortName) }.count
    }

    private func loraSlot(_ site: Int) -> Int? {
        guard let a = adapters else { return nil }
        let sites = LinearSite.all(config)
        guard a.config.targets.contains(sites[site].shortName) else { return nil }
        return sites[..<site].filter { a.config.targets.contains($0.shortName) }.count
    }

    private func linearForward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, layer: Int,
                               site: Int, rows: Int, accumulate: Bool) {
        let s = LinearSite.all(config)[site], n = names[layer]
        Linear.forward(out: out, input: input, weight: parameters.value(n.weights[site]),
                       bias: parameters.value(n.biases[site]), rows: rows, inFeatures: s.inFeatures,
                       outFeatures: s.outFeatures, accumulate: accumulate)
        if let slot = loraSlot(site), let adapters {
            let r = adapters.config.rank
            let xa = workspace.layers[layer].loraInputs[slot].pointer
            let A = adapters.parameters.value(n.loraA[site]), B = adapters.parameters.value(n.loraB[site])
            // xa = x·Aᵀ ; out += scale · xa·Bᵀ
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(r), Int32(s.inFeatures),
                        1, input, Int32(s.inFeatures), A, Int32(s.inFeatures), 0, xa, Int32(r))
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(s.outFeatures), Int32(r),
                        adapters.config.scale, xa, Int32(r), B, Int32(r), 1, out, Int32(s.outFeatures))
        }
    }

    private func linearBackward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, layer: Int, site: Int, rows: Int) {
        let s = LinearSite.all(config)[site], n = names[layer]
        Linear.backward(dInput: dInput, dWeight: parameters.gradient(n.weights[site]),
                        dBias: parameters.gradient(n.biases[site]), dOut: dOut, input: input,
                        weight: parameters.value(n.weights[site]), rows: rows, inFeatures: s.inFeatures,
                        outFeatures: s.outFeatures)
        if let slot = loraSlot(site), let adapters {
            let r = adapters.config.rank, scale = adapters.config.scale
            let xa = workspace.layers[layer].loraInputs[slot].pointer, dxa = workspace.dLoraInput.pointer
            let A = adapters.parameters.value(n.loraA[site]), B = adapters.parameters.value(n.loraB[site])
            let dA = adapters.parameters.gradient(n.loraA[site])!, dB = adapters.parameters.gradient(n.loraB[site])!
            // dxa = scale·dy·B ; dB += scale·dyᵀ·xa ; dA += dxaᵀ·x ; dx += dxa·A
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(r), Int32(s.outFeatures),
                        scale, dOut, Int32(s.outFeatures), B, Int32(r), 0, dxa, Int32(r))
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(s.outFeatures), Int32(r), Int32(rows),
                        scale, dOut, Int32(s.outFeatures), xa, Int32(r), 1, dB, Int32(r))
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(r), Int32(s.inFeatures), Int32(rows),
                        1, dxa, Int32(r), input, Int32(s.inFeatures), 1, dA, Int32(s.inFeatures))
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(s.inFeatures), Int32(r),
                        1, dxa, Int32(r), A, Int32(s.inFeatures), 1, dInput, Int32(s.inFeatures))
        }
    }
}

/// Names of one block's parameters, built once (no string formatting inside a step).
private struct LayerNames {
    let ln1Weight, ln1Bias, ln2Weight, ln2Bias: String
    let weights, biases, loraA, loraB: [String]

    init(layer: Int) {
        let p = "gpt_neox.layers.\(layer)."
        ln1Weight = p + "input_layernorm.weight"
        ln1Bias = p + "input_layernorm.bias"
        ln2Weight = p + "post_attention_layernorm.weight"
        ln2Bias = p + "post_attention_layernorm.bias"
        let paths = ["attention.query_key_value", "attention.dense", "mlp.dense_h_to_4h", "mlp.dense_4h_to_h"]
        weights = paths.map { p + $0 + ".weight" }
        biases = paths.map { p + $0 + ".bias" }
        loraA = paths.map { p + $0 + ".lora_A.weight" }
        loraB = paths.map { p + $0 + ".lora_B.weight" }
    }
}

/// Activations saved by the forward pass and scratch for the backward pass, sized for the largest batch seen.
private final class Workspace {
    final class Layer {
        let ln1, ln1Mean, ln1Rstd, qkv, probs, attn, mid, ln2, ln2Mean, ln2Rstd, fc, gelu: FloatBuffer
        let loraInputs: [FloatBuffer]
        init(N: Int, c: GPTNeoXConfig, attention: Int, loraRank: Int, loraSites: Int) {
            let C = c.hiddenSize
            ln1 = FloatBuffer(count: N * C); ln1Mean = FloatBuffer(count: N); ln1Rstd = FloatBuffer(count: N)
            qkv = FloatBuffer(count: N * 3 * C)
            probs = FloatBuffer(count: c.numHeads * attention)
            attn = FloatBuffer(count: N * C)
            mid = FloatBuffer(count: c.useParallelResidual ? 0 : N * C)
            ln2 = FloatBuffer(count: N * C); ln2Mean = FloatBuffer(count: N); ln2Rstd = FloatBuffer(count: N)
            fc = FloatBuffer(count: N * c.intermediateSize)
            gelu = FloatBuffer(count: N * c.intermediateSize)
            loraInputs = (0..<loraSites).map { _ in FloatBuffer(count: N * loraRank) }
        }
    }

    var tokenCapacity = 0, attentionCapacity = 0, longestCapacity = 0, loraKey = (0, 0)
    var residual: [FloatBuffer] = []
    var layers: [Layer] = []
    var lnf = FloatBuffer(count: 0), lnfMean = FloatBuffer(count: 0), lnfRstd = FloatBuffer(count: 0)
    var logits = FloatBuffer(count: 0), lse = FloatBuffer(count: 0), logProbs = FloatBuffer(count: 0)
    var dResidualA = FloatBuffer(count: 0), dResidualB = FloatBuffer(count: 0), dMid = FloatBuffer(count: 0)
    var dLn = FloatBuffer(count: 0), dLnf = FloatBuffer(count: 0), dAttn = FloatBuffer(count: 0)
    var dQkv = FloatBuffer(count: 0), dGelu = FloatBuffer(count: 0), dFc = FloatBuffer(count: 0)
    var dLoraInput = FloatBuffer(count: 0), attentionScratch = FloatBuffer(count: 0)
    var lastBatch: TokenBatch?
    var logitsValid = false

    func reserve(config c: GPTNeoXConfig, batch: TokenBatch, loraRank: Int, loraSites: Int) {
        let N = batch.tokenCount, A = batch.sequences.attentionSize, longest = batch.sequences.lengths.max()!
        if N <= tokenCapacity && A <= attentionCapacity && longest <= longestCapacity
            && loraKey == (loraRank, loraSites) && layers.count == c.numLayers { return }
        // Grow to the new maximum; steady-state training never gets here again.
        let n = max(N, tokenCapacity), a = max(A, attentionCapacity), m = max(longest, longestCapacity)
        let C = c.hiddenSize, I = c.intermediateSize
        residual = (0...c.numLayers).map { _ in FloatBuffer(count: n * C) }
        layers = (0..<c.numLayers).map { _ in Layer(N: n, c: c, attention: a, loraRank: loraRank, loraSites: loraSites) }
        lnf = FloatBuffer(count: n * C); lnfMean = FloatBuffer(count: n); lnfRstd = FloatBuffer(count: n)
        logits = FloatBuffer(count: n * c.vocabSize); lse = FloatBuffer(count: n); logProbs = FloatBuffer(count: n)
        dResidualA = FloatBuffer(count: n * C); dResidualB = FloatBuffer(count: n * C)
        dMid = FloatBuffer(count: c.useParallelResidual ? 0 : n * C)
        dLn = FloatBuffer(count: n * C); dLnf = FloatBuffer(count: n * C); dAttn = FloatBuffer(count: n * C)
        dQkv = FloatBuffer(count: n * 3 * C); dGelu = FloatBuffer(count: n * I); dFc = FloatBuffer(count: n * I)
        dLoraInput = FloatBuffer(count: n * max(loraRank, 1))
        attentionScratch = FloatBuffer(count: max(1, EngineThreads.count) * m * m)
        tokenCapacity = n; attentionCapacity = a; longestCapacity = m; loraKey = (loraRank, loraSites)
    }
}
