import Foundation
import GGUF

/// A Hugging Face model directory: `config.json` + `model.safetensors` or a sharded
/// `model.safetensors.index.json` (+ `tokenizer.json`, copied through). The architecture follows config.json's
/// `model_type`. LoRA adapters save PEFT-style: `adapter_config.json` + `adapter_model.safetensors`.
public enum ModelDirectory {
    /// Every `model_type` `load` accepts.
    public static let supportedModelTypes = ["gpt_neox"] + LlamaConfig.supportedModelTypes

    /// Buffers a snapshot may carry that are not parameters (docs/DESIGN.md §3): recomputed, never read.
    static func isIgnoredBuffer(_ name: String) -> Bool {
        name.hasSuffix("attention.bias") || name.hasSuffix("attention.masked_bias") || name.hasSuffix("rotary_emb.inv_freq")
    }

    /// Loads config and weights of whichever supported architecture config.json names; a `.gguf` file (Llama or
    /// Qwen2, any of the quantizations docs/GGUF.md lists) loads the same way, its metadata as the config.
    public static func load(_ directory: URL) throws -> any CausalLanguageModel {
        if isGGUF(directory) { return try loadGGUF(directory) }
        let configURL = directory.appendingPathComponent("config.json")
        let fields = try ConfigFields.read(configURL)
        switch try fields.string("model_type") {
        case nil, "gpt_neox": return try load(directory, as: GPTNeoX.self)
        case let type? where LlamaConfig.supportedModelTypes.contains(type): return try load(directory, as: Llama.self)
        case let type?:
            throw EngineError.invalidConfig(file: configURL.path, field: "model_type",
                                            expected: "one of \(supportedModelTypes.joined(separator: ", "))",
                                            got: "\"\(type)\"")
        }
    }

    /// Loads a directory as a given architecture. Every parameter must be present with the config's shape, and
    /// the config is checked against the weight files before anything of its size is allocated, so a config
    /// that claims more than the files hold is refused at once (issue #18, finding 2).
    public static func load<Model: CausalLanguageModel>(_ directory: URL, as: Model.Type) throws -> Model {
        let configURL = directory.appendingPathComponent("config.json")
        let config = try readConfig(Model.Config.self, configURL)
        return try build(Model.self, config: config, configSource: configURL.path,
                         weights: try ModelWeights(directory: directory))
    }

    /// Checks `config` against the tensors' shapes, then allocates the model and reads the weights into it.
    static func build<Model: CausalLanguageModel>(_: Model.Type, config: Model.Config, configSource: String,
                                                  weights: some WeightSource) throws -> Model {
        try checkLayerCount(config, configSource, weights)
        let specs = Model.parameterSpecs(config)
        for spec in specs {
            guard let shape = weights.shape(of: spec.name) else {
                throw EngineError.io(file: weights.description, message: "missing tensor '\(spec.name)' (expected shape "
                                     + "\(spec.shape), from \(configSource))")
            }
            guard shape == spec.shape else {
                throw EngineError.io(file: weights.description, message: "tensor '\(spec.name)' has shape \(shape), but "
                                     + "\(configSource) implies \(spec.shape)")
            }
        }
        let known = Set(specs.map(\.name))
        let unexpected = weights.tensorNames.filter { !known.contains($0) && !isIgnoredBuffer($0) && !isTiedHead($0, config) }
        if let first = unexpected.first {
            throw EngineError.io(file: weights.description, message: "unexpected tensor '\(first)' (\(unexpected.count) in all) "
                                 + "for a \(config.modelType) model with \(config.numLayers) layers")
        }
        let model = Model(config: config)
        for e in model.parameters.entries {
            try weights.read(e.name, expectedShape: e.shape,
                             into: UnsafeMutableBufferPointer(start: model.parameters.values.pointer + e.offset, count: e.count))
        }
        return model
    }

