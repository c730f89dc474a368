import CBLAS

/// Llama-family causal language model with the semantics of Hugging Face `LlamaForCausalLM` (also Qwen2 and
/// Mistral, which differ only in config): embed_tokens → N × (input_layernorm (RMS) → q/k/v projections →
/// rotary over the whole head → causal grouped-query attention → o_proj, residual; post_attention_layernorm (RMS)
/// → SwiGLU MLP (down(silu(gate) ⊙ up)), residual) → norm → lm_head (or the embedding, tied).
/// Explicit forward and backward passes on the shared kernels; activations live in a reused `Workspace`.
public final class Llama: @unchecked Sendable {
    public let config: LlamaConfig
    public let parameters: ParameterSet
    public var adapters: LoRAAdapters? { linears.adapters }
    private(set) var rotary: RotaryTable
    private let workspace = Workspace()
    private let head: LanguageModelHead
    private let names: [LayerNames]
    private let linears: BlockLinears
    private let outputName: String
    /// What the forward pass keeps for the backward pass (`ActivationMemory.keepAll` unless told otherwise).
    public var activationMemory = ActivationMemory.keepAll {
        didSet { head.chunkTokens = activationMemory.logitChunkTokens }
    }

    /// Site indices into `sites`, in forward order.
    private enum Site { static let q = 0, k = 1, v = 2, o = 3, gate = 4, up = 5, down = 6 }

    static func sites(_ c: LlamaConfig) -> [LinearSite] {
        let C = c.hiddenSize, q = c.numHeads * c.headDim, kv = c.numKVHeads * c.headDim, I = c.intermediateSize
        return [LinearSite(path: "self_attn.q_proj", inFeatures: C, outFeatures: q, hasBias: c.qkvBias),
                LinearSite(path: "self_attn.k_proj", inFeatures: C, outFeatures: kv, hasBias: c.qkvBias),
                LinearSite(path: "self_attn.v_proj", inFeatures: C, outFeatures: kv, hasBias: c.qkvBias),
                LinearSite(path: "self_attn.o_proj", inFeatures: q, outFeatures: C, hasBias: c.outputBias),
                LinearSite(path: "mlp.gate_proj", inFeatures: C, outFeatures: I, hasBias: false),
                LinearSite(path: "mlp.up_proj", inFeatures: C, outFeatures: I, hasBias: false),
                LinearSite(path: "mlp.down_proj", inFeatures: I, outFeatures: C, hasBias: false)]
    }

    public static let adaptableLayers = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    /// All seven projections: on small models (SmolLM2) adapting only q, v learns markedly less per step, and the
    /// QLoRA paper's finding is that adapting every linear layer is what matches full fine-tuning.
    public static let defaultLoRATargets = adaptableLayers

    static func layerPrefix(_ l: Int) -> String { "model.layers.\(l)." }

    /// Parameter names and shapes as in a Hugging Face snapshot (no `lm_head.weight` when tied).
    public static func parameterSpecs(_ c: LlamaConfig) -> [(name: String, shape: [Int])] {
        let linears = BlockLinears(layerPrefixes: (0..<c.numLayers).map(layerPrefix), sites: sites(c))
        var specs: [(name: String, shape: [Int])] = [("model.embed_tokens.weight", [c.vocabSize, c.hiddenSize])]
        for l in 0..<c.numLayers {
            specs.append((layerPrefix(l) + "input_layernorm.weight", [c.hiddenSize]))
            specs += linears.parameterSpecs(layer: l)
            specs.append((layerPrefix(l) + "post_attention_layernorm.weight", [c.hiddenSize]))
        }
        specs.append(("model.norm.weight", [c.hiddenSize]))
        if !c.tieWordEmbeddings { specs.append(("lm_head.weight", [c.vocabSize, c.hiddenSize])) }
        return specs
    }

    /// A model with zeroed parameters (load or initialise them next).
    public init(config: LlamaConfig) {
        self.config = config
        parameters = ParameterSet(Self.parameterSpecs(config))
        rotary = RotaryTable(headSize: config.headDim, rotaryPct: 1, base: config.ropeTheta,
                             maxPositions: min(config.maxPositions, RotaryTable.initialPositions), llama3: config.llama3Scaling)
        names = (0..<config.numLayers).map { LayerNames(layer: $0) }
        linears = BlockLinears(layerPrefixes: (0..<config.numLayers).map(Self.layerPrefix), sites: Self.sites(config))
        outputName = config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight"
        head = LanguageModelHead(channels: config.hiddenSize, vocab: config.vocabSize)
    }

