import Foundation
import Data
import Engine
import GGUF
import Text
import Training

/// What `xright generate` runs on: the model, its tokenizer, how a prompt becomes text, and which tokens end a
/// reply. Resolved from `--model` (a Hugging Face directory, a .gguf file, or a run directory, whose `final/`
/// is the trained model) and `--template`.
struct GenerationModel {
    let model: any CausalLanguageModel
    let tokenizer: any Tokenizer
    let format: PromptFormat
    let endTokens: Set<Int>
    /// End-of-turn markers the tokenizer spells with several tokens (a chat family over the byte tokenizer):
    /// generation stops at their text instead.
    let endStrings: [String]
    let source: URL

    /// `--model` as `ModelOrRun` resolves it (a directory, a .gguf, a run or a run's checkpoint), asked in the
    /// prompt format training uses for the same model and `--template` (a run: the format it trained in).
    static func load(modelPath: String, template: String?, option: String = "--model") throws -> GenerationModel {
        let resolved = try ModelOrRun.load(modelPath, option: option)
        let model = resolved.model, tokenizer = resolved.tokenizer, url = resolved.source
        let format = try resolved.promptFormat(template: template)
        var ends: Set<Int> = [tokenizer.eosTokenId]
        var endStrings: [String] = []
        ends.insert(Self.configEOS(model))
        if let marker = format.endOfTurn, !marker.isEmpty {
            let ids = tokenizer.encode(marker)
            if ids.count == 1 { ends.insert(ids[0]) } else { endStrings.append(marker) }
        }
        return GenerationModel(model: model, tokenizer: tokenizer, format: format,
                               endTokens: ends.filter { $0 >= 0 }, endStrings: endStrings, source: url)
    }

    private static func configEOS(_ model: any CausalLanguageModel) -> Int {
        if let m = model as? Llama { return m.config.eosTokenId }
        if let m = model as? GPTNeoX { return m.config.eosTokenId }
        return -1
    }
}

/// The prompts to answer: `--prompt TEXT`, or `--prompts FILE` with one prompt per line, or JSONL objects with a
/// `prompt` field (a line starting with `{`). Blank lines are skipped.
enum PromptList {
    static func read(prompt: String?, file: String?) throws -> [String] {
        switch (prompt, file) {
        case (nil, nil): throw CLIError("give a prompt: --prompt TEXT or --prompts FILE")
        case (.some, .some): throw CLIError("--prompt and --prompts are exclusive; give one")
        case (let p?, nil):
            guard !p.isEmpty else { throw CLIError("--prompt is empty") }
            return [p]
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("--prompts \(path): cannot read the file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CLIError("--prompts \(path): not UTF-8 text")
            }
            return try parse(text, file: path)
        }
    }

    static func parse(_ text: String, file: String) throws -> [String] {
        var prompts = [String]()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            if line.hasPrefix("{") {
                guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                    throw CLIError("\(file):\(index + 1): a line starting with { must be a JSON object")
                }
                guard let prompt = object["prompt"] as? String, !prompt.isEmpty else {
                    throw CLIError("\(file):\(index + 1): expected a non-empty string field \"prompt\"")
                }
                prompts.append(prompt)
            } else {
                prompts.append(line)
            }
        }
        guard !prompts.isEmpty else { throw CLIError("--prompts \(file): no prompts in the file (it is empty or blank)") }
        return prompts
    }
}
