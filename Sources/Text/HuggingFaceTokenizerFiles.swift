import Foundation
import GGUF

/// Writes `tokenizer.json` and `tokenizer_config.json` beside saved weights, so that
/// `transformers.AutoTokenizer.from_pretrained(dir)` gives the ids xright's tokenizer gives, with the chat
/// template and the bos/eos/pad tokens (docs/GGUF.md, "Saving").
///
/// A tokenizer that came from a `tokenizer.json` is copied as it was (with its `tokenizer_config.json` when one
/// sits beside it); one from a GGUF's metadata or GPT-2's `encoder.json` + `vocab.bpe` is written out from the
/// vocabulary, merges and added tokens it was built from; the byte tokenizer writes its own description.
public enum HuggingFaceTokenizerFiles {
    /// What a tokenizer_config.json says besides the tokenizer itself.
    public struct Extras: Equatable, Sendable {
        public var chatTemplate: String?
        public var bosTokenId: Int?
        public var unknownTokenId: Int?
        /// The source's `add_bos_token`, recorded in tokenizer_config.json.
        public var addsBOSToken: Bool
        public var modelMaxLength: Int?

        public init(chatTemplate: String? = nil, bosTokenId: Int? = nil, unknownTokenId: Int? = nil,
                    addsBOSToken: Bool = false, modelMaxLength: Int? = nil) {
            self.chatTemplate = chatTemplate
            self.bosTokenId = bosTokenId
            self.unknownTokenId = unknownTokenId
            self.addsBOSToken = addsBOSToken
            self.modelMaxLength = modelMaxLength
        }

        /// What a GGUF's metadata says.
        public init(gguf info: GGUFTokenizerInfo, modelMaxLength: Int? = nil) {
            self.init(chatTemplate: info.chatTemplate, bosTokenId: info.bosTokenId, unknownTokenId: info.unknownTokenId,
                      addsBOSToken: info.addsBOSToken, modelMaxLength: modelMaxLength)
        }
    }

    /// Writes both files for `tokenizer`, loaded from `source` (what `TokenizerLoader.load(path:)` took: `byte`, a
    /// tokenizer.json, a directory or a .gguf file; nil for the byte tokenizer of the presets). `chatTemplate`
    /// overrides the source's (nil keeps it). Throws `TokenizerError` naming the file that cannot be written.
    public static func write(_ tokenizer: any Tokenizer, source: String?, to directory: URL,
                             chatTemplate: String? = nil, modelMaxLength: Int? = nil) throws {
        let tokenizerOut = directory.appendingPathComponent("tokenizer.json")
        let configOut = directory.appendingPathComponent("tokenizer_config.json")
        var extras = Extras(modelMaxLength: modelMaxLength)
        var copiedConfig: URL?
        if let source, source != TokenizerLoader.byteTokenizerName {
            let url = URL(fileURLWithPath: source)
            if url.pathExtension.lowercased() == "gguf", !isDirectory(url) {
                let file: GGUFFile
                do { file = try GGUFFile(contentsOf: url) } catch let error as GGUFError {
                    throw TokenizerError(.unreadableFile, file: source, field: "(file)", expected: "a GGUF file", got: error.message)
                }
                extras = Extras(gguf: try GGUFTokenizerInfo(file: file), modelMaxLength: modelMaxLength)
                try save(try tokenizerJSON(tokenizer), to: tokenizerOut)
            } else {
                let json = isDirectory(url) ? url.appendingPathComponent("tokenizer.json") : url
                let folder = isDirectory(url) ? url : url.deletingLastPathComponent()
                if FileManager.default.fileExists(atPath: json.path) {
                    try copy(json, to: tokenizerOut)
                    let config = folder.appendingPathComponent("tokenizer_config.json")
                    if FileManager.default.fileExists(atPath: config.path) { copiedConfig = config }
                } else {
                    try save(try tokenizerJSON(tokenizer), to: tokenizerOut)
                }
            }
        } else {
            try save(try tokenizerJSON(tokenizer), to: tokenizerOut)
        }
        if let copiedConfig, chatTemplate == nil {
            try copy(copiedConfig, to: configOut)
            return
        }
        if chatTemplate != nil { extras.chatTemplate = chatTemplate }
        try save(try tokenizerConfig(tokenizer, extras: extras), to: configOut)
    }