    /// Hugging Face's initialisation: N(0, std) weights, zero biases, RMSNorm weight 1 (seeded).
    public func initializeRandomly(seed: UInt64, std: Float = 0.02) {
        parameters.initializeLikeHuggingFace(seed: seed, std: std)
    }

    /// Adds LoRA adapters and freezes the base weights (they leave the optimizer: no gradient storage).
    public func attachAdapters(_ lora: LoRAConfig, seed: UInt64) throws {
        try linears.attachAdapters(lora, seed: seed, adaptableLayers: Self.adaptableLayers,
                                   defaultTargets: Self.defaultLoRATargets, architecture: "Llama",
                                   freezing: parameters)
    }

    /// The parameters the optimizer updates: the adapters when attached, otherwise the whole model.
    public var trainableParameters: ParameterSet { adapters?.parameters ?? parameters }

    /// The block weights with LoRA merged in, by name (empty without adapters).
    public func mergedAdapterWeights() -> [String: [Float]] { linears.mergedWeights(parameters) }

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
                          table: parameters.value("model.embed_tokens.weight"), channels: C)
        batch.positions.withUnsafeBufferPointer { positions in
            for l in 0..<c.numLayers {
                layerForward(l, batch, positions.baseAddress!, output: ws.residual[l + 1].pointer)
            }
        }
        RMSNorm.forward(out: ws.lnf.pointer, rstd: ws.lnfRstd.pointer, input: ws.residual[c.numLayers].pointer,
                        weight: parameters.value("model.norm.weight"), rows: N, channels: C, eps: Float(c.rmsNormEps))
        return head.forward(batch, hidden: ws.lnf.pointer, weight: parameters.value(outputName))
    }

    /// Layer `l`'s forward pass from its input `residual[l]`, saving what its backward pass reads in the layer's
    /// workspace; writes the layer's output to `output` (nil: a recomputation, which needs only the saved part).
    private func layerForward(_ l: Int, _ batch: TokenBatch, _ positions: UnsafePointer<Int32>,
                              output: UnsafeMutablePointer<Float>?) {
        let c = config, N = batch.tokenCount, C = c.hiddenSize, I = c.intermediateSize
        let H = c.numHeads, KV = c.numKVHeads, D = c.headDim, eps = Float(c.rmsNormEps)
        let ws = workspace, n = names[l], a = ws.layer(l), x = ws.residual[l].pointer
        RMSNorm.forward(out: a.ln1.pointer, rstd: a.rstd1.pointer, input: x, weight: parameters.value(n.ln1),
                        rows: N, channels: C, eps: eps)
        linear(a.q.pointer, a.ln1.pointer, l, Site.q, N)
        linear(a.k.pointer, a.ln1.pointer, l, Site.k, N)
        linear(a.v.pointer, a.ln1.pointer, l, Site.v, N)
        let q = HeadView(contiguous: a.q.pointer, heads: H, headSize: D)
        let k = HeadView(contiguous: a.k.pointer, heads: KV, headSize: D)
        let v = HeadView(contiguous: a.v.pointer, heads: KV, headSize: D)
        Rotary.apply(q, H, positions, N, rotary, inverse: false)
        Rotary.apply(k, KV, positions, N, rotary, inverse: false)
        Attention.forward(out: a.attn.pointer, probs: a.probs.pointer, q: q, k: k, v: v,
                          sequences: batch.sequences, heads: H, kvHeads: KV, headSize: D)
        // mid = x + o_proj(attn): the MLP's input and the RMSNorm backward's.
        a.mid.pointer.update(from: x, count: N * C)
        linear(a.mid.pointer, a.attn.pointer, l, Site.o, N, accumulate: true)
        RMSNorm.forward(out: a.ln2.pointer, rstd: a.rstd2.pointer, input: a.mid.pointer,
                        weight: parameters.value(n.ln2), rows: N, channels: C, eps: eps)
        linear(a.gate.pointer, a.ln2.pointer, l, Site.gate, N)
        linear(a.up.pointer, a.ln2.pointer, l, Site.up, N)
        SwiGLU.forward(out: a.act.pointer, gate: a.gate.pointer, up: a.up.pointer, count: N * I)
        guard let output else { return }
        output.update(from: a.mid.pointer, count: N * C)
        linear(output, a.act.pointer, l, Site.down, N, accumulate: true)
    }

    /// The logits of the last forward pass, [tokens, vocab] (gone once `backward` ran).
    public func lastLogits() -> [Float] {
        head.lastLogits(hidden: workspace.lnf.pointer, weight: parameters.value(outputName))
    }

    // MARK: Backward

    /// Accumulates into the trainable parameters' gradients the gradient of Σ_t dLogProbs[t] · logp_t
    /// for the last forward pass.
    public func backward(dLogProbs: [Float]) {
        let ws = workspace
        let g = { (name: String) in self.parameters.gradient(name) }
        let (batch, dLnf) = head.backward(dLogProbs: dLogProbs, hidden: ws.lnf.pointer,
                                          weight: parameters.value(outputName), dWeight: g(outputName))
        let c = config, N = batch.tokenCount, C = c.hiddenSize, I = c.intermediateSize
        let H = c.numHeads, KV = c.numKVHeads, D = c.headDim
        var dres = ws.dResidualA, dnext = ws.dResidualB
        dres.zero()
        RMSNorm.backward(dInput: dres.pointer, dWeight: g("model.norm.weight"), dOut: dLnf,
                         input: ws.residual[c.numLayers].pointer, weight: parameters.value("model.norm.weight"),
                         rstd: ws.lnfRstd.pointer, rows: N, channels: C)
        batch.positions.withUnsafeBufferPointer { positions in
            for l in stride(from: c.numLayers - 1, through: 0, by: -1) {
                // The shared set still holds the last layer's activations from the forward pass.
                if activationMemory.recomputeLayers && l < c.numLayers - 1 {
                    layerForward(l, batch, positions.baseAddress!, output: nil)
                }
                let n = names[l], a = ws.layer(l), x = ws.residual[l].pointer
                // dres = ∂L/∂(block output) = ∂L/∂mid through the residual, plus the MLP branch below.
                ws.dAct.zero()
                linearBack(ws.dAct.pointer, dres.pointer, a.act.pointer, l, Site.down, N)
                // dUp overwrites dAct in place (SwiGLU.backward reads each element first).
                SwiGLU.backward(dGate: ws.dGate.pointer, dUp: ws.dAct.pointer, dOut: ws.dAct.pointer,
                                gate: a.gate.pointer, up: a.up.pointer, count: N * I)
                ws.dLn.zero()
                linearBack(ws.dLn.pointer, ws.dGate.pointer, a.ln2.pointer, l, Site.gate, N)
                linearBack(ws.dLn.pointer, ws.dAct.pointer, a.ln2.pointer, l, Site.up, N)
                ws.dMid.pointer.update(from: dres.pointer, count: N * C)
                RMSNorm.backward(dInput: ws.dMid.pointer, dWeight: g(n.ln2), dOut: ws.dLn.pointer, input: a.mid.pointer,
                                 weight: parameters.value(n.ln2), rstd: a.rstd2.pointer, rows: N, channels: C)
                // Attention branch.
                ws.dAttn.zero()
                linearBack(ws.dAttn.pointer, ws.dMid.pointer, a.attn.pointer, l, Site.o, N)
                let dq = HeadView(contiguous: ws.dQ.pointer, heads: H, headSize: D)
                let dk = HeadView(contiguous: ws.dK.pointer, heads: KV, headSize: D)
                let dv = HeadView(contiguous: ws.dV.pointer, heads: KV, headSize: D)
                Attention.backward(dq: dq, dk: dk, dv: dv, dOut: ws.dAttn.pointer, probs: a.probs.pointer,
                                   q: HeadView(contiguous: a.q.pointer, heads: H, headSize: D),
                                   k: HeadView(contiguous: a.k.pointer, heads: KV, headSize: D),
                                   v: HeadView(contiguous: a.v.pointer, heads: KV, headSize: D),
                                   sequences: batch.sequences, heads: H, kvHeads: KV, headSize: D,
                                   scratch: ws.attentionScratch)
                Rotary.apply(dq, H, positions.baseAddress!, N, rotary, inverse: true)
                Rotary.apply(dk, KV, positions.baseAddress!, N, rotary, inverse: true)
                ws.dLn.zero()
                linearBack(ws.dLn.pointer, ws.dQ.pointer, a.ln1.pointer, l, Site.q, N)
                linearBack(ws.dLn.pointer, ws.dK.pointer, a.ln1.pointer, l, Site.k, N)
                linearBack(ws.dLn.pointer, ws.dV.pointer, a.ln1.pointer, l, Site.v, N)
                dnext.pointer.update(from: ws.dMid.pointer, count: N * C)
                RMSNorm.backward(dInput: dnext.pointer, dWeight: g(n.ln1), dOut: ws.dLn.pointer, input: x,
                                 weight: parameters.value(n.ln1), rstd: a.rstd1.pointer, rows: N, channels: C)
                swap(&dres, &dnext)
            }
        }
        Embedding.backward(dTable: g("model.embed_tokens.weight"), dOut: dres.pointer, batch: batch, channels: C)
    }

    // MARK: Linear layers (with optional LoRA)

    private func linear(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ layer: Int, _ site: Int,
                        _ rows: Int, accumulate: Bool = false) {
        linears.forward(parameters, out: out, input: input, layer: layer, site: site, rows: rows, accumulate: accumulate)
    }

    private func linearBack(_ dInput: UnsafeMutablePointer<Float>, _ dOut: UnsafePointer<Float>,
                            _ input: UnsafePointer<Float>, _ layer: Int, _ site: Int, _ rows: Int) {
        linears.backward(parameters, dInput: dInput, dOut: dOut, input: input, layer: layer, site: site, rows: rows)
    }
}

