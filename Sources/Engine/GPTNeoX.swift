import CBLAS

/// GPT-NeoX causal language model with the semantics of Hugging Face `GPTNeoXForCausalLM` (docs/DESIGN.md §3):
/// embed_in → N × (input_layernorm → fused qkv → partial rotary → causal attention → dense;
/// post_attention_layernorm → dense_h_to_4h → GELU → dense_4h_to_h; parallel or sequential residual)
/// → final_layer_norm → embed_out. Forward and backward are explicit (llm.c style); every intermediate needed
/// by the backward pass lives in a `Workspace` that is reused across steps.
public final class GPTNeoX: @unchecked Sendable {
    public let config: GPTNeoXConfig
    public let parameters: ParameterSet
    public var adapters: LoRAAdapters? { linears.adapters }
    private(set) var rotary: RotaryTable
    private var workspace = Workspace()
    private let head: LanguageModelHead
    private let names: [LayerNames]
    private let linears: BlockLinears
    /// What the forward pass keeps for the backward pass (`ActivationMemory.keepAll` unless told otherwise).
    public var activationMemory = ActivationMemory.keepAll {
        didSet { head.chunkTokens = activationMemory.logitChunkTokens }
    }

    /// The block's linear layers in the order the forward pass uses them (site indices below).
    static func sites(_ c: GPTNeoXConfig) -> [LinearSite] {
        [LinearSite(path: "attention.query_key_value", inFeatures: c.hiddenSize, outFeatures: 3 * c.hiddenSize, hasBias: true),
         LinearSite(path: "attention.dense", inFeatures: c.hiddenSize, outFeatures: c.hiddenSize, hasBias: true),
         LinearSite(path: "mlp.dense_h_to_4h", inFeatures: c.hiddenSize, outFeatures: c.intermediateSize, hasBias: true),
         LinearSite(path: "mlp.dense_4h_to_h", inFeatures: c.intermediateSize, outFeatures: c.hiddenSize, hasBias: true)]
    }

