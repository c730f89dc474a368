import Foundation
import JSON

/// A Llama-family architecture (Llama 2/3, SmolLM2, TinyLlama; Qwen2 and Mistral, which share it), read from and
/// written to a Hugging Face `config.json` with its key names. Optional keys take transformers' defaults.
public struct LlamaConfig: Equatable, Sendable {
    /// `llama`, `qwen2` or `mistral`: written back so the saved directory loads as the same class.
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    /// Key/value heads (grouped-query attention); divides `numHeads`.
    public var numKVHeads: Int
    public var headDim: Int
    public var intermediateSize: Int
    public var ropeTheta: Double
    public var llama3Scaling: Llama3RopeScaling?
    public var maxPositions: Int
    public var rmsNormEps: Double
    public var tieWordEmbeddings: Bool
    /// Biases on q_proj, k_proj, v_proj (Llama `attention_bias`, always on in Qwen2).
    public var qkvBias: Bool
    /// Bias on o_proj (Llama `attention_bias`; never in Qwen2).
    public var outputBias: Bool
    public var bosTokenId: Int
    public var eosTokenId: Int

    public static let supportedModelTypes = ["llama", "qwen2", "mistral"]

    public init(modelType: String = "llama", vocabSize: Int, hiddenSize: Int, numLayers: Int, numHeads: Int,
                numKVHeads: Int? = nil, headDim: Int? = nil, intermediateSize: Int, ropeTheta: Double = 10_000,
                llama3Scaling: Llama3RopeScaling? = nil, maxPositions: Int = 2048, rmsNormEps: Double = 1e-6,
                tieWordEmbeddings: Bool = false, qkvBias: Bool = false, outputBias: Bool = false,
                bosTokenId: Int = 1, eosTokenId: Int = 2) {
        self.modelType = modelType
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.numKVHeads = numKVHeads ?? numHeads
        self.headDim = headDim ?? (numHeads > 0 ? hiddenSize / numHeads : 0)
        self.intermediateSize = intermediateSize
        self.ropeTheta = ropeTheta
        self.llama3Scaling = llama3Scaling
        self.maxPositions = maxPositions
        self.rmsNormEps = rmsNormEps
        self.tieWordEmbeddings = tieWordEmbeddings
        self.qkvBias = qkvBias
        self.outputBias = outputBias
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
    }

    /// Checks the sizes fit together; errors name the field.
    public func validate(source: String = "config") throws {
        func bad(_ field: String, _ expected: String, _ got: Any) -> EngineError {
            EngineError.invalidConfig(file: source, field: field, expected: expected, got: "\(got)")
        }
        if !Self.supportedModelTypes.contains(modelType) {
            throw bad("model_type", "one of \(Self.supportedModelTypes.joined(separator: ", "))", "\"\(modelType)\"")
        }
        if vocabSize <= 0 { throw bad("vocab_size", "a positive integer", vocabSize) }
        if hiddenSize <= 0 { throw bad("hidden_size", "a positive integer", hiddenSize) }
        if numLayers <= 0 { throw bad("num_hidden_layers", "a positive integer", numLayers) }
        if numHeads <= 0 { throw bad("num_attention_heads", "a positive integer", numHeads) }
        if numKVHeads <= 0 || numHeads % numKVHeads != 0 {
            throw bad("num_key_value_heads", "a positive divisor of num_attention_heads \(numHeads)", numKVHeads)
        }
        if headDim <= 0 || headDim % 2 != 0 { throw bad("head_dim", "a positive even integer", headDim) }
        if intermediateSize <= 0 { throw bad("intermediate_size", "a positive integer", intermediateSize) }
        if !(ropeTheta > 0) { throw bad("rope_theta", "a positive number", ropeTheta) }
        if maxPositions <= 0 { throw bad("max_position_embeddings", "a positive integer", maxPositions) }
        if !(rmsNormEps > 0) { throw bad("rms_norm_eps", "a positive number", rmsNormEps) }
        if modelType == "llama" && qkvBias != outputBias {
            throw bad("attention_bias", "the same for q/k/v and o_proj in a llama model", "q/k/v \(qkvBias), o \(outputBias)")
        }
        if modelType == "qwen2" && (!qkvBias || outputBias) {
            throw bad("model_type", "llama for these biases (qwen2 has q/k/v biases and no o_proj bias)", "\"qwen2\"")
        }
        if modelType == "mistral" && (qkvBias || outputBias) {
            throw bad("model_type", "llama for attention biases (mistral has none)", "\"mistral\"")
        }
        if let s = llama3Scaling {
            if !(s.factor > 0) { throw bad("rope_scaling.factor", "a positive number", s.factor) }
            if !(s.lowFreqFactor > 0 && s.highFreqFactor > s.lowFreqFactor) {
                throw bad("rope_scaling.high_freq_factor", "a number above low_freq_factor \(s.lowFreqFactor)", s.highFreqFactor)
            }
            if s.originalMaxPositions <= 0 {
                throw bad("rope_scaling.original_max_position_embeddings", "a positive integer", s.originalMaxPositions)
            }
        }
    }
}

extension LlamaConfig {
    public init(contentsOf url: URL) throws {
        try self.init(fields: ConfigFields.read(url))
    }

    public init(json: JSONObject, source: String) throws {
        try self.init(fields: ConfigFields(json: json, source: source))
    }

