import Foundation

/// What training, scoring and saving need from an architecture's config: the sizes every model has.
public protocol ModelConfiguration: Sendable {
    var vocabSize: Int { get }
    var hiddenSize: Int { get }
    var numLayers: Int { get }
    var maxPositions: Int { get }
    /// config.json's `model_type`.
    var modelType: String { get }
    /// Writes config.json as transformers reads it for this architecture.
    func write(to url: URL) throws
}

/// A causal language model the trainer can drive, whatever its architecture (GPT-NeoX, Llama): log-probabilities
/// of target tokens forward, their gradient backward, one flat parameter set with Hugging Face names, optional
/// LoRA adapters. A new architecture is one file that adopts this (see docs/ARCHITECTURE.md, "Engine").
public protocol CausalLanguageModel: AnyObject, Sendable {
    associatedtype Config: ModelConfiguration
    var config: Config { get }
    var parameters: ParameterSet { get }
    var adapters: LoRAAdapters? { get }
    /// The adapters when attached, otherwise every parameter.
    var trainableParameters: ParameterSet { get }
    /// What the forward pass keeps for the backward pass (`--gradient-checkpointing`).
    var activationMemory: ActivationMemory { get set }

    /// A model with zeroed parameters.
    init(config: Config)
    /// Parameter names and shapes as in a Hugging Face snapshot, in storage order.
    static func parameterSpecs(_ config: Config) -> [(name: String, shape: [Int])]
    /// The LoRA target names this architecture has, and the ones used when none are given.
    static var adaptableLayers: [String] { get }
    static var defaultLoRATargets: [String] { get }

    /// log p(target) at every position of `batch` (0 where the target is −1); keeps what `backward` needs.
    @discardableResult func forward(_ batch: TokenBatch) -> [Float]
    /// Accumulates into the trainable gradients the gradient of Σ_t dLogProbs[t] · log p_t of the last forward.
    func backward(dLogProbs: [Float])
    /// The logits of the last forward pass, [tokens, vocab].
    func lastLogits() -> [Float]
    func initializeRandomly(seed: UInt64, std: Float)
    /// Adds LoRA adapters (targets empty: `defaultLoRATargets`) and freezes the base weights.
    func attachAdapters(_ lora: LoRAConfig, seed: UInt64) throws
    /// The adapted weights with W + (α/r)·B·A merged in, by parameter name (empty without adapters).
    func mergedAdapterWeights() -> [String: [Float]]
}

extension CausalLanguageModel {
    /// A model of the same architecture holding a copy of the base weights and no adapters (the frozen DPO
    /// reference, a scorer's reference).
    public func baseCopy() -> Self {
        let copy = Self(config: config)
        copy.parameters.values.pointer.update(from: parameters.values.pointer, count: parameters.count)
        copy.activationMemory = activationMemory
        return copy
    }

    public func initializeRandomly(seed: UInt64) { initializeRandomly(seed: seed, std: 0.02) }
}

extension GPTNeoXConfig: ModelConfiguration {
    public var modelType: String { "gpt_neox" }
}

extension LlamaConfig: ModelConfiguration {}

extension GPTNeoX: CausalLanguageModel {}
extension Llama: CausalLanguageModel {}