    public static let adaptableLayers = ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]
    /// The fused attention input projection, as PEFT's default for GPT-NeoX.
    public static let defaultLoRATargets = ["query_key_value"]

    /// Parameter names and shapes as in a Hugging Face snapshot.
    public static func parameterSpecs(_ c: GPTNeoXConfig) -> [(name: String, shape: [Int])] {
        var specs: [(name: String, shape: [Int])] = [("gpt_neox.embed_in.weight", [c.vocabSize, c.hiddenSize])]
        for l in 0..<c.numLayers {
            let p = "gpt_neox.layers.\(l)."
            specs.append((p + "input_layernorm.weight", [c.hiddenSize]))
            specs.append((p + "input_layernorm.bias", [c.hiddenSize]))
            specs.append((p + "post_attention_layernorm.weight", [c.hiddenSize]))
            specs.append((p + "post_attention_layernorm.bias", [c.hiddenSize]))
            for site in sites(c) {
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
                             maxPositions: min(config.maxPositions, RotaryTable.initialPositions))
        names = (0..<config.numLayers).map { LayerNames(layer: $0) }
        head = LanguageModelHead(channels: config.hiddenSize, vocab: config.vocabSize)
        linears = BlockLinears(layerPrefixes: (0..<config.numLayers).map { "gpt_neox.layers.\($0)." },
                               sites: Self.sites(config))
    }

    /// Hugging Face's initialisation: N(0, 0.02) weights, zero biases, LayerNorm weight 1 (seeded).
    public func initializeRandomly(seed: UInt64, std: Float = 0.02) {
        parameters.initializeLikeHuggingFace(seed: seed, std: std)
    }

    /// Adds LoRA adapters and freezes the base weights (they leave the optimizer: no gradient storage).
    public func attachAdapters(_ lora: LoRAConfig, seed: UInt64) throws {
        try linears.attachAdapters(lora, seed: seed, adaptableLayers: Self.adaptableLayers,
                                   defaultTargets: Self.defaultLoRATargets, architecture: "GPT-NeoX",
                                   freezing: parameters)
    }

    /// The parameters the optimizer updates: the adapters when attached, otherwise the whole model.
    public var trainableParameters: ParameterSet { adapters?.parameters ?? parameters }

    // MARK: Forward

    /// Runs the model over `batch` and returns log p(target) at every position (0 where target is −1).
    /// Keeps what `backward` needs; call `backward` before the next `forward` if you want gradients.
    @discardableResult
    public func forward(_ batch: TokenBatch) -> [Float] {
        let c = config, N = batch.tokenCount, C = c.hiddenSize
        rotary = rotary.covering(batch, maxPositions: c.maxPositions)
        let ws = workspace
        ws.reserve(config: c, batch: batch, keptLayers: activationMemory.recomputeLayers ? 1 : c.numLayers)
        linears.reserve(tokens: N)
        Embedding.forward(out: ws.residual[0].pointer, batch: batch,
                          table: parameters.value("gpt_neox.embed_in.weight"), channels: C)
        batch.positions.withUnsafeBufferPointer { positions in
            for l in 0..<c.numLayers {
                layerForward(l, batch, positions.baseAddress!, output: ws.residual[l + 1].pointer)
            }
        }
        let last = ws.residual[c.numLayers].pointer
        LayerNorm.forward(out: ws.lnf.pointer, mean: ws.lnfMean.pointer, rstd: ws.lnfRstd.pointer, input: last,
                          weight: parameters.value("gpt_neox.final_layer_norm.weight"),
                          bias: parameters.value("gpt_neox.final_layer_norm.bias"), rows: N, channels: C,
                          eps: Float(c.layerNormEps))
        return head.forward(batch, hidden: ws.lnf.pointer, weight: parameters.value("embed_out.weight"))
    }

    /// Layer `l`'s forward pass from its input `residual[l]`, saving what its backward pass reads in the layer's
    /// workspace; writes the layer's output to `output` (nil: a recomputation, which needs only the saved part).
    private func layerForward(_ l: Int, _ batch: TokenBatch, _ positions: UnsafePointer<Int32>,
                              output: UnsafeMutablePointer<Float>?) {
        let c = config, N = batch.tokenCount, C = c.hiddenSize, I = c.intermediateSize
        let H = c.numHeads, D = c.headSize, eps = Float(c.layerNormEps)
        let ws = workspace, n = names[l], a = ws.layer(l), x = ws.residual[l].pointer
        LayerNorm.forward(out: a.ln1.pointer, mean: a.ln1Mean.pointer, rstd: a.ln1Rstd.pointer, input: x,
                          weight: parameters.value(n.ln1Weight), bias: parameters.value(n.ln1Bias),
                          rows: N, channels: C, eps: eps)
        linearForward(out: a.qkv.pointer, input: a.ln1.pointer, layer: l, site: 0, rows: N, accumulate: false)
        Rotary.forward(qkv: a.qkv.pointer, positions: positions, tokens: N, heads: H, headSize: D, table: rotary)
        Attention.forward(out: a.attn.pointer, probs: a.probs.pointer, qkv: a.qkv.pointer,
                          sequences: batch.sequences, heads: H, headSize: D)
        // out = x + dense(attn) [+ mlp(...) below]. A recomputation needs x + dense(attn) only as the
        // sequential residual's `mid`, and computes it there with the same operations.
        if let out = output ?? (c.useParallelResidual ? nil : a.mid.pointer) {
            out.update(from: x, count: N * C)
            linearForward(out: out, input: a.attn.pointer, layer: l, site: 1, rows: N, accumulate: true)
            // Parallel: ln2 reads the block input; sequential: it reads x + attention (saved as `mid`).
            if !c.useParallelResidual && out != a.mid.pointer { a.mid.pointer.update(from: out, count: N * C) }
        }
        LayerNorm.forward(out: a.ln2.pointer, mean: a.ln2Mean.pointer, rstd: a.ln2Rstd.pointer,
                          input: c.useParallelResidual ? x : a.mid.pointer,
                          weight: parameters.value(n.ln2Weight), bias: parameters.value(n.ln2Bias),
                          rows: N, channels: C, eps: eps)
        linearForward(out: a.fc.pointer, input: a.ln2.pointer, layer: l, site: 2, rows: N, accumulate: false)
        GELU.forward(out: a.gelu.pointer, input: a.fc.pointer, count: N * I)
        guard let output else { return }
        linearForward(out: output, input: a.gelu.pointer, layer: l, site: 3, rows: N, accumulate: true)
    }

    /// The logits of the last forward pass, [tokens, vocab] (gone once `backward` ran).
    public func lastLogits() -> [Float] {
        head.lastLogits(hidden: workspace.lnf.pointer, weight: parameters.value("embed_out.weight"))
    }

    // MARK: Backward

    /// Accumulates into the trainable parameters' gradients the gradient of Σ_t dLogProbs[t] · logp_t
    /// for the last forward pass. Any loss built from per-token log-probs (SFT, DPO) reaches the model this way.
    public func backward(dLogProbs: [Float]) {
        let ws = workspace
        let g = { (name: String) in self.parameters.gradient(name) }
        let (batch, dLnf) = head.backward(dLogProbs: dLogProbs, hidden: ws.lnf.pointer,
                                          weight: parameters.value("embed_out.weight"), dWeight: g("embed_out.weight"))
        let c = config, N = batch.tokenCount, C = c.hiddenSize, I = c.intermediateSize
        let H = c.numHeads, D = c.headSize
        var dres = ws.dResidualA, dnext = ws.dResidualB
        dres.zero()
        LayerNorm.backward(dInput: dres.pointer, dWeight: g("gpt_neox.final_layer_norm.weight"),
                           dBias: g("gpt_neox.final_layer_norm.bias"), dOut: dLnf,
                           input: ws.residual[c.numLayers].pointer,
                           weight: parameters.value("gpt_neox.final_layer_norm.weight"),
                           mean: ws.lnfMean.pointer, rstd: ws.lnfRstd.pointer, rows: N, channels: C)
        batch.positions.withUnsafeBufferPointer { positions in
            for l in stride(from: c.numLayers - 1, through: 0, by: -1) {
                // The shared set still holds the last layer's activations from the forward pass.
                if activationMemory.recomputeLayers && l < c.numLayers - 1 {
                    layerForward(l, batch, positions.baseAddress!, output: nil)
                }
                let n = names[l], a = ws.layer(l), x = ws.residual[l].pointer
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
        Embedding.backward(dTable: g("gpt_neox.embed_in.weight"), dOut: dres.pointer, batch: batch, channels: C)
    }

    // MARK: Linear layers (with optional LoRA)

    private func linearForward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, layer: Int,
                               site: Int, rows: Int, accumulate: Bool) {
        linears.forward(parameters, out: out, input: input, layer: layer, site: site, rows: rows, accumulate: accumulate)
    }

    private func linearBackward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, layer: Int, site: Int, rows: Int) {
        linears.backward(parameters, dInput: dInput, dOut: dOut, input: input, layer: layer, site: site, rows: rows)
    }

    /// The block weights with LoRA merged in, by name (empty without adapters).
    public func mergedAdapterWeights() -> [String: [Float]] { linears.mergedWeights(parameters) }
}

