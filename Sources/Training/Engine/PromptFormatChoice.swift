import Data
import Foundation
import Text

/// The one place that decides the prompt format of `train`, `sweep`, `score`, `generate` and `data check`
/// (docs/DATA.md, "Prompt formats"):
/// - `--template` given: a chat family by name (`chatml`, `llama3`, `llama2`, `mistral`, `alpaca`, rendered with the
///   model's BOS / EOS tokens when it names them), or a text template (`xright`, `raw`, `hh`, a custom text);
/// - otherwise the model's chat template (a .gguf's metadata, or `chat_template` in a model directory's
///   tokenizer_config.json), which must be one xright recognises;
/// - otherwise `fallback` (`xright` for training and generation, `raw` for `score`).
public enum PromptFormatChoice {
    /// `model` is the `--model` path (a .gguf file or a model directory), nil for a built-in preset.
    public static func resolve(template: String?, model: String?, fallback: PromptTemplate = .xright) throws
        -> PromptFormat
    {
        if let template, ChatTemplate.named(template) == nil { return try PromptFormat(parsing: template) }
        let settings: ModelChatSettings?
        do {
            settings = try model.flatMap { try ModelChatSettings.read(modelAt: $0) }
            if let template {
                return try PromptFormat(parsing: template, bosToken: settings?.bosToken, eosToken: settings?.eosToken)
            }
            if let chat = try settings?.chatTemplate() { return .chat(chat) }
        } catch let error as ChatTemplateError {
            throw SessionSetupError.invalid(what: "prompt format", message: error.message)
        }
        return .text(fallback)
    }

    /// The format of a model trained by xright, `--model RUN_DIR` (its `final/` at `model`): without `--template`,
    /// the one the run trained in, resolved again from its recorded options (the model it started from and its
    /// `--template`), so a chat template that lives only in the original model still applies. When that model is
    /// no longer where the run found it, the saved model decides.
    public static func resolve(template: String?, run: URL, model: String, fallback: PromptTemplate = .xright) throws
        -> PromptFormat
    {
        let options = template == nil ? try? RunSetup.options(fromRun: RunDirectory(run)) : nil
        if let options, options.modelDirectory.map({ FileManager.default.fileExists(atPath: $0) }) ?? true {
            return try resolve(template: options.template, model: options.modelDirectory, fallback: fallback)
        }
        return try resolve(template: template, model: model, fallback: fallback)
    }

    /// The format a run was recorded with (`prompt_format` in its header settings), for a resume to keep.
    public static let headerKey = "prompt_format"

    /// Refuses to resume a run in another prompt format than it started with (a changed tokenizer_config.json,
    /// say): its sequences would no longer be those the run trained on.
    public static func checkResume(_ format: PromptFormat, recorded: String?, log: String) throws {
        guard let recorded, recorded != format.description else { return }
        throw SessionSetupError.invalid(what: log, message: "the run was trained in prompt format \(recorded), but "
            + "its model and --template now give \(format.description); restore the model's chat template or "
            + "start a new run")
    }
}
