import Foundation
import GGUF

/// What a GGUF's metadata says about its tokenizer besides the vocabulary (docs/GGUF.md, "Tokenizer").
public struct GGUFTokenizerInfo: Equatable, Sendable {
    /// `tokenizer.ggml.model`: "gpt2" (byte-level BPE) is the one supported.
    public var model: String
    /// `tokenizer.ggml.pre`: llama.cpp's name for the pre-tokenizer ("smollm", "llama-bpe", "qwen2", ...).
    public var preTokenizer: String?
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var padTokenId: Int?
    public var unknownTokenId: Int?
    /// Whether the model expects BOS / EOS around each encoded text (`tokenizer.ggml.add_bos_token`, ...).
    public var addsBOSToken: Bool
    public var addsEOSToken: Bool
    /// `tokenizer.chat_template` (Jinja text), when the file has one.
    public var chatTemplate: String?

    public init(file: GGUFFile) throws {
        let reader = GGUFTokenizerReader(file: file)
        model = try reader.string("tokenizer.ggml.model") ?? ""
        preTokenizer = try reader.string("tokenizer.ggml.pre")
        bosTokenId = try reader.integer("tokenizer.ggml.bos_token_id")
        eosTokenId = try reader.integer("tokenizer.ggml.eos_token_id")
        padTokenId = try reader.integer("tokenizer.ggml.padding_token_id")
        unknownTokenId = try reader.integer("tokenizer.ggml.unknown_token_id")
        addsBOSToken = try reader.bool("tokenizer.ggml.add_bos_token") ?? false
        addsEOSToken = try reader.bool("tokenizer.ggml.add_eos_token") ?? false
        chatTemplate = try reader.string("tokenizer.chat_template")
    }
}

extension BPETokenizer {
    /// Builds the byte-level BPE tokenizer a GGUF's metadata describes (`tokenizer.ggml.model` = "gpt2"), giving
    /// the ids `transformers` gives for `AutoTokenizer.from_pretrained(dir, gguf_file=...)`:
    /// - the vocabulary is `tokenizer.ggml.tokens` (id = index); a token with characters outside the byte-level
    ///   alphabet is respelled from its UTF-8 bytes; the merges are `tokenizer.ggml.merges` ("left right");
    /// - tokens typed CONTROL (3) in `tokenizer.ggml.token_type` are special added tokens, USER_DEFINED (4) are
    ///   plain added tokens, both matched whole in the raw text;
    /// - text is split by the GPT-2 pattern, as transformers does for every `tokenizer.ggml.pre` it has no
    ///   other pattern for ("smollm", "gpt-2", "default", ...). Files whose pre-tokenizer transformers splits
    ///   differently (Llama 3, Qwen2, GPT-4o, Tekken, ...) are rejected, naming the key, rather than tokenized
    ///   differently.
    /// End of sequence and padding come from `eos_token_id` / `padding_token_id` (padding defaults to EOS).
    /// No BOS is prepended by `encode`; see `GGUFTokenizerInfo.addsBOSToken`. Throws `TokenizerError`.
    public convenience init(gguf file: GGUFFile) throws {
        let reader = GGUFTokenizerReader(file: file)
        let path = file.url.path
        let info = try GGUFTokenizerInfo(file: file)
        guard info.model == "gpt2" else {
            throw TokenizerError(.unsupported, file: path, field: "tokenizer.ggml.model",
                                 expected: "\"gpt2\" (byte-level BPE)",
                                 got: info.model.isEmpty ? "nothing" : "\"\(info.model)\"")
        }
        if let pre = info.preTokenizer, Self.ggufSplitsOtherThanGPT2.contains(pre) {
            throw TokenizerError(.unsupported, file: path, field: "tokenizer.ggml.pre",
                                 expected: "a pre-tokenizer that splits like GPT-2 (e.g. \"smollm\", \"gpt-2\", "
                                     + "\"default\")",
                                 got: "\"\(pre)\", whose split pattern this tokenizer does not implement")
        }
        guard let tokens = try reader.strings("tokenizer.ggml.tokens"), !tokens.isEmpty else {
            throw TokenizerError(.missingField, file: path, field: "tokenizer.ggml.tokens",
                                 expected: "the vocabulary (an array of strings)", got: "nothing")
        }
        guard tokens.count < TokenizerJSONReader.maximumId else {
            throw TokenizerError(.invalidValue, file: path, field: "tokenizer.ggml.tokens",
                                 expected: "fewer than \(TokenizerJSONReader.maximumId) tokens", got: "\(tokens.count)")
        }
        let types = try reader.integers("tokenizer.ggml.token_type") ?? []
        guard types.isEmpty || types.count == tokens.count else {
            throw TokenizerError(.invalidValue, file: path, field: "tokenizer.ggml.token_type",
                                 expected: "one type per token (\(tokens.count))", got: "\(types.count) types")
        }

        var definition = BPEDefinition(file: path)
        definition.vocabulary.reserveCapacity(tokens.count)
        var idBySpelling: [String: Int] = [:]
        for (id, token) in tokens.enumerated() {
            let spelling = ByteLevelAlphabet.bytes(ofSpelling: token) != nil
                ? token : ByteLevelAlphabet.spelling(of: token.utf8)
            definition.vocabulary.append((spelling, id))
            idBySpelling[spelling] = id  // a repeated spelling keeps its last id, as a Python dict does
        }
        let merges = try reader.strings("tokenizer.ggml.merges") ?? []
        definition.merges = try merges.enumerated().map { index, line in
            let field = "tokenizer.ggml.merges[\(index)]"
            guard let (left, right) = BPETokenizer.splitMerge(line) else {
                throw TokenizerError(.malformedMerge, file: path, field: field,
                                     expected: "\"left right\" (two tokens, one space)", got: "\"\(line)\"")
            }
            return (left, right, field)
        }
        // CONTROL tokens spelled in the byte-level alphabet become special tokens, USER_DEFINED tokens plain
        // added tokens (transformers skips control tokens spelled otherwise: llama.cpp mislabels).
        var special: [AddedToken] = []
        var userDefined: [AddedToken] = []
        for (index, type) in types.enumerated() {
            let token = tokens[index]
            if type == 3, ByteLevelAlphabet.bytes(ofSpelling: token) != nil, let id = idBySpelling[token] {
                special.append(AddedToken(id: id, content: token, special: true, normalized: false))
            } else if type == 4, let id = idBySpelling[token] {
                userDefined.append(AddedToken(id: id, content: token, special: false, normalized: false))
            }
        }
        definition.addedTokens = special + userDefined
        for (index, id) in [info.eosTokenId, info.padTokenId].enumerated() {
            guard let id else { continue }
            let key = index == 0 ? "tokenizer.ggml.eos_token_id" : "tokenizer.ggml.padding_token_id"
            guard id >= 0, id < tokens.count else {
                throw TokenizerError(.invalidValue, file: path, field: key,
                                     expected: "a token id below \(tokens.count)", got: "\(id)")
            }
            if index == 0 { definition.eosToken = tokens[id] } else { definition.padToken = tokens[id] }
        }
        if definition.padToken == nil { definition.padToken = definition.eosToken }
        try self.init(definition)
    }