    /// Whether `url` names a GGUF file rather than a model directory.
    public static func isGGUF(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return url.pathExtension.lowercased() == "gguf"
            && !(FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    /// A Llama-family GGUF file as a trainable float32 model: the tensors dequantized under Hugging Face names
    /// (Q and K rows un-permuted), the config from the metadata, checked like a directory's.
    public static func loadGGUF(_ url: URL) throws -> Llama {
        let checkpoint = try GGUFCheckpoint(contentsOf: url)
        let source = url.path + " (GGUF metadata)"
        guard let object = checkpoint.config.objectValue else {
            throw EngineError.invalidConfig(file: source, field: "(config)", expected: "an object", got: checkpoint.config.typeName)
        }
        let config = try LlamaConfig(json: object, source: source)
        return try build(Llama.self, config: config, configSource: source, weights: checkpoint)
    }

    static func readConfig<Config: ModelConfiguration>(_ type: Config.Type, _ url: URL) throws -> Config {
        switch type {
        case is GPTNeoXConfig.Type: return try GPTNeoXConfig(contentsOf: url) as! Config
        case is LlamaConfig.Type: return try LlamaConfig(contentsOf: url) as! Config
        default: preconditionFailure("no config reader for \(type)")
        }
    }

    /// Some tied snapshots store the head anyway; with tied embeddings it is the embedding and is not read.
    static func isTiedHead(_ name: String, _ config: some ModelConfiguration) -> Bool {
        name == "lm_head.weight" && (config as? LlamaConfig)?.tieWordEmbeddings == true
    }

    /// The number of blocks must match the weights before specs are built (a config claiming 10⁹ layers would
    /// otherwise build 10⁹ names). Layer indices come from names `….layers.N.…`.
    static func checkLayerCount(_ config: some ModelConfiguration, _ configSource: String, _ weights: some WeightSource) throws {
        var layers = Set<Int>()
        for name in weights.tensorNames {
            guard let range = name.range(of: "layers.") else { continue }
            let digits = name[range.upperBound...].prefix { $0.isNumber }
            if let n = Int(digits) { layers.insert(n) }
        }
        let count = (layers.max() ?? -1) + 1
        guard config.numLayers <= count else {
            throw EngineError.invalidConfig(file: configSource, field: "num_hidden_layers",
                                            expected: "at most \(count) (\(weights.description) holds layers 0..<\(count); "
                                                + "nothing for layers.\(count))",
                                            got: "\(config.numLayers)")
        }
    }

    /// Writes config.json and model.safetensors (in `dtype`, `torch_dtype` saying so), with LoRA adapters merged
    /// into the weights when `mergeAdapters` (W + (α/r)·B·A), so the result loads in `transformers` as a plain model.
    public static func save(_ model: some CausalLanguageModel, to directory: URL, mergeAdapters: Bool = true,
                            dtype: SaveDType = .f32, tokenizerFile: URL? = nil) throws {
        try createDirectory(directory)
        let configURL = directory.appendingPathComponent("config.json")
        try model.config.write(to: configURL)
        if dtype != .f32 { try setTorchDType(dtype, in: configURL) }
        let merged = mergeAdapters ? model.mergedAdapterWeights() : [:]
        try write(model.parameters, replacing: merged, to: directory.appendingPathComponent("model.safetensors"),
                  metadata: ["format": "pt"], dtype: dtype)
        if let tokenizerFile { try copyReplacing(tokenizerFile, to: directory.appendingPathComponent("tokenizer.json")) }
    }

    /// config.json's `torch_dtype` (and transformers 5's `dtype`) name the stored type, so `from_pretrained`
    /// without an explicit dtype keeps it.
    static func setTorchDType(_ dtype: SaveDType, in url: URL) throws {
        do {
            guard var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
                throw EngineError.io(file: url.path, message: "not a JSON object")
            }
            json["torch_dtype"] = dtype.torchName
            let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: url, options: .atomic)
        } catch let error as EngineError { throw error } catch {
            throw EngineError.io(file: url.path, message: "cannot set torch_dtype: \(error.localizedDescription)")
        }
    }

