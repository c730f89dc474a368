import Engine
import Foundation
import Text

/// How a run writes its model for other tools (final/ and each checkpoint's model/): config.json, the weights in
/// `--save-dtype`, and the tokenizer files `transformers` loads (docs/GGUF.md, "Saving"). The checkpoint's
/// training state (backend/) stays float32, so a resume is exact whatever the export's type.
public struct ModelExport: Sendable {
    public static let checkpointDirectoryName = "model"

    public var dtype: SaveDType
    public var tokenizer: any Tokenizer
    /// What the tokenizer was loaded from (`--tokenizer`, else the model directory or .gguf); nil: the byte
    /// tokenizer of a preset.
    public var tokenizerSource: String?
    /// The base model a LoRA checkpoint's adapters apply to (PEFT's `base_model_name_or_path`).
    public var baseModel: String?

    public init(dtype: SaveDType, tokenizer: any Tokenizer, tokenizerSource: String?, baseModel: String?) {
        self.dtype = dtype
        self.tokenizer = tokenizer
        self.tokenizerSource = tokenizerSource
        self.baseModel = baseModel
    }

    /// The export of a run with these options.
    public init(options: RunOptions, tokenizer: any Tokenizer) {
        let source = options.tokenizer ?? options.modelDirectory
        self.init(dtype: options.saveDType ?? .f32, tokenizer: tokenizer,
                  tokenizerSource: source == TokenizerLoader.byteTokenizerName ? nil : source,
                  baseModel: options.modelDirectory)
    }

    /// A whole model (LoRA adapters merged) that `AutoModelForCausalLM.from_pretrained(directory)` loads.
    public func writeModel(_ model: any CausalLanguageModel, to directory: URL) throws {
        try ModelDirectory.save(model, to: directory, mergeAdapters: true, dtype: dtype)
        try writeTokenizer(model, to: directory)
    }

    /// A checkpoint's model/: the whole model for full fine-tuning; for LoRA only the adapters, PEFT-style
    /// (adapter_config.json names the base model), which keeps checkpoints small. Both in `dtype`.
    public func writeCheckpointModel(_ model: any CausalLanguageModel, to directory: URL) throws {
        guard model.adapters != nil else { return try writeModel(model, to: directory) }
        try ModelDirectory.saveAdapters(model, to: directory, dtype: dtype)
        if let base = baseModel { try Self.setBaseModel(base, in: directory.appendingPathComponent("adapter_config.json")) }
        try writeTokenizer(model, to: directory)
    }

    private func writeTokenizer(_ model: any CausalLanguageModel, to directory: URL) throws {
        try HuggingFaceTokenizerFiles.write(tokenizer, source: tokenizerSource, to: directory,
                                            modelMaxLength: model.config.maxPositions)
    }

    private static func setBaseModel(_ base: String, in url: URL) throws {
        guard var json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] else {
            throw SessionSetupError.badCheckpoint(file: url.path, message: "not a JSON object")
        }
        json["base_model_name_or_path"] = URL(fileURLWithPath: base).standardizedFileURL.path
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]).write(to: url, options: .atomic)
    }
}

extension RunOptions {
    /// These options with `--save-dtype`; f32 (the default) is recorded as nothing, so headers of runs that do
    /// not choose a type stay as they were.
    public func savingWeights(as dtype: SaveDType) -> RunOptions {
        var options = self
        options.saveDType = dtype == .f32 ? nil : dtype
        return options
    }
}