    init(fields f: ConfigFields) throws {
        let type = try f.string("model_type") ?? "llama"
        if !Self.supportedModelTypes.contains(type) {
            throw f.bad("model_type", "one of \(Self.supportedModelTypes.joined(separator: ", "))", "\"\(type)\"")
        }
        if let act = try f.string("hidden_act"), act != "silu" { throw f.bad("hidden_act", "\"silu\"", "\"\(act)\"") }
        if try f.bool("mlp_bias", default: false) { throw f.bad("mlp_bias", "false (MLP biases are not supported)", "true") }
        let tp = try f.int("pretraining_tp", default: 1)
        if tp != 1 { throw f.bad("pretraining_tp", "1", "\(tp)") }
        // transformers 5 writes `rope_parameters` (with rope_theta inside); older versions `rope_scaling` + `rope_theta`.
        let ropeKey = try f.object("rope_parameters") != nil ? "rope_parameters" : "rope_scaling"
        let rope = try f.object(ropeKey)
        let ropeType = try f.string("rope_type", in: rope) ?? f.string("type", in: rope) ?? "default"
        var llama3: Llama3RopeScaling?
        switch ropeType {
        case "default": break
        case "llama3":
            func number(_ key: String) throws -> Double {
                guard let v = try f.double(key, in: rope, field: "\(ropeKey).\(key)") else {
                    throw f.bad("\(ropeKey).\(key)", "a number", "nothing (missing)")
                }
                return v
            }
            llama3 = Llama3RopeScaling(factor: try number("factor"), lowFreqFactor: try number("low_freq_factor"),
                                       highFreqFactor: try number("high_freq_factor"),
                                       originalMaxPositions: Int(exactly: try number("original_max_position_embeddings")) ?? -1)
        default:
            throw f.bad("\(ropeKey).rope_type", "\"default\" or \"llama3\"", "\"\(ropeType)\"")
        }
        let theta = try f.double("rope_theta") ?? f.double("rope_theta", in: rope, field: "\(ropeKey).rope_theta") ?? 10_000
        let heads = try f.int("num_attention_heads"), hidden = try f.int("hidden_size")
        var maxPositions = try f.int("max_position_embeddings", default: 2048)
        // Sliding-window attention equals full attention on sequences no longer than the window: cap the length.
        let slidingApplies = try type == "mistral" || f.bool("use_sliding_window", default: false)
        if slidingApplies, let window = try? f.int("sliding_window"), window > 0 { maxPositions = min(maxPositions, window) }
        let attentionBias = try f.bool("attention_bias", default: false)
        self.init(modelType: type, vocabSize: try f.int("vocab_size"), hiddenSize: hidden,
                  numLayers: try f.int("num_hidden_layers"), numHeads: heads,
                  numKVHeads: try f.int("num_key_value_heads", default: heads),
                  headDim: try f.int("head_dim", default: heads > 0 ? hidden / heads : 0),
                  intermediateSize: try f.int("intermediate_size"), ropeTheta: theta, llama3Scaling: llama3,
                  maxPositions: maxPositions, rmsNormEps: try f.double("rms_norm_eps") ?? 1e-6,
                  tieWordEmbeddings: try f.bool("tie_word_embeddings", default: false),
                  qkvBias: type == "qwen2" ? true : attentionBias, outputBias: type == "qwen2" ? false : attentionBias,
                  bosTokenId: try f.tokenID("bos_token_id", default: 1), eosTokenId: try f.tokenID("eos_token_id", default: 2))
        try validate(source: f.source)
    }

    /// The config.json transformers expects for `LlamaForCausalLM` (or Qwen2/Mistral for those types).
    public var json: [String: Any] {
        var rope: [String: Any] = ["rope_type": "default", "rope_theta": ropeTheta]
        if let s = llama3Scaling {
            rope = ["rope_type": "llama3", "rope_theta": ropeTheta, "factor": s.factor, "low_freq_factor": s.lowFreqFactor,
                    "high_freq_factor": s.highFreqFactor, "original_max_position_embeddings": s.originalMaxPositions]
        }
        let architecture = ["llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "mistral": "MistralForCausalLM"]
        var json: [String: Any] = [
            "architectures": [architecture[modelType] ?? "LlamaForCausalLM"], "model_type": modelType,
            "vocab_size": vocabSize, "hidden_size": hiddenSize, "num_hidden_layers": numLayers,
            "num_attention_heads": numHeads, "num_key_value_heads": numKVHeads, "head_dim": headDim,
            "intermediate_size": intermediateSize, "hidden_act": "silu", "rope_theta": ropeTheta,
            "rope_parameters": rope, "max_position_embeddings": maxPositions, "rms_norm_eps": rmsNormEps,
            "tie_word_embeddings": tieWordEmbeddings, "attention_dropout": 0.0, "initializer_range": 0.02,
            "mlp_bias": false, "use_cache": true, "bos_token_id": bosTokenId, "eos_token_id": eosTokenId,
            "torch_dtype": "float32",
        ]
        if modelType == "llama" { json["attention_bias"] = qkvBias }
        if modelType != "llama" { json["sliding_window"] = NSNull(); json["use_sliding_window"] = false }
        return json
    }

    public func write(to url: URL) throws {
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        do { try data.write(to: url, options: .atomic) } catch {
            throw EngineError.io(file: url.path, message: "cannot write: \(error.localizedDescription)")
        }
    }
}
