/// A model run one step at a time over a KV cache: `feed` takes the next tokens (the whole prompt at once, then
/// one token per step) and returns their next-token logits. Same semantics as the model's full-sequence
/// `forward` at every position (tested against it). See docs/GENERATE.md.
public protocol IncrementalDecoder: AnyObject {
    var vocabSize: Int { get }
    var cache: KVCache { get }
    /// Runs `ids` at positions cache.count…, stores their keys and values, and returns next-token logits:
    /// [ids.count, vocab] with `allPositions`, otherwise the last position's [vocab].
    func feed(_ ids: [Int], allPositions: Bool) -> [Float]
}

extension IncrementalDecoder {
    public func feed(_ ids: [Int]) -> [Float] { feed(ids, allPositions: false) }
}

public enum InferenceError: Error, CustomStringConvertible, Equatable {
    case unsupportedModel(String)
    case contextFull(capacity: Int, needed: Int)
    case tokenOutOfRange(id: Int, vocab: Int)

    public var description: String {
        switch self {
        case .unsupportedModel(let what): return "generation does not support \(what)"
        case .contextFull(let capacity, let needed):
            return "the prompt and new tokens need \(needed) positions; the model/cache holds \(capacity)"
        case .tokenOutOfRange(let id, let vocab):
            return "token id \(id) is outside the model's vocabulary of \(vocab)"
        }
    }
}

/// Builds the decoder for a loaded model (GPT-NeoX or the Llama family), with a cache of `capacity` positions.
public enum Decoders {
    public static func make(for model: any CausalLanguageModel, capacity: Int) throws -> any IncrementalDecoder {
        let limit = model.config.maxPositions
        guard capacity <= limit else { throw InferenceError.contextFull(capacity: limit, needed: capacity) }
        if let llama = model as? Llama { return LlamaDecoder(llama, capacity: capacity) }
        if let neox = model as? GPTNeoX { return GPTNeoXDecoder(neox, capacity: capacity) }
        throw InferenceError.unsupportedModel("model type \(model.config.modelType)")
    }
}

/// Weight lookup that sees LoRA adapters merged in (W + (α/r)·B·A) when the model has them.
struct DecoderWeights {
    let parameters: ParameterSet
    let merged: [String: FloatBuffer]

    init(_ model: some CausalLanguageModel) {
        parameters = model.parameters
        merged = model.mergedAdapterWeights().mapValues { FloatBuffer($0) }
    }

    func callAsFunction(_ name: String) -> UnsafeMutablePointer<Float> {
        merged[name]?.pointer ?? parameters.value(name)
    }

    func optional(_ name: String) -> UnsafeMutablePointer<Float>? {
        parameters.entry(name) == nil ? nil : self(name)
    }

    /// Checks `ids` fit in `cache`, writes their rows of the embedding `table` into `x` [ids.count, channels] and
    /// returns the positions they are fed at (cache.count…).
    func embed(_ ids: [Int], table: String, into x: UnsafeMutablePointer<Float>, channels: Int,
               cache: KVCache) -> [Int32] {
        precondition(!ids.isEmpty && cache.count + ids.count <= cache.capacity, "KV cache overflow")
        let rows = self(table)
        for (t, id) in ids.enumerated() { (x + t * channels).update(from: rows + id * channels, count: channels) }
        return (0..<ids.count).map { Int32(cache.count + $0) }
    }

    /// out (+)= input · Wᵀ + b for the layer at `path` (`path.weight`, and `path.bias` where the model has one).
    func linear(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ path: String,
                _ rows: Int, _ inF: Int, _ outF: Int, accumulate: Bool = false) {
        Linear.forward(out: out, input: input, weight: self(path + ".weight"), bias: optional(path + ".bias"),
                       rows: rows, inFeatures: inF, outFeatures: outF, accumulate: accumulate)
    }
}

/// Scratch activations for `rows` tokens, grown on demand (the prompt once, then one row per step).
final class Scratch {
    private(set) var rows = 0
    private var sizes: [Int] = []
    private(set) var buffers: [FloatBuffer] = []

    init(perRow: [Int]) { sizes = perRow }

    func reserve(_ n: Int) {
        guard n > rows else { return }
        rows = n
        buffers = sizes.map { FloatBuffer(count: n * $0) }
    }

    subscript(i: Int) -> UnsafeMutablePointer<Float> { buffers[i].pointer }
}