    /// Writes the adapters alone, in PEFT's layout (`base_model.model.` prefix, adapter_config.json), as `dtype`
    /// (a run's `--save-dtype`; training state is saved elsewhere, in f32).
    public static func saveAdapters(_ model: some CausalLanguageModel, to directory: URL, dtype: SaveDType = .f32) throws {
        guard let adapters = model.adapters else {
            throw EngineError.invalidInput(what: "save adapters", message: "the model has no LoRA adapters attached")
        }
        try createDirectory(directory)
        let config: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": adapters.config.rank,
            "lora_alpha": adapters.config.alpha, "lora_dropout": 0.0, "bias": "none",
            "target_modules": adapters.config.targets, "fan_in_fan_out": false,
        ]
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: directory.appendingPathComponent("adapter_config.json"), options: .atomic)
        try write(adapters.parameters, rename: { "base_model.model." + $0 },
                  to: directory.appendingPathComponent("adapter_model.safetensors"), metadata: ["format": "pt"], dtype: dtype)
    }

    /// Loads PEFT adapters saved by `saveAdapters` onto `model` (which must have the same architecture).
    public static func loadAdapters(into model: some CausalLanguageModel, from directory: URL) throws {
        let configURL = directory.appendingPathComponent("adapter_config.json")
        guard let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: configURL))) as? [String: Any] else {
            throw EngineError.io(file: configURL.path, message: "missing or not a JSON object")
        }
        guard let r = json["r"] as? Int, let alpha = (json["lora_alpha"] as? NSNumber)?.floatValue,
              let targets = json["target_modules"] as? [String] else {
            throw EngineError.invalidConfig(file: configURL.path, field: "r/lora_alpha/target_modules",
                                            expected: "an integer, a number and a list of names", got: "something else")
        }
        try model.attachAdapters(LoRAConfig(rank: r, alpha: alpha, targets: targets), seed: 0)
        let file = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("adapter_model.safetensors"))
        let p = model.trainableParameters
        for e in p.entries {
            try file.read("base_model.model." + e.name, expectedShape: e.shape,
                          into: UnsafeMutableBufferPointer(start: p.values.pointer + e.offset, count: e.count))
        }
    }

    /// Writes a parameter set's values (optionally some replaced, names renamed) as a safetensors file of `dtype`.
    public static func write(_ parameters: ParameterSet, replacing: [String: [Float]] = [:],
                             rename: (String) -> String = { $0 }, to url: URL, metadata: [String: String],
                             dtype: SaveDType = .f32) throws {
        var tensors = [SafeTensorsWriter.Tensor]()
        var keepAlive = [FloatBuffer]()
        for e in parameters.entries {
            if let values = replacing[e.name] {
                let copy = FloatBuffer(values)
                keepAlive.append(copy)
                tensors.append((rename(e.name), e.shape, UnsafeBufferPointer(copy.buffer)))
            } else {
                tensors.append((rename(e.name), e.shape,
                                UnsafeBufferPointer(start: parameters.values.pointer + e.offset, count: e.count)))
            }
        }
        try withExtendedLifetime(keepAlive) {
            try SafeTensorsWriter.write(tensors, metadata: metadata, dtype: dtype, to: url)
        }
    }

    static func createDirectory(_ url: URL) throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw EngineError.io(file: url.path, message: "cannot create directory: \(error.localizedDescription)")
        }
    }

    static func copyReplacing(_ source: URL, to destination: URL) throws {
        if source.standardizedFileURL == destination.standardizedFileURL { return }
        do {
            let data = try Data(contentsOf: source)
            try data.write(to: destination, options: .atomic)
        } catch {
            throw EngineError.io(file: destination.path, message: "cannot copy \(source.path): \(error.localizedDescription)")
        }
    }
}