/// Names of one block's parameters, built once (no string formatting inside a step).
private struct LayerNames {
    let ln1Weight, ln1Bias, ln2Weight, ln2Bias: String

    init(layer: Int) {
        let p = "gpt_neox.layers.\(layer)."
        ln1Weight = p + "input_layernorm.weight"
        ln1Bias = p + "input_layernorm.bias"
        ln2Weight = p + "post_attention_layernorm.weight"
        ln2Bias = p + "post_attention_layernorm.bias"
    }
}

/// Activations saved by the forward pass and scratch for the backward pass, sized for the largest batch seen.
private final class Workspace {
    final class Layer {
        let ln1, ln1Mean, ln1Rstd, qkv, probs, attn, mid, ln2, ln2Mean, ln2Rstd, fc, gelu: FloatBuffer
        init(N: Int, c: GPTNeoXConfig, attention: Int) {
            let C = c.hiddenSize
            ln1 = FloatBuffer(count: N * C); ln1Mean = FloatBuffer(count: N); ln1Rstd = FloatBuffer(count: N)
            qkv = FloatBuffer(count: N * 3 * C)
            probs = FloatBuffer(count: c.numHeads * attention)
            attn = FloatBuffer(count: N * C)
            mid = FloatBuffer(count: c.useParallelResidual ? 0 : N * C)
            ln2 = FloatBuffer(count: N * C); ln2Mean = FloatBuffer(count: N); ln2Rstd = FloatBuffer(count: N)
            fc = FloatBuffer(count: N * c.intermediateSize)
            gelu = FloatBuffer(count: N * c.intermediateSize)
        }
    }

