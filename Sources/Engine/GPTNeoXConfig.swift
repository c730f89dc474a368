import Foundation

/// A GPT-NeoX (Pythia) architecture, read from and written to a Hugging Face `config.json`.
public struct GPTNeoXConfig: Equatable, Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var intermediateSize: Int
    public var rotaryPct: Double
    public var rotaryBase: Double
    public var maxPositions: Int
    public var layerNormEps: Double
    public var useParallelResidual: Bool
    public var bosTokenId: Int
    public var eosTokenId: Int

    public var headSize: Int { hiddenSize / numHeads }

    public init(vocabSize: Int, hiddenSize: Int, numLayers: Int, numHeads: Int, intermediateSize: Int,
                rotaryPct: Double = 0.25, rotaryBase: Double = 10_000, maxPositions: Int = 2048,
                layerNormEps: Double = 1e-5, useParallelResidual: Bool = true, bosTokenId: Int = 0, eosTokenId: Int = 0) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.intermediateSize = intermediateSize
        self.rotaryPct = rotaryPct
        self.rotaryBase = rotaryBase
        self.maxPositions = maxPositions
        self.layerNormEps = layerNormEps
        self.useParallelResidual = useParallelResidual
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
    }

    /// Checks the sizes fit together; errors name the field.
    public func validate(source: String = "config") throws {
        func bad(_ field: String, _ expected: String, _ got: Any) -> EngineError {
            EngineError.invalidConfig(file: source, field: field, expected: expected, got: "\(got)")
        }
        if vocabSize <= 0 { throw bad("vocab_size", "a positive integer", vocabSize) }
        if hiddenSize <= 0 { throw bad("hidden_size", "a positive integer", hiddenSize) }
        if numLayers <= 0 { throw bad("num_hidden_layers", "a positive integer", numLayers) }
        if numHeads <= 0 || hiddenSize % numHeads != 0 {
            throw bad("num_attention_heads", "a positive divisor of hidden_size \(hiddenSize)", numHeads)
        }
        if intermediateSize <= 0 { throw bad("intermediate_size", "a positive integer", intermediateSize) }
        if !(rotaryPct >= 0 && rotaryPct <= 1) { throw bad("rotary_pct", "a number in [0, 1]", rotaryPct) }
        if !(rotaryBase > 0) { throw bad("rotary_emb_base", "a positive number", rotaryBase) }
        if maxPositions <= 0 { throw bad("max_position_embeddings", "a positive integer", maxPositions) }
        if !(layerNormEps > 0) { throw bad("layer_norm_eps", "a positive number", layerNormEps) }
    }
}

