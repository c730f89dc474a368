import ArgumentParser
import Engine
import Foundation
import GGUF
import Text
import Training

extension SaveDType: ExpressibleByArgument {}

/// `xright export gguf OUT.gguf MODEL_OR_RUN`: a Llama-family model as a GGUF llama.cpp runs.
struct ExportGGUFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gguf",
        abstract: "Write a model (directory, .gguf, run or checkpoint) as a GGUF file llama.cpp runs.",
        discussion: """
            Llama-family models (llama, mistral, qwen2). Matrices in --type (f16, q8_0 or f32), norms and biases \
            in f32, Q and K rows in llama.cpp's order, the tokenizer, its special tokens and the chat template in \
            the metadata. LoRA adapters are merged. See docs/GGUF.md, "Export".
            """)

    @Argument(help: "The GGUF file to write.")
    var output: String

    @Argument(help: "A Hugging Face directory, a .gguf file, a run directory (its final/) or a checkpoint (its model/).",
              completion: .directory)
    var model: String

    @Option(help: "Storage type of the weight matrices: f16, q8_0 or f32.")
    var type: ExportGGUFType = .f16

    func run() throws {
        let source = try ExportSource.resolve(model)
        let (network, tokenizer) = try source.load()
        let name = URL(fileURLWithPath: model).standardizedFileURL.lastPathComponent
        do {
            var writer = try GGUFExport.writer(for: network, type: type.ggmlType, name: name)
            writer.metadata += try GGUFTokenizerMetadata.entries(tokenizer, extras: try source.tokenizerExtras(),
                                                                 vocabularySize: network.config.vocabSize,
                                                                 preTokenizer: try source.ggufPreTokenizer())
            try writer.write(to: URL(fileURLWithPath: output))
        } catch let error as EngineError { throw CLIError(error.description) }
          catch let error as GGUFError { throw CLIError(error.description) }
          catch let error as TokenizerError { throw CLIError(error.description) }
        print("\(output): \(network.config.modelType), \(network.parameters.scalarCount) parameters, \(type.rawValue)")
    }
}

enum ExportGGUFType: String, CaseIterable, ExpressibleByArgument {
    case f16, q8_0, f32

    var ggmlType: GGMLType {
        switch self {
        case .f16: return .f16
        case .q8_0: return .q8_0
        case .f32: return .f32
        }
    }
}

/// `xright export hf OUT_DIR MODEL_OR_RUN`: a Hugging Face directory (for the PyTorch bridge, transformers, PEFT).
struct ExportHFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hf",
        abstract: "Write a model (.gguf, directory, run or checkpoint) as a Hugging Face directory.",
        discussion: """
            config.json, model.safetensors in --save-dtype (LoRA adapters merged) and tokenizer.json + \
            tokenizer_config.json with the chat template: what AutoModelForCausalLM and AutoTokenizer load.
            """)

    @Argument(help: "The directory to write (created; files in it are replaced).")
    var output: String

    @Argument(help: "A .gguf file, a Hugging Face directory, a run directory (its final/) or a checkpoint (its model/).",
              completion: .file(extensions: ["gguf"]))
    var model: String

    @Option(name: .customLong("save-dtype"), help: "Element type of the weights: f32, bf16 or f16.")
    var saveDType: SaveDType = .f32

    func run() throws {
        let source = try ExportSource.resolve(model)
        let (network, tokenizer) = try source.load()
        let export = ModelExport(dtype: saveDType, tokenizer: tokenizer, tokenizerSource: source.tokenizerPath, baseModel: nil)
        do {
            try export.writeModel(network, to: URL(fileURLWithPath: output))
        } catch let error as EngineError { throw CLIError(error.description) }
          catch let error as TokenizerError { throw CLIError(error.description) }
        print("\(output): \(network.config.modelType), \(network.parameters.scalarCount) parameters, \(saveDType.rawValue)")
    }
}

/// What `export` reads: a model file or directory, found from what the user named.
struct ExportSource {
    /// The Hugging Face directory or .gguf file the weights load from.
    var modelURL: URL
    /// Where the tokenizer (and its tokenizer_config.json) lies: the .gguf, or a directory with tokenizer.json.
    var tokenizerPath: String
    /// A LoRA checkpoint's adapters, applied onto `modelURL` (the base model).
    var adapters: URL?

