import Data
import Engine
import Foundation
import GGUF
import Text
import Training

/// A model named on the command line, loaded with its tokenizer: a Hugging Face directory, a .gguf file, a run
/// directory (its `final/` model, else its newest checkpoint) or one of a run's checkpoints
/// (`RUN/checkpoints/step-000040`). Shared by `generate`, `eval`, `compare-answers` and `score` (docs/EVAL.md,
/// "Naming a model").
struct ResolvedModel {
    let model: any CausalLanguageModel
    var tokenizer: any Tokenizer
    /// The directory or file the weights came from (a checkpoint's directory for a checkpoint).
    let source: URL
    /// How it was found, for messages and JSON: "directory", "gguf", "run final", "run checkpoint step-000040".
    let kind: String
    /// The .gguf file, whose metadata holds the tokenizer and chat template.
    let gguf: URL?
    /// Where a `tokenizer_config.json` (chat template) may sit: a model directory.
    let configDirectory: URL?
    /// The run, when the model came from one.
    let run: RunContext?

    struct RunContext {
        let directory: RunDirectory
        let options: RunOptions
    }

    /// The prompt format training uses for this model and `template` (PromptFormatChoice): a run's own format
    /// (its recorded model and `--template`) unless `template` is given, else the model's chat template, else
    /// `fallback`.
    func promptFormat(template: String?, fallback: PromptTemplate = .xright) throws -> PromptFormat {
        let modelPath = (gguf ?? configDirectory ?? source).path
        if let run {
            return try PromptFormatChoice.resolve(template: template, run: run.directory.url, model: modelPath,
                                                  fallback: fallback)
        }
        return try PromptFormatChoice.resolve(template: template, model: modelPath, fallback: fallback)
    }

    /// The model a run's DPO compared against: its base model (the preset's seeded init or the --model it
    /// started from; for LoRA, the base without adapters). Nil outside a run.
    func runReference() throws -> (any CausalLanguageModel)? {
        guard let run else { return nil }
        return try RunSetup.loadModel(run.options, vocabularySize: tokenizer.vocabularySize)
    }
}

enum ModelOrRun {
    /// Resolves and loads `path`; `option` names the argument in errors (`--model`, `RUN_A`, `--judge`).
    /// `tokenizer` (a path `TokenizerLoader` reads) replaces the one found with the model.
    static func load(_ path: String, option: String, tokenizer override: String? = nil) throws -> ResolvedModel {
        var resolved = try load(path, option: option, skipTokenizerBeside: override != nil)
        if let override {
            resolved.tokenizer = try TokenizerLoader.load(path: override)
            guard resolved.tokenizer.vocabularySize <= resolved.model.config.vocabSize else {
                throw CLIError("tokenizer \(override) produces ids up to \(resolved.tokenizer.vocabularySize - 1) but the "
                    + "model's vocab_size is \(resolved.model.config.vocabSize)")
            }
        }
        return resolved
    }

