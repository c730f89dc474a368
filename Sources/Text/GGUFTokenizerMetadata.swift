import GGUF

/// A tokenizer as the `tokenizer.*` metadata of a GGUF (docs/GGUF.md, "Tokenizer"): what `BPETokenizer(gguf:)`
/// and llama.cpp read back. Byte-level BPE split like GPT-2 is the one kind GGUF can describe exactly here;
/// the byte tokenizer of the presets is one (256 byte tokens, no merges).
public enum GGUFTokenizerMetadata {
    /// `tokenizer.ggml.token_type` values (llama.cpp's LLAMA_TOKEN_TYPE_*).
    static let normal: Int32 = 1, control: Int32 = 3, userDefined: Int32 = 4, unused: Int32 = 5

    /// The metadata entries, in the order llama.cpp's converter writes them. `vocabularySize` is the model's
    /// (ids the tokenizer never produces are listed as unused `[PADn]` tokens so every embedding row has one);
    /// `preTokenizer` is llama.cpp's split name ("gpt-2" unless the source GGUF said otherwise).
    public static func entries(_ tokenizer: any Tokenizer, extras: HuggingFaceTokenizerFiles.Extras,
                               vocabularySize: Int, preTokenizer: String? = nil) throws -> [(key: String, value: GGUFValue)] {
        let bpe: BPETokenizer
        if let given = tokenizer as? BPETokenizer {
            bpe = given
        } else if tokenizer is ByteTokenizer {
            // The same ids as a BPE without merges: 256 byte tokens, then its two special tokens.
            var definition = BPEDefinition(file: "byte tokenizer")
            definition.vocabulary = (0...255).map { (ByteLevelAlphabet.spelling(of: [UInt8($0)]), $0) }
            definition.addedTokens = [AddedToken(id: 256, content: ByteTokenizer.endOfText, special: true),
                                      AddedToken(id: 257, content: ByteTokenizer.padding, special: true)]
            definition.eosToken = ByteTokenizer.endOfText
            definition.padToken = ByteTokenizer.padding
            bpe = try BPETokenizer(definition)
        } else {
            throw TokenizerError(.unsupported, file: "(GGUF export)", field: "tokenizer", expected: "a byte-level BPE",
                                 got: "\(type(of: tokenizer))")
        }
        let d = bpe.definition
        if !d.normalization.isEmpty || d.addPrefixSpace || (!d.useRegex && !d.merges.isEmpty) || d.ignoreMerges {
            throw TokenizerError(.unsupported, file: d.file, field: "normalizer/pre_tokenizer",
                                 expected: "a byte-level BPE split like GPT-2 without normalization (what GGUF's "
                                     + "\"gpt2\" tokenizer model describes)",
                                 got: "normalization \(d.normalization.map(\.rawValue)), add_prefix_space "
                                     + "\(d.addPrefixSpace), use_regex \(d.useRegex), ignore_merges \(d.ignoreMerges)")
        }
        guard bpe.vocabularySize <= vocabularySize else {
            throw TokenizerError(.invalidValue, file: d.file, field: "vocabulary",
                                 expected: "at most the model's \(vocabularySize) ids", got: "\(bpe.vocabularySize)")
        }
        var tokens = [GGUFValue](), types = [GGUFValue]()
        tokens.reserveCapacity(vocabularySize)
        types.reserveCapacity(vocabularySize)
        let added = Dictionary(d.addedTokens.map { ($0.id, $0) }) { first, _ in first }
        for id in 0..<vocabularySize {
            if let token = added[id] {
                tokens.append(.string(token.content))
                types.append(.int32(token.special ? control : userDefined))
            } else if let spelling = bpe.token(for: id) {
                tokens.append(.string(spelling))
                types.append(.int32(normal))
            } else {
                tokens.append(.string("[PAD\(id)]"))
                types.append(.int32(unused))
            }
        }
        var entries: [(key: String, value: GGUFValue)] = [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string(preTokenizer ?? "gpt-2")),
            ("tokenizer.ggml.tokens", .array(tokens)),
            ("tokenizer.ggml.token_type", .array(types)),
            ("tokenizer.ggml.merges", .array(d.merges.map { .string("\($0.left) \($0.right)") })),
        ]
        if let bos = extras.bosTokenId { entries.append(("tokenizer.ggml.bos_token_id", .uint32(UInt32(bos)))) }
        entries.append(("tokenizer.ggml.eos_token_id", .uint32(UInt32(bpe.eosTokenId))))
        if let unk = extras.unknownTokenId { entries.append(("tokenizer.ggml.unknown_token_id", .uint32(UInt32(unk)))) }
        entries.append(("tokenizer.ggml.padding_token_id", .uint32(UInt32(bpe.padTokenId))))
        entries.append(("tokenizer.ggml.add_bos_token", .bool(extras.addsBOSToken)))
        entries.append(("tokenizer.ggml.add_eos_token", .bool(false)))
        if let template = extras.chatTemplate { entries.append(("tokenizer.chat_template", .string(template))) }
        return entries
    }
}