/// Names of one block's norm weights, built once (no string formatting inside a step).
private struct LayerNames {
    let ln1, ln2: String

    init(layer: Int) {
        ln1 = Llama.layerPrefix(layer) + "input_layernorm.weight"
        ln2 = Llama.layerPrefix(layer) + "post_attention_layernorm.weight"
    }
}

/// Activations saved by the forward pass and scratch for the backward pass, sized for the largest batch seen.
private final class Workspace {
    final class Layer {
        let ln1, rstd1, q, k, v, probs, attn, mid, ln2, rstd2, gate, up, act: FloatBuffer
        init(N: Int, c: LlamaConfig, attention: Int) {
            let C = c.hiddenSize, Q = c.numHeads * c.headDim, KV = c.numKVHeads * c.headDim, I = c.intermediateSize
            ln1 = FloatBuffer(count: N * C); rstd1 = FloatBuffer(count: N)
            q = FloatBuffer(count: N * Q); k = FloatBuffer(count: N * KV); v = FloatBuffer(count: N * KV)
            probs = FloatBuffer(count: c.numHeads * attention)
            attn = FloatBuffer(count: N * Q)
            mid = FloatBuffer(count: N * C)
            ln2 = FloatBuffer(count: N * C); rstd2 = FloatBuffer(count: N)
            gate = FloatBuffer(count: N * I); up = FloatBuffer(count: N * I); act = FloatBuffer(count: N * I)
        }
    }