extension GPTNeoXConfig {
    /// Reads config.json. Accepts the older (`rotary_pct`, `rotary_emb_base`) and newer (`partial_rotary_factor`,
    /// `rope_theta`, `rope_parameters`) spellings transformers has used.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EngineError.io(file: url.path, message: "cannot read: \(error.localizedDescription)")
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw EngineError.invalidConfig(file: url.path, field: "(file)", expected: "a JSON object",
                                            got: "invalid JSON (\(error.localizedDescription))")
        }
        guard let json = object as? [String: Any] else {
            throw EngineError.invalidConfig(file: url.path, field: "(file)", expected: "a JSON object", got: "\(type(of: object))")
        }
        try self.init(json: json, source: url.path)
    }

    public init(json: [String: Any], source: String) throws {
        func int(_ key: String, default value: Int? = nil) throws -> Int {
            guard let raw = json[key] else {
                if let value { return value }
                throw EngineError.invalidConfig(file: source, field: key, expected: "an integer", got: "nothing (missing)")
            }
            if let n = raw as? NSNumber, !isJSONBoolean(n), n.doubleValue == n.doubleValue.rounded() {
                return n.intValue
            }
            throw EngineError.invalidConfig(file: source, field: key, expected: "an integer", got: "\(raw)")
        }
        func double(_ key: String, in dict: [String: Any]? = nil) throws -> Double? {
            guard let raw = (dict ?? json)[key], !(raw is NSNull) else { return nil }
            if let n = raw as? NSNumber, !isJSONBoolean(n) { return n.doubleValue }
            throw EngineError.invalidConfig(file: source, field: key, expected: "a number", got: "\(raw)")
        }
        if let type = json["model_type"] as? String, type != "gpt_neox" {
            throw EngineError.invalidConfig(file: source, field: "model_type", expected: "\"gpt_neox\"", got: "\"\(type)\"")
        }
        if let act = json["hidden_act"] as? String, act != "gelu" {
            throw EngineError.invalidConfig(file: source, field: "hidden_act", expected: "\"gelu\" (exact erf form)",
                                            got: "\"\(act)\"")
        }
        if let tie = json["tie_word_embeddings"] as? Bool, tie {
            throw EngineError.invalidConfig(file: source, field: "tie_word_embeddings", expected: "false", got: "true")
        }
        if let bias = json["attention_bias"] as? Bool, !bias {
            throw EngineError.invalidConfig(file: source, field: "attention_bias", expected: "true", got: "false")
        }
        let rope = json["rope_parameters"] as? [String: Any] ?? json["rope_scaling"] as? [String: Any]
        if let type = rope?["rope_type"] as? String ?? rope?["type"] as? String, type != "default" {
            throw EngineError.invalidConfig(file: source, field: "rope_parameters.rope_type", expected: "\"default\"",
                                            got: "\"\(type)\"")
        }
        let pct = try double("rotary_pct") ?? double("partial_rotary_factor") ?? double("partial_rotary_factor", in: rope) ?? 0.25
        let base = try double("rotary_emb_base") ?? double("rope_theta") ?? double("rope_theta", in: rope) ?? 10_000
        self.init(vocabSize: try int("vocab_size"), hiddenSize: try int("hidden_size"),
                  numLayers: try int("num_hidden_layers"), numHeads: try int("num_attention_heads"),
                  intermediateSize: try int("intermediate_size"), rotaryPct: pct, rotaryBase: base,
                  maxPositions: try int("max_position_embeddings", default: 2048),
                  layerNormEps: try double("layer_norm_eps") ?? 1e-5,
                  useParallelResidual: json["use_parallel_residual"] as? Bool ?? true,
                  bosTokenId: try int("bos_token_id", default: 0), eosTokenId: try int("eos_token_id", default: 0))
        try validate(source: source)
    }

    /// The config.json transformers expects for `GPTNeoXForCausalLM`.
    public var json: [String: Any] {
        [
            "architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox",
            "vocab_size": vocabSize, "hidden_size": hiddenSize, "num_hidden_layers": numLayers,
            "num_attention_heads": numHeads, "intermediate_size": intermediateSize, "hidden_act": "gelu",
            "rotary_pct": rotaryPct, "rotary_emb_base": rotaryBase, "partial_rotary_factor": rotaryPct,
            "rope_theta": rotaryBase, "max_position_embeddings": maxPositions,
            "layer_norm_eps": layerNormEps, "use_parallel_residual": useParallelResidual,
            "tie_word_embeddings": false, "attention_bias": true, "initializer_range": 0.02,
            "attention_dropout": 0.0, "hidden_dropout": 0.0, "classifier_dropout": 0.1, "use_cache": true,
            "bos_token_id": bosTokenId, "eos_token_id": eosTokenId, "torch_dtype": "float32",
        ]
    }

    public func write(to url: URL) throws {
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        do { try data.write(to: url, options: .atomic) } catch {
            throw EngineError.io(file: url.path, message: "cannot write: \(error.localizedDescription)")
        }
    }
}

/// JSONSerialization hands booleans back as NSNumber too; tell them apart so `true` is not read as 1.
func isJSONBoolean(_ n: NSNumber) -> Bool {
    String(cString: n.objCType) == "c" || String(describing: type(of: n)).contains("Boolean")
}
