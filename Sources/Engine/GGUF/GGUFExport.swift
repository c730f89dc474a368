import Foundation
import GGUF

/// A Llama-family model as a GGUF that llama.cpp runs: the metadata its loader reads (`general.architecture`,
/// `llama.*` or `qwen2.*`) and the tensors under llama.cpp's names, with the rows of Q and K permuted back into
/// the order llama.cpp's rope expects (the inverse of what `GGUFCheckpoint` undoes). Matrices are stored in the
/// chosen type (F32, F16 or Q8_0), norms and biases in F32, as llama.cpp's converter does. Tokenizer metadata is
/// the caller's to add (Text's `GGUFTokenizerMetadata`); docs/GGUF.md, "Export".
public enum GGUFExport {
    /// ggml's `general.file_type` for each type a whole model can be exported in (LLAMA_FTYPE_*).
    public static let fileTypes: [GGMLType: UInt32] = [.f32: 0, .f16: 1, .q8_0: 7]

    /// A writer holding the model's metadata and tensors (LoRA adapters merged). Throws `EngineError` for a model
    /// GGUF cannot hold as it is (GPT-NeoX, Llama 3 rope scaling).
    public static func writer(for model: any CausalLanguageModel, type: GGMLType, name: String) throws -> GGUFWriter {
        guard let llama = model as? Llama else {
            throw EngineError.invalidInput(what: "export gguf", message: "only Llama-family models (llama, mistral, "
                + "qwen2) export to GGUF; this model is \(model.config.modelType)")
        }
        guard let fileType = fileTypes[type] else {
            throw EngineError.invalidInput(what: "export gguf", message: "type \(type.name): expected one of F32, F16, Q8_0")
        }
        let c = llama.config
        if c.llama3Scaling != nil {
            throw EngineError.invalidInput(what: "export gguf", message: "models with llama3 rope_scaling are not "
                + "exported (llama.cpp needs a rope_freqs tensor this exporter does not compute)")
        }
        let architecture = c.modelType == "qwen2" ? "qwen2" : "llama"
        let p = architecture + "."
        var writer = GGUFWriter()
        writer.metadata = [
            ("general.architecture", .string(architecture)),
            ("general.name", .string(name)),
            ("general.file_type", .uint32(fileType)),
            ("general.quantization_version", .uint32(2)),
            (p + "vocab_size", .uint32(UInt32(c.vocabSize))),
            (p + "context_length", .uint32(UInt32(c.maxPositions))),
            (p + "embedding_length", .uint32(UInt32(c.hiddenSize))),
            (p + "block_count", .uint32(UInt32(c.numLayers))),
            (p + "feed_forward_length", .uint32(UInt32(c.intermediateSize))),
            (p + "attention.head_count", .uint32(UInt32(c.numHeads))),
            (p + "attention.head_count_kv", .uint32(UInt32(c.numKVHeads))),
            (p + "attention.key_length", .uint32(UInt32(c.headDim))),
            (p + "attention.value_length", .uint32(UInt32(c.headDim))),
            (p + "rope.dimension_count", .uint32(UInt32(c.headDim))),
            (p + "rope.freq_base", .float32(Float(c.ropeTheta))),
            (p + "attention.layer_norm_rms_epsilon", .float32(Float(c.rmsNormEps))),
        ]
        let merged = model.mergedAdapterWeights()
        let parameters = model.parameters
        func values(_ entry: ParameterSet.Entry) -> [Float] {
            merged[entry.name] ?? Array(UnsafeBufferPointer(start: parameters.values.pointer + entry.offset, count: entry.count))
        }
        let names = Dictionary(uniqueKeysWithValues: GGUFTensorNames.global.map { ($1, $0) })
        let blockNames = Dictionary(uniqueKeysWithValues: GGUFTensorNames.perBlock.map { ($1, $0) })
        for entry in parameters.entries {
            guard let ggufName = ggufName(of: entry.name, global: names, perBlock: blockNames) else {
                throw EngineError.invalidInput(what: "export gguf", message: "parameter '\(entry.name)' has no llama.cpp name")
            }
            let groups = architecture == "llama"
                ? (ggufName.contains(".attn_q.") ? c.numHeads : ggufName.contains(".attn_k.") ? c.numKVHeads : 0) : 0
            // Matrices whose rows split into whole blocks take the chosen type; the rest stay F32 (llama.cpp
            // keeps norms and biases in F32 whatever the model's type).
            let stored: GGMLType = entry.shape.count == 2 && entry.shape[1] % type.layout.blockSize == 0 ? type : .f32
            writer.tensors.append(GGUFWriter.Tensor(name: ggufName, shape: entry.shape, type: stored) {
                let v = values(entry)
                return groups > 0 ? permute(v, rows: entry.shape[0], groups: groups) : v
            })
        }
        return writer
    }

    /// llama.cpp's Q/K row order: within each of `groups` heads, Hugging Face row p · half + i becomes GGUF row
    /// 2i + p (convert_hf_to_gguf.py's `permute`; `GGUFCheckpoint.unpermute` inverts it).
    public static func permute(_ source: [Float], rows: Int, groups: Int) -> [Float] {
        let columns = source.count / rows
        let headRows = rows / groups
        let half = headRows / 2
        var out = [Float](repeating: 0, count: source.count)
        for h in 0..<groups {
            for i in 0..<half {
                for p in 0..<2 {
                    let from = (h * headRows + p * half + i) * columns
                    let to = (h * headRows + 2 * i + p) * columns
                    for k in 0..<columns { out[to + k] = source[from + k] }
                }
            }
        }
        return out
    }

    private static func ggufName(of name: String, global: [String: String], perBlock: [String: String]) -> String? {
        if let g = global[name] { return g }
        let parts = name.split(separator: ".")
        guard parts.count >= 5, parts[0] == "model", parts[1] == "layers", let block = Int(parts[2]) else { return nil }
        let module = parts[3..<(parts.count - 1)].joined(separator: ".")
        return perBlock[module].map { "blk.\(block).\($0).\(parts.last!)" }
    }
}