    /// tokenizer.json text (the `tokenizers` library's format) for a BPE or byte tokenizer.
    public static func tokenizerJSON(_ tokenizer: any Tokenizer) throws -> Data {
        if tokenizer is ByteTokenizer { return try ByteTokenizer.tokenizerJSON() }
        guard let bpe = tokenizer as? BPETokenizer else {
            throw TokenizerError(.unsupported, file: "tokenizer.json", field: "(tokenizer)",
                                 expected: "a byte-level BPE or the byte tokenizer", got: "\(type(of: tokenizer))")
        }
        let d = bpe.definition
        var vocabulary: [String: Int] = [:]
        for (spelling, id) in d.vocabulary { vocabulary[spelling] = id }
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": d.addPrefixSpace,
                                        "trim_offsets": true, "use_regex": d.useRegex]
        let normalizer: Any
        switch d.normalization.count {
        case 0: normalizer = NSNull()
        case 1: normalizer = ["type": d.normalization[0].rawValue]
        default: normalizer = ["type": "Sequence", "normalizers": d.normalization.map { ["type": $0.rawValue] }]
        }
        // No BOS template: xright's `encode` never adds one, and these files must give its ids (a GGUF's
        // add_bos_token is kept in tokenizer_config.json for the tools that act on it).
        let postProcessor: [String: Any] = ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false,
                                            "use_regex": true]
        let root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": d.addedTokens.map(addedTokenJSON),
            "normalizer": normalizer, "pre_tokenizer": byteLevel, "post_processor": postProcessor,
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": d.unknownToken.map { $0 as Any } ?? NSNull(),
                      "continuing_subword_prefix": NSNull(), "end_of_word_suffix": NSNull(), "fuse_unk": d.fuseUnknown,
                      "byte_fallback": false, "ignore_merges": d.ignoreMerges, "vocab": vocabulary,
                      "merges": d.merges.map { [$0.left, $0.right] }] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
    }

    /// tokenizer_config.json: the fast tokenizer class (which reads tokenizer.json as it is), the special tokens
    /// by content, the chat template, and every added token under `added_tokens_decoder`.
    public static func tokenizerConfig(_ tokenizer: any Tokenizer, extras: Extras = Extras()) throws -> Data {
        let added: [AddedToken]
        let content: (Int) -> String?
        if let bpe = tokenizer as? BPETokenizer {
            added = bpe.addedTokens
            content = { bpe.token(for: $0) }
        } else if tokenizer is ByteTokenizer {
            added = [AddedToken(id: 256, content: ByteTokenizer.endOfText, special: true),
                     AddedToken(id: 257, content: ByteTokenizer.padding, special: true)]
            content = { id in added.first { $0.id == id }?.content }
        } else {
            throw TokenizerError(.unsupported, file: "tokenizer_config.json", field: "(tokenizer)",
                                 expected: "a byte-level BPE or the byte tokenizer", got: "\(type(of: tokenizer))")
        }
        var config: [String: Any] = [
            "tokenizer_class": "PreTrainedTokenizerFast",
            "clean_up_tokenization_spaces": false,
            "add_bos_token": extras.addsBOSToken, "add_eos_token": false,
            "added_tokens_decoder": Dictionary(added.map { (String($0.id), addedTokenJSON($0).filter { $0.key != "id" }) },
                                               uniquingKeysWith: { first, _ in first }),
        ]
        config["eos_token"] = content(tokenizer.eosTokenId)
        config["pad_token"] = content(tokenizer.padTokenId)
        if let bos = extras.bosTokenId.flatMap(content) { config["bos_token"] = bos }
        if let unk = extras.unknownTokenId.flatMap(content) { config["unk_token"] = unk }
        if let template = extras.chatTemplate { config["chat_template"] = template }
        if let length = extras.modelMaxLength { config["model_max_length"] = length }
        return try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
    }

    private static func addedTokenJSON(_ token: AddedToken) -> [String: Any] {
        ["id": token.id, "content": token.content, "single_word": token.singleWord, "lstrip": token.lstrip,
         "rstrip": token.rstrip, "normalized": token.normalized, "special": token.special]
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &flag) && flag.boolValue
    }

    private static func save(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw TokenizerError(.unreadableFile, file: url.path, field: "(file)", expected: "a writable location",
                                 got: error.localizedDescription)
        }
    }

    private static func copy(_ source: URL, to destination: URL) throws {
        if source.standardizedFileURL == destination.standardizedFileURL { return }
        let data: Data
        do { data = try Data(contentsOf: source) } catch {
            throw TokenizerError(.unreadableFile, file: source.path, field: "(file)", expected: "a readable file",
                                 got: error.localizedDescription)
        }
        try save(data, to: destination)
    }
}