    static func resolve(_ path: String) throws -> ExportSource {
        let url = URL(fileURLWithPath: path)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw CLIError("\(path): no such file or directory") }
        if !isDirectory.boolValue {
            guard ModelDirectory.isGGUF(url) else {
                throw CLIError("\(path): expected a .gguf file, a model directory (config.json), a run or a checkpoint")
            }
            return ExportSource(modelURL: url, tokenizerPath: url.path)
        }
        func has(_ dir: URL, _ name: String) -> Bool { fm.fileExists(atPath: dir.appendingPathComponent(name).path) }
        if has(url, "config.json") { return ExportSource(modelURL: url, tokenizerPath: url.path) }
        let final = url.appendingPathComponent("final")
        if has(final, "config.json") { return ExportSource(modelURL: final, tokenizerPath: final.path) }
        let checkpointModel = url.appendingPathComponent(CheckpointStore.modelDirectoryName)
        if has(checkpointModel, "config.json") { return ExportSource(modelURL: checkpointModel, tokenizerPath: checkpointModel.path) }
        if has(checkpointModel, "adapter_config.json") {
            let configURL = checkpointModel.appendingPathComponent("adapter_config.json")
            guard let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: configURL))) as? [String: Any],
                  let base = json["base_model_name_or_path"] as? String else {
                throw CLIError("\(configURL.path): no base_model_name_or_path (the model the adapters apply to)")
            }
            return ExportSource(modelURL: URL(fileURLWithPath: base), tokenizerPath: checkpointModel.path, adapters: checkpointModel)
        }
        if has(url, "run.jsonl") {
            throw CLIError("\(path): this run has no final/ model yet; export one of its checkpoints "
                + "(\(path)/checkpoints/step-…) or finish it with `xright train --resume \(path)`")
        }
        throw CLIError("\(path): expected a model directory (config.json), a run directory (final/) or a checkpoint (model/)")
    }

    func load() throws -> (any CausalLanguageModel, any Tokenizer) {
        do {
            let model = try ModelDirectory.load(modelURL)
            if let adapters { try ModelDirectory.loadAdapters(into: model, from: adapters) }
            let tokenizer = try TokenizerLoader.load(path: tokenizerPath)
            return (model, tokenizer)
        } catch let error as EngineError { throw CLIError(error.description) }
          catch let error as GGUFError { throw CLIError(error.description) }
          catch let error as SafeTensorsError { throw CLIError(error.description) }
          catch let error as TokenizerError { throw CLIError(error.description) }
    }

    private var isGGUF: Bool { tokenizerPath.lowercased().hasSuffix(".gguf") }

    /// The chat template, BOS and unknown token: a GGUF's metadata, or tokenizer_config.json beside tokenizer.json.
    func tokenizerExtras() throws -> HuggingFaceTokenizerFiles.Extras {
        if isGGUF { return HuggingFaceTokenizerFiles.Extras(gguf: try GGUFTokenizerInfo(file: try GGUFFile(contentsOf: URL(fileURLWithPath: tokenizerPath)))) }
        let configURL = URL(fileURLWithPath: tokenizerPath).appendingPathComponent("tokenizer_config.json")
        guard let data = try? Data(contentsOf: configURL) else { return HuggingFaceTokenizerFiles.Extras() }
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CLIError("\(configURL.path): not a JSON object")
        }
        let tokenizer = try TokenizerLoader.load(path: tokenizerPath) as? BPETokenizer
        func id(_ key: String) -> Int? {
            let content = (json[key] as? String) ?? ((json[key] as? [String: Any])?["content"] as? String)
            return content.flatMap { tokenizer?.tokenId(for: $0) }
        }
        var template = json["chat_template"] as? String
        if template == nil, let named = json["chat_template"] as? [[String: Any]] {
            // Several named templates: the default one, as transformers picks.
            template = (named.first { ($0["name"] as? String) == "default" } ?? named.first)?["template"] as? String
        }
        return HuggingFaceTokenizerFiles.Extras(chatTemplate: template, bosTokenId: id("bos_token"), unknownTokenId: id("unk_token"),
                                                addsBOSToken: json["add_bos_token"] as? Bool ?? false)
    }

    /// llama.cpp's pre-tokenizer name when the source is a GGUF that gives one.
    func ggufPreTokenizer() throws -> String? {
        guard isGGUF else { return nil }
        return try GGUFTokenizerInfo(file: try GGUFFile(contentsOf: URL(fileURLWithPath: tokenizerPath))).preTokenizer
    }
}
