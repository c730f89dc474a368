import Foundation

/// A Hugging Face model directory: `config.json` + `model.safetensors` (+ `tokenizer.json`, copied through).
/// LoRA adapters save PEFT-style: `adapter_config.json` + `adapter_model.safetensors`.
public enum ModelDirectory {
    /// Buffers a snapshot may carry that are not parameters (DESIGN §3): recomputed, never read.
    static func isIgnoredBuffer(_ name: String) -> Bool {
        name.hasSuffix("attention.bias") || name.hasSuffix("attention.masked_bias") || name.hasSuffix("rotary_emb.inv_freq")
    }

    /// Loads config and weights; every parameter must be present with the config's shape.
    public static func load(_ directory: URL) throws -> GPTNeoX {
        let config = try GPTNeoXConfig(contentsOf: directory.appendingPathComponent("config.json"))
        let model = GPTNeoX(config: config)
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw EngineError.io(file: weightsURL.path, message: "missing (a model directory needs model.safetensors; "
                                 + "sharded or .bin checkpoints are not supported)")
        }
        let file = try SafeTensorsFile(contentsOf: weightsURL)
        for e in model.parameters.entries {
            // Older snapshots prefix nothing; some tools save `gpt_neox.`-less names for the LM head only.
            try file.read(e.name, expectedShape: e.shape,
                          into: UnsafeMutableBufferPointer(start: model.parameters.values.pointer + e.offset, count: e.count))
        }
        let known = Set(model.parameters.entries.map(\.name))
        let unexpected = file.tensorNames.filter { !known.contains($0) && !isIgnoredBuffer($0) }
        if let first = unexpected.first {
            throw EngineError.io(file: weightsURL.path, message: "unexpected tensor '\(first)' (\(unexpected.count) in all) "
                                 + "for a GPT-NeoX model with \(config.numLayers) layers")
        }
        return model
    }

    /// Writes config.json and model.safetensors (F32), with LoRA adapters merged into the weights when
    /// `mergeAdapters` (W + (α/r)·B·A), so the result loads in `transformers` as a plain model.
    public static func save(_ model: GPTNeoX, to directory: URL, mergeAdapters: Bool = true,
                            tokenizerFile: URL? = nil) throws {
        try createDirectory(directory)
        try model.config.write(to: directory.appendingPathComponent("config.json"))
        let merged = mergeAdapters ? model.mergedAdapterWeights() : [:]
        try write(model.parameters, replacing: merged, to: directory.appendingPathComponent("model.safetensors"),
                  metadata: ["format": "pt"])
        if let tokenizerFile { try copyReplacing(tokenizerFile, to: directory.appendingPathComponent("tokenizer.json")) }
    }

    /// Writes the adapters alone, in PEFT's layout (`base_model.model.` prefix, adapter_config.json).
    public static func saveAdapters(_ model: GPTNeoX, to directory: URL) throws {
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
                  to: directory.appendingPathComponent("adapter_model.safetensors"), metadata: ["format": "pt"])
    }

    /// Loads PEFT adapters saved by `saveAdapters` onto `model` (which must have the same architecture).
    public static func loadAdapters(into model: GPTNeoX, from directory: URL) throws {
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

    /// Writes a parameter set's values (optionally some replaced, names renamed) as an F32 safetensors file.
    public static func write(_ parameters: ParameterSet, replacing: [String: [Float]] = [:],
                             rename: (String) -> String = { $0 }, to url: URL, metadata: [String: String]) throws {
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
            try SafeTensorsWriter.write(tensors, metadata: metadata, to: url)
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