    /// `skipTokenizerBeside`: a model directory without tokenizer.json is fine (the caller brings a tokenizer or
    /// needs none; the byte tokenizer stands in).
    static func load(_ path: String, option: String, skipTokenizerBeside: Bool) throws -> ResolvedModel {
        let url = URL(fileURLWithPath: path)
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw CLIError("\(option) \(path): no such file or directory")
        }
        if !isDir.boolValue {
            guard ModelDirectory.isGGUF(url) else {
                throw CLIError("\(option) \(path): expected a model directory (config.json), a .gguf file, a run "
                    + "directory (run.jsonl) or a run's checkpoint (RUN/checkpoints/step-…)")
            }
            return ResolvedModel(model: try ModelDirectory.load(url), tokenizer: try BPETokenizer(gguf: try GGUFFile(contentsOf: url)),
                                 source: url, kind: "gguf", gguf: url, configDirectory: nil, run: nil)
        }
        if fm.fileExists(atPath: url.appendingPathComponent("config.json").path) {
            let model = try ModelDirectory.load(url)
            let tokenizer = skipTokenizerBeside ? ByteTokenizer() : try tokenizer(besideModel: url, model, option: option, path: path)
            return ResolvedModel(model: model, tokenizer: tokenizer,
                                 source: url, kind: "directory", gguf: nil, configDirectory: url, run: nil)
        }
        if fm.fileExists(atPath: url.appendingPathComponent("run.jsonl").path) {
            let run = RunDirectory(url)
            let final = url.appendingPathComponent("final")
            if fm.fileExists(atPath: final.appendingPathComponent("config.json").path) {
                return try loadFinal(final, run: run)
            }
            guard let newest = try CheckpointStore(directory: run.checkpoints).latest() else {
                throw CLIError("\(option) \(path): this run has no final/ model and no complete checkpoint yet (it is "
                    + "still starting, or stopped before its first checkpoint)")
            }
            return try loadCheckpoint(newest, run: run)
        }
        let parent = url.standardizedFileURL.deletingLastPathComponent()
        if parent.lastPathComponent == "checkpoints",
           fm.fileExists(atPath: parent.deletingLastPathComponent().appendingPathComponent("run.jsonl").path) {
            let checkpoint: Checkpoint
            do { checkpoint = try CheckpointStore.open(url) } catch {
                throw CLIError("\(option) \(path): \(error)")
            }
            return try loadCheckpoint(checkpoint, run: RunDirectory(parent.deletingLastPathComponent()))
        }
        throw CLIError("\(option) \(path): no config.json (a Hugging Face model directory), no run.jsonl (a run "
            + "directory), and not a run's checkpoints/step-… directory")
    }

    /// A run's `final/`: adapters are merged into it as the run saved it; the tokenizer is the one copied
    /// beside it, else the run's own.
    static func loadFinal(_ final: URL, run: RunDirectory) throws -> ResolvedModel {
        let options = try RunSetup.options(fromRun: run)
        let model = try ModelDirectory.load(final)
        let file = final.appendingPathComponent("tokenizer.json")
        let tokenizer = FileManager.default.fileExists(atPath: file.path)
            ? try TokenizerLoader.load(path: file.path) : try RunSetup.loadTokenizer(options)
        return ResolvedModel(model: model, tokenizer: tokenizer, source: final, kind: "run final", gguf: ggufBase(options),
                             configDirectory: baseDirectory(options), run: .init(directory: run, options: options))
    }

    /// A checkpoint: the run's starting model rebuilt from its options (adapters attached for a LoRA run), then
    /// the checkpoint's trainable weights (all weights, or the adapters) read over it.
    static func loadCheckpoint(_ checkpoint: Checkpoint, run: RunDirectory) throws -> ResolvedModel {
        let options = try RunSetup.options(fromRun: run)
        let tokenizer = try RunSetup.loadTokenizer(options)
        let model = try RunSetup.loadModel(options, vocabularySize: tokenizer.vocabularySize)
        if let lora = options.lora { try model.attachAdapters(lora, seed: options.modelSeed &+ 1) }
        let file = checkpoint.backendDirectory.appendingPathComponent("trainable.safetensors")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw CLIError("\(checkpoint.directory.path): no backend/trainable.safetensors (not a checkpoint of the Swift engine?)")
        }
        let weights = try SafeTensorsFile(contentsOf: file)
        let trainable = model.trainableParameters
        for e in trainable.entries {
            try weights.read(e.name, expectedShape: e.shape,
                             into: UnsafeMutableBufferPointer(start: trainable.values.pointer + e.offset, count: e.count))
        }
        return ResolvedModel(model: model, tokenizer: tokenizer, source: checkpoint.directory,
                             kind: "run checkpoint \(checkpoint.directory.lastPathComponent)", gguf: ggufBase(options),
                             configDirectory: baseDirectory(options), run: .init(directory: run, options: options))
    }

    static func tokenizer(besideModel url: URL, _ model: any CausalLanguageModel, option: String, path: String) throws -> any Tokenizer {
        let file = url.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: file.path) { return try TokenizerLoader.load(path: file.path) }
        // The built-in presets train on bytes; older runs saved no tokenizer.json for them.
        if model.config.vocabSize == ByteTokenizer().vocabularySize { return ByteTokenizer() }
        throw CLIError("\(option) \(path): tokenizer.json is missing beside the model (needed to turn text into its tokens)")
    }

    private static func ggufBase(_ options: RunOptions) -> URL? {
        options.modelDirectory.map { URL(fileURLWithPath: $0) }.flatMap { ModelDirectory.isGGUF($0) ? $0 : nil }
    }

    private static func baseDirectory(_ options: RunOptions) -> URL? {
        options.modelDirectory.map { URL(fileURLWithPath: $0) }.flatMap { ModelDirectory.isGGUF($0) ? nil : $0 }
    }

    /// Refuses two models whose tokenizers differ (a policy and its reference, a DPO judge and its reference):
    /// their log-probabilities would be of different token sequences. Compared by vocabulary size, end and pad
    /// ids and the tokens of a probe text.
    static func requireSameTokenizer(_ a: any Tokenizer, _ aName: String, _ b: any Tokenizer, _ bName: String) throws {
        let probe = "The quick brown fox, naïve café: 12345 «ok»\nUser: hi\nAssistant: "
        var differences = [String]()
        if a.vocabularySize != b.vocabularySize { differences.append("vocabulary \(a.vocabularySize) vs \(b.vocabularySize)") }
        if a.eosTokenId != b.eosTokenId { differences.append("eos id \(a.eosTokenId) vs \(b.eosTokenId)") }
        if differences.isEmpty, a.encode(probe) != b.encode(probe) { differences.append("they split the same text differently") }
        guard differences.isEmpty else {
            throw CLIError("\(aName) and \(bName) have different tokenizers (\(differences.joined(separator: "; "))); "
                + "they must share one to compare log-probabilities")
        }
    }
}
