/// Everything a byte-level BPE tokenizer is made of, as read from its files, before the lookup tables are built.
struct BPEDefinition {
    /// For error messages.
    var file: String
    /// Vocabulary spellings and ids, in file order.
    var vocabulary: [(spelling: String, id: Int)] = []
    /// Merge rules in rank order, each with the field or line it came from (for errors).
    var merges: [(left: String, right: String, origin: String)] = []
    var mergesFile: String? = nil
    var addedTokens: [AddedToken] = []
    var normalization: [UnicodeNormalizationForm] = []
    var addPrefixSpace = false
    var useRegex = true
    var unknownToken: String? = nil
    var fuseUnknown = false
    var ignoreMerges = false
    /// Explicit end-of-sequence / padding tokens; nil picks a conventional one.
    var eosToken: String? = nil
    var padToken: String? = nil

    static let eosCandidates = ["<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>", "<|im_end|>"]
    static let padCandidates = ["<|padding|>", "<|pad|>", "<pad>", "[PAD]"]
}

/// The lookup tables a `BPETokenizer` encodes and decodes with, built and checked from a definition.
struct BPETables {
    let model: BPEModel
    let normalizer: UnicodeNormalizer
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher
    let addPrefixSpace: Bool
    let useRegex: Bool
    let tokenBytes: [UInt8]
    let tokenOffsets: [Int32]
    let isSpecial: [Bool]
    let spellings: [String?]
    let idsBySpelling: [[UInt8]: Int32]
    let vocabularySize: Int
    let eosTokenId: Int
    let padTokenId: Int
    let addedTokens: [AddedToken]

    init(_ definition: BPEDefinition) throws {
        let file = definition.file
        guard !definition.vocabulary.isEmpty else {
            throw TokenizerError(.invalidValue, file: file, field: "model.vocab",
                                 expected: "at least one token", got: "an empty vocabulary")
        }
        var idsBySpelling: [[UInt8]: Int32] = [:]
        idsBySpelling.reserveCapacity(definition.vocabulary.count)
        var largestId = 0
        for (spelling, id) in definition.vocabulary {
            idsBySpelling[Array(spelling.utf8)] = Int32(id)
            largestId = max(largestId, id)
        }
        for token in definition.addedTokens { largestId = max(largestId, token.id) }
        let size = largestId + 1

        let byteIds = ByteLevelAlphabet.scalarForByte.map { scalar in
            idsBySpelling[Array(String(scalar).utf8)] ?? -1
        }

        let mergesFile = definition.mergesFile ?? file
        var merges = MergeTable(capacity: definition.merges.count)
        for (rank, rule) in definition.merges.enumerated() {
            func id(of spelling: String) throws -> Int32 {
                guard let id = idsBySpelling[Array(spelling.utf8)] else {
                    throw TokenizerError(.unknownToken, file: mergesFile, field: rule.origin,
                                         expected: "tokens of the vocabulary", got: "\"\(spelling)\"")
                }
                return id
            }
            let left = try id(of: rule.left)
            let right = try id(of: rule.right)
            let merged = try id(of: rule.left + rule.right)
            merges.insert(left: left, right: right, rank: Int32(rank), merged: merged)
        }

        var unknownId: Int32 = -1
        if let unknown = definition.unknownToken {
            guard let id = idsBySpelling[Array(unknown.utf8)] else {
                throw TokenizerError(.unknownToken, file: file, field: "model.unk_token",
                                     expected: "a token of the vocabulary", got: "\"\(unknown)\"")
            }
            unknownId = id
        }
        var wholeWordIds: [[UInt8]: Int32]? = nil
        if definition.ignoreMerges {
            var table: [[UInt8]: Int32] = [:]
            for (spelling, id) in definition.vocabulary {
                if let bytes = ByteLevelAlphabet.bytes(ofSpelling: spelling) { table[bytes] = Int32(id) }
            }
            wholeWordIds = table
        }
        model = BPEModel(byteIds: byteIds, merges: merges, unknownId: unknownId,
                         fuseUnknown: definition.fuseUnknown, wholeWordIds: wholeWordIds)

        // Decoding table: a vocabulary token is spelled in the byte-level alphabet; an added token's content is
        // plain text unless every character of it is in the alphabet (the ByteLevel decoder's rule).
        var spellings = [String?](repeating: nil, count: size)
        for (spelling, id) in definition.vocabulary { spellings[id] = spelling }
        var special = [Bool](repeating: false, count: size)
        for token in definition.addedTokens {
            spellings[token.id] = token.content
            special[token.id] = token.special
        }
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(size + 1)
        for spelling in spellings {
            if let spelling {
                bytes.append(contentsOf: ByteLevelAlphabet.bytes(ofSpelling: spelling) ?? Array(spelling.utf8))
            }
            offsets.append(Int32(bytes.count))
        }

        let normalizer = UnicodeNormalizer(forms: definition.normalization)
        var raw: [(token: AddedToken, matchText: [UInt8])] = []
        var normalized: [(token: AddedToken, matchText: [UInt8])] = []
        // Special tokens first, then the others, each in file order: the order `tokenizers` builds its matchers in.
        for token in definition.addedTokens.filter(\.special) + definition.addedTokens.filter({ !$0.special }) {
            let content = Array(token.content.utf8)
            if token.normalized {
                let text = content.withUnsafeBufferPointer { normalizer.normalize($0) } ?? content
                normalized.append((token, text))
            } else {
                raw.append((token, content))
            }
        }

        func find(_ wanted: String) -> Int? {
            if let token = definition.addedTokens.first(where: { $0.content.utf8.elementsEqual(wanted.utf8) }) {
                return token.id
            }
            return idsBySpelling[Array(wanted.utf8)].map(Int.init)
        }
        func pick(_ explicit: String?, _ candidates: [String], _ role: String) throws -> Int? {
            if let explicit {
                guard let id = find(explicit) else {
                    throw TokenizerError(.unknownToken, file: file, field: "\(role) token",
                                         expected: "an added token or vocabulary token", got: "\"\(explicit)\"")
                }
                return id
            }
            return candidates.lazy.compactMap(find).first
        }
        guard let eos = try pick(definition.eosToken, BPEDefinition.eosCandidates, "end-of-sequence") else {
            throw TokenizerError(.missingField, file: file, field: "added_tokens",
                                 expected: "an end-of-sequence token (one of \(BPEDefinition.eosCandidates.joined(separator: " ")))",
                                 got: "none of them")
        }
        let pad = try pick(definition.padToken, BPEDefinition.padCandidates, "padding") ?? eos

        self.normalizer = normalizer
        self.rawMatcher = AddedTokenMatcher(raw)
        self.normalizedMatcher = AddedTokenMatcher(normalized)
        self.addPrefixSpace = definition.addPrefixSpace
        self.useRegex = definition.useRegex
        self.tokenBytes = bytes
        self.tokenOffsets = offsets
        self.isSpecial = special
        self.spellings = spellings
        self.idsBySpelling = idsBySpelling
        self.vocabularySize = size
        self.eosTokenId = eos
        self.padTokenId = pad
        self.addedTokens = definition.addedTokens
    }
}