    var tokenCapacity = 0, attentionCapacity = 0, longestCapacity = 0
    var residual: [FloatBuffer] = []
    var layers: [Layer] = []
    var lnf = FloatBuffer(count: 0), lnfRstd = FloatBuffer(count: 0)
    var dResidualA = FloatBuffer(count: 0), dResidualB = FloatBuffer(count: 0), dMid = FloatBuffer(count: 0)
    var dLn = FloatBuffer(count: 0), dAttn = FloatBuffer(count: 0)
    var dQ = FloatBuffer(count: 0), dK = FloatBuffer(count: 0), dV = FloatBuffer(count: 0)
    var dAct = FloatBuffer(count: 0), dGate = FloatBuffer(count: 0)
    var attentionScratch = FloatBuffer(count: 0)

    /// The activations of layer `l`: its own, or the one set every layer shares when they are recomputed.
    func layer(_ l: Int) -> Layer { layers.count == 1 ? layers[0] : layers[l] }

    /// Sizes for `batch`, keeping `keptLayers` layers' activations (all, or 1 when they are recomputed).
    func reserve(config c: LlamaConfig, batch: TokenBatch, keptLayers: Int) {
        let N = batch.tokenCount, A = batch.sequences.attentionSize, longest = batch.sequences.lengths.max()!
        if N <= tokenCapacity && A <= attentionCapacity && longest <= longestCapacity && layers.count == keptLayers {
            return
        }
        // Grow to the new maximum; steady-state training never gets here again.
        let n = max(N, tokenCapacity), a = max(A, attentionCapacity), m = max(longest, longestCapacity)
        let C = c.hiddenSize, Q = c.numHeads * c.headDim, KV = c.numKVHeads * c.headDim, I = c.intermediateSize
        residual = (0...c.numLayers).map { _ in FloatBuffer(count: n * C) }
        layers = []  // release the old set before allocating the new one
        layers = (0..<keptLayers).map { _ in Layer(N: n, c: c, attention: a) }
        lnf = FloatBuffer(count: n * C); lnfRstd = FloatBuffer(count: n)
        dResidualA = FloatBuffer(count: n * C); dResidualB = FloatBuffer(count: n * C); dMid = FloatBuffer(count: n * C)
        dLn = FloatBuffer(count: n * C); dAttn = FloatBuffer(count: n * Q)
        dQ = FloatBuffer(count: n * Q); dK = FloatBuffer(count: n * KV); dV = FloatBuffer(count: n * KV)
        dAct = FloatBuffer(count: n * I); dGate = FloatBuffer(count: n * I)
        attentionScratch = FloatBuffer(count: max(1, EngineThreads.count) * m * m)
        tokenCapacity = n; attentionCapacity = a; longestCapacity = m
    }
}
