import Engine
import Foundation

/// `--ref-model DIR|FILE.gguf|RUN_DIR`: the frozen reference policy of DPO when it is not the policy's starting
/// weights (the official recipe's reference is an SFT model trained on the preference data's chosen responses,
/// docs/TRAINING.md). A run directory stands for its final model.
public enum ReferenceModel {
    /// The model directory or GGUF file `path` names.
    public static func resolve(_ path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw SessionSetupError.invalid(what: "--ref-model \(path)", message: "no such file or directory "
                + "(expected a model directory, a .gguf file or a run directory)")
        }
        guard isDirectory.boolValue else { return url }
        let run = RunDirectory(url)
        guard FileManager.default.fileExists(atPath: run.log.path) else { return url }
        let final = url.appendingPathComponent("final")
        guard FileManager.default.fileExists(atPath: final.appendingPathComponent("config.json").path) else {
            throw SessionSetupError.invalid(what: "--ref-model \(path)", message: "this run has no final model yet "
                + "(final/config.json); let it finish, or export a checkpoint and give that directory")
        }
        return final
    }

    /// Loads the reference and checks that it scores the policy's tokens: same vocabulary, enough positions.
    public static func load(_ path: String, policy: any CausalLanguageModel, maxLength: Int) throws -> any CausalLanguageModel {
        let url = try resolve(path)
        let reference: any CausalLanguageModel
        do { reference = try ModelDirectory.load(url) } catch {
            throw SessionSetupError.invalid(what: "--ref-model \(path)", message: "cannot load the model: \(error)")
        }
        guard reference.config.vocabSize == policy.config.vocabSize else {
            throw SessionSetupError.invalid(what: "--ref-model \(path)", message: "vocab_size \(reference.config.vocabSize) "
                + "differs from the policy's \(policy.config.vocabSize); the reference must share the policy's tokenizer")
        }
        guard reference.config.maxPositions >= maxLength else {
            throw SessionSetupError.invalid(what: "--ref-model \(path)", message: "max_position_embeddings "
                + "\(reference.config.maxPositions) is below the sequence length \(maxLength) (--max-len)")
        }
        return reference
    }
}