    /// Loads the tokenizer of the GGUF file at `url`.
    public convenience init(ggufFile url: URL) throws {
        let file: GGUFFile
        do {
            file = try GGUFFile(contentsOf: url)
        } catch let error as GGUFError {
            throw TokenizerError(.unreadableFile, file: url.path, field: "(file)", expected: "a GGUF file",
                                 got: error.message)
        }
        try self.init(gguf: file)
    }

    /// `tokenizer.ggml.pre` values for which transformers splits text with a pattern other than GPT-2's
    /// (transformers' GGUF_PRE_TOKENIZER_SPLITS).
    static let ggufSplitsOtherThanGPT2: Set<String> = [
        "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano",
        "dbrx", "smaug-bpe", "tekken", "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "qwen35",
        "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2",
    ]
}

/// Metadata access that reports a wrong type as a `TokenizerError` naming the key.
struct GGUFTokenizerReader {
    let file: GGUFFile

    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as GGUFError {
            // "metadata 'key': expected X, found Y" → field key, expected X, got Y.
            let message = error.message
            let key = message.split(separator: "'").dropFirst().first.map(String.init) ?? "(metadata)"
            let parts = message.components(separatedBy: ": expected ")
            let detail = parts.count > 1 ? parts[1].components(separatedBy: ", found ") : [message]
            throw TokenizerError(.invalidValue, file: file.url.path, field: key,
                                 expected: detail[0], got: detail.count > 1 ? detail[1] : "another type")
        }
    }

    func string(_ key: String) throws -> String? { try wrap { try file.string(key) } }
    func integer(_ key: String) throws -> Int? { try wrap { try file.integer(key) } }
    func bool(_ key: String) throws -> Bool? { try wrap { try file.bool(key) } }
    func strings(_ key: String) throws -> [String]? { try wrap { try file.strings(key) } }
    func integers(_ key: String) throws -> [Int]? { try wrap { try file.integers(key) } }
}
