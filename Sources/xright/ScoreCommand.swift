import ArgumentParser
import Data
import Engine
import Foundation
import Text
import Training

/// `xright score`: per-record SFT and DPO values of a model, for checking against other implementations.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Per-record SFT loss and DPO log-probs/loss of a model on data files.",
        discussion: """
            Token convention: ids = tok(prompt) ++ tok(response) ++ [eos], prompt and response taken verbatim from \
            the records' prompt/response (SFT) or prompt/chosen/rejected (preference) fields, no template, no \
            truncation; the loss covers the response tokens and eos. A model with a chat template (or --template) \
            is scored as it trains: the record as a user turn and an assistant turn, the loss on the reply and its \
            end-of-turn marker (docs/DATA.md, "Prompt formats"). Without --ref-model the reference is the model.
            """)

    @Option(help: "Model: a directory (config.json, model.safetensors, tokenizer.json), a .gguf file, a run directory or RUN/checkpoints/step-N.")
    var model: String

    @OptionGroup var configFile: ConfigFileArguments

    @Option(help: "Reference model for DPO, named like --model (default: the model itself).")
    var refModel: String?

    @Option(help: "Tokenizer (default: the model directory's tokenizer.json).")
    var tokenizer: String?

    @Option(help: "Prompt format: a chat family (chatml, llama3, llama2, mistral, alpaca), xright, raw, hh or a string with {prompt}. Default: the model's chat template, else raw.")
    var template: String?

    @Option(help: "prompt/response JSONL to score with the SFT loss.")
    var sft: String?

    @Option(help: "prompt/chosen/rejected JSONL to score with the DPO loss.")
    var pref: String?

    @OptionGroup var preference: PreferenceLossOptions

    @OptionGroup var engine: EngineThreadOptions

    @Flag(help: "Print one JSON object (the only output format for now; kept for scripts that pass it).")
    var json = false

    func validate() throws {
        guard sft != nil || pref != nil else { throw ValidationError("give --sft FILE, --pref FILE, or both") }
    }

    func run() throws {
        engine.configure()
        // Directories, .gguf files, runs and checkpoints alike (ModelOrRun); --tokenizer replaces the model's.
        let resolved = try ModelOrRun.load(model, option: "--model", tokenizer: tokenizer)
        let policy = resolved.model, tok = resolved.tokenizer
        let reference = try refModel.map { try ModelOrRun.load($0, option: "--ref-model", skipTokenizerBeside: true).model }
        let format = try resolved.promptFormat(template: template, fallback: .raw)
        let examples = try ExampleTokenizer(tokenizer: tok, format: format, maxLength: nil)
        let scorer = Scorer(model: policy, reference: reference, preference: preference.preferenceLoss)
        var out: [String: [Double]] = [:]
        if let sft {
            let records = try SFTReader(path: sft, options: ReadOptions(format: .promptResponse, kind: .sft, strict: true)).readAll()
            let tokenized = try records.map { try examples.tokenize($0) }
            try checkLength(tokenized, policy, sft)
            out["sft_loss"] = scorer.sftLosses(tokenized)
        }
        if let pref {
            let records = try PreferenceReader(path: pref, options: ReadOptions(format: .promptChosenRejected, kind: .preference, strict: true)).readAll()
            let tokenized = try records.map { try examples.tokenize($0) }
            try checkLength(tokenized.flatMap { [$0.chosen, $0.rejected] }, policy, pref)
            let s = scorer.pairScores(tokenized)
            out["chosen_logp"] = s.chosen
            out["rejected_logp"] = s.rejected
            out["ref_chosen_logp"] = s.referenceChosen
            out["ref_rejected_logp"] = s.referenceRejected
            out["dpo_loss"] = s.loss
        }
        for (name, values) in out.sorted(by: { $0.key < $1.key }) {
            for (index, value) in values.enumerated() where !value.isFinite {
                printErr("warning: \(name) of record \(index + 1) is \(value) (the model's weights or the data give a non-finite value)")
            }
        }
        // Non-finite values are written as the run log writes them ("NaN", "Infinity", "-Infinity").
        let encoder = RunLogCoding.makeEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(out), as: UTF8.self))
    }

    private func checkLength(_ seqs: [TokenizedExample], _ model: any CausalLanguageModel, _ file: String) throws {
        if let (i, s) = seqs.enumerated().first(where: { $0.element.ids.count > model.config.maxPositions }) {
            throw CLIError("\(file): record \(i + 1) has \(s.ids.count) tokens, more than the model's "
                           + "max_position_embeddings \(model.config.maxPositions)")
        }
    }
}