    var tokenCapacity = 0, attentionCapacity = 0, longestCapacity = 0
    var residual: [FloatBuffer] = []
    var layers: [Layer] = []
    var lnf = FloatBuffer(count: 0), lnfMean = FloatBuffer(count: 0), lnfRstd = FloatBuffer(count: 0)
    var dResidualA = FloatBuffer(count: 0), dResidualB = FloatBuffer(count: 0), dMid = FloatBuffer(count: 0)
    var dLn = FloatBuffer(count: 0), dAttn = FloatBuffer(count: 0)
    var dQkv = FloatBuffer(count: 0), dGelu = FloatBuffer(count: 0), dFc = FloatBuffer(count: 0)
    var attentionScratch = FloatBuffer(count: 0)

    /// The activations of layer `l`: its own, or the one set every layer shares when they are recomputed.
    func layer(_ l: Int) -> Layer { layers.count == 1 ? layers[0] : layers[l] }

    /// Sizes for `batch`, keeping `keptLayers` layers' activations (all, or 1 when they are recomputed).
    func reserve(config c: GPTNeoXConfig, batch: TokenBatch, keptLayers: Int) {
        let N = batch.tokenCount, A = batch.sequences.attentionSize, longest = batch.sequences.lengths.max()!
        if N <= tokenCapacity && A <= attentionCapacity && longest <= longestCapacity
            && layers.count == keptLayers { return }
        // Grow to the new maximum; steady-state training never gets here again.
        let n = max(N, tokenCapacity), a = max(A, attentionCapacity), m = max(longest, longestCapacity)
        let C = c.hiddenSize, I = c.intermediateSize
        residual = (0...c.numLayers).map { _ in FloatBuffer(count: n * C) }
        layers = []  // release the old set before allocating the new one
        layers = (0..<keptLayers).map { _ in Layer(N: n, c: c, attention: a) }
        lnf = FloatBuffer(count: n * C); lnfMean = FloatBuffer(count: n); lnfRstd = FloatBuffer(count: n)
        dResidualA = FloatBuffer(count: n * C); dResidualB = FloatBuffer(count: n * C)
        dMid = FloatBuffer(count: c.useParallelResidual ? 0 : n * C)
        dLn = FloatBuffer(count: n * C); dAttn = FloatBuffer(count: n * C)
        dQkv = FloatBuffer(count: n * 3 * C); dGelu = FloatBuffer(count: n * I); dFc = FloatBuffer(count: n * I)
        attentionScratch = FloatBuffer(count: max(1, EngineThreads.count) * m * m)
        tokenCapacity = n; attentionCapacity = a; longestCapacity = m
    }
}
