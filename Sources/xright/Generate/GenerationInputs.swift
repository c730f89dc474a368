import Foundation
import Data
import Engine
import GGUF
import Text

/// What `xright generate` runs on: the model, its tokenizer, how a prompt becomes text, and which tokens end a
/// reply. Resolved from `--model` (a Hugging Face directory, a .gguf file, or a run directory, whose `final/`
/// is the trained model) and `--template`.
struct GenerationModel {
    let model: any CausalLanguageModel
    let tokenizer: any Tokenizer
    let format: PromptFormat
    let endTokens: Set<Int>
    let source: URL

    enum PromptFormat {
        case chat(ChatTemplate)
        case plain(PromptTemplate)

        var name: String {
            switch self {
            case .chat(let t): return t.family.rawValue
            case .plain(let t): return t.description
            }
        }

        func render(_ prompt: String) throws -> String {
            switch self {
            case .chat(let t): return try t.renderPrompt(prompt)
            case .plain(let t): return t.apply(to: prompt)
            }
        }

        /// The end-of-turn marker a reply in this format ends with, when it is not the tokenizer's EOS.
        var endOfTurn: String? {
            switch self {
            case .chat(let t):
                switch t.family {
                case .chatML: return "<|im_end|>"
                case .llama3: return "<|eot_id|>"
                default: return t.eosToken
                }
            case .plain: return nil
            }
        }
    }

    /// `--model` as `ModelOrRun` resolves it (a directory, a .gguf, a run or a run's checkpoint); a run is
    /// prompted in the format it trained with unless `--template` says otherwise.
    static func load(modelPath: String, template: String?, option: String = "--model") throws -> GenerationModel {
        let resolved = try ModelOrRun.load(modelPath, option: option)
        let model = resolved.model, tokenizer = resolved.tokenizer, url = resolved.source
        let template = template ?? resolved.runTemplate
        var chat: ChatTemplate?
        if template == nil {
            if let gguf = resolved.gguf { chat = try ChatTemplate.fromGGUF(try GGUFFile(contentsOf: gguf)) }
            else if let directory = resolved.configDirectory { chat = try chatTemplate(inDirectory: directory) }
        }
        let format: PromptFormat
        if let template {
            if let named = ChatTemplate.named(template) { format = .chat(named) }
            else { format = .plain(try PromptTemplate(parsing: template)) }
        } else if let chat {
            format = .chat(chat)
        } else {
            // No chat template: the format xright trains with by default.
            format = .plain(.xright)
        }
        var ends: Set<Int> = [tokenizer.eosTokenId]
        ends.insert(Self.configEOS(model))
        for marker in [format.endOfTurn].compactMap({ $0 }) where !marker.isEmpty {
            let ids = tokenizer.encode(marker)
            if ids.count == 1 { ends.insert(ids[0]) }
        }
        return GenerationModel(model: model, tokenizer: tokenizer, format: format,
                               endTokens: ends.filter { $0 >= 0 }, source: url)
    }

    private static func configEOS(_ model: any CausalLanguageModel) -> Int {
        if let m = model as? Llama { return m.config.eosTokenId }
        if let m = model as? GPTNeoX { return m.config.eosTokenId }
        return -1
    }

    /// tokenizer_config.json's `chat_template` (with its bos/eos tokens), or nil when there is none.
    static func chatTemplate(inDirectory dir: URL) throws -> ChatTemplate? {
        let file = dir.appendingPathComponent("tokenizer_config.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CLIError("\(file.path): not a JSON object")
        }
        guard let template = json["chat_template"] as? String else { return nil }
        func token(_ key: String) -> String {
            if let s = json[key] as? String { return s }
            if let d = json[key] as? [String: Any], let s = d["content"] as? String { return s }
            return ""
        }
        do {
            return try ChatTemplate(recognizing: template, bosToken: token("bos_token"), eosToken: token("eos_token"))
        } catch let error as ChatTemplateError {
            throw CLIError("\(file.path): \(error.message)")
        }
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
