import Foundation
import GGUF

/// Where a model keeps its chat template and the texts of its BOS / EOS tokens, as `transformers` reads them: a
/// GGUF's metadata (`tokenizer.chat_template`, `tokenizer.ggml.bos_token_id` / `eos_token_id`) or a Hugging Face
/// directory's `tokenizer_config.json` (`chat_template`, `bos_token`, `eos_token`).
public struct ModelChatSettings: Equatable, Sendable {
    /// The file the settings were read from, for messages.
    public var source: String
    /// The Jinja template text, when the model has one.
    public var template: String?
    public var bosToken: String?
    public var eosToken: String?

    public init(source: String, template: String?, bosToken: String?, eosToken: String?) {
        self.source = source
        self.template = template
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    /// The settings of the model at `path`: a .gguf file or a model directory (nil when the directory has no
    /// tokenizer_config.json, as the built-in presets' saved models do not).
    public static func read(modelAt path: String) throws -> ModelChatSettings? {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return nil }
        return isDirectory.boolValue ? try read(directory: url) : try read(gguf: url)
    }

    public static func read(gguf url: URL) throws -> ModelChatSettings {
        let file = try GGUFFile(contentsOf: url)
        let info = try GGUFTokenizerInfo(file: file)
        let tokens = try GGUFTokenizerReader(file: file).strings("tokenizer.ggml.tokens") ?? []
        func token(_ id: Int?) -> String? { id.flatMap { $0 >= 0 && $0 < tokens.count ? tokens[$0] : nil } }
        return ModelChatSettings(source: url.path, template: info.chatTemplate, bosToken: token(info.bosTokenId),
                                 eosToken: token(info.eosTokenId))
    }

    /// `tokenizer_config.json` in `directory`, or nil when there is none. The special tokens are strings or
    /// `{"content": …}` objects, as transformers writes them.
    public static func read(directory: URL) throws -> ModelChatSettings? {
        let file = directory.appendingPathComponent("tokenizer_config.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ChatTemplateError("\(file.path): not a JSON object")
        }
        func token(_ key: String) -> String? {
            if let s = json[key] as? String { return s }
            if let d = json[key] as? [String: Any], let s = d["content"] as? String { return s }
            return nil
        }
        let template: String?
        switch json["chat_template"] {
        case nil, is NSNull: template = nil
        case let text as String: template = text
        default:
            throw ChatTemplateError("\(file.path): field \"chat_template\": expected a string (xright does not "
                + "read named template lists); choose a prompt format with --template")
        }
        return ModelChatSettings(source: file.path, template: template, bosToken: token("bos_token"),
                                 eosToken: token("eos_token"))
    }

    /// The model's chat template recognised as a family xright renders, or nil when it has none. An unknown
    /// template is an error naming the file and `--template`.
    public func chatTemplate() throws -> ChatTemplate? {
        guard let template else { return nil }
        do {
            return try ChatTemplate(recognizing: template, bosToken: bosToken ?? "", eosToken: eosToken ?? "")
        } catch let error as ChatTemplateError {
            throw ChatTemplateError("\(source): \(error.message)")
        }
    }
}
