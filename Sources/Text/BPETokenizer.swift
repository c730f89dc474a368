/// A byte-level BPE tokenizer (GPT-2, GPT-NeoX / Pythia) that gives the same ids as Hugging Face `tokenizers`.
///
/// Encoding follows `tokenizers`: added tokens with `normalized: false` (the special tokens) are cut out of the
/// raw text; each remaining stretch is normalized (NFC for Pythia) and tokens with `normalized: true` (Pythia's
/// runs of spaces) are cut out of that; what remains is split by the GPT-2 pattern (`GPT2Split`), each piece is
/// spelled in the byte-level alphabet and merged by rank. Decoding maps tokens back to bytes and reads them as
/// UTF-8, replacing each maximal invalid sequence with U+FFFD (Rust's `from_utf8_lossy`).
///
/// Load one with `init(tokenizerJSON:)`, `init(encoderJSON:merges:)` or `TokenizerLoader.load(path:)`.
/// Thread-safe: concurrent `encode` calls each use their own scratch space and word cache. A class, so
/// passing it around (and calling it through `any Tokenizer`) copies one reference, not its tables.
public final class BPETokenizer: Tokenizer {
    let model: BPEModel
    let normalizer: UnicodeNormalizer
    /// Added tokens matched in the raw text, and those matched in the normalized text.
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher
    let addPrefixSpace: Bool
    let useRegex: Bool
    /// Bytes of every id for decoding: `tokenBytes[tokenOffsets[id] ..< tokenOffsets[id + 1]]`.
    let tokenBytes: [UInt8]
    let tokenOffsets: [Int32]
    let isSpecial: [Bool]
    /// Vocabulary spelling of each id (added tokens: their content), for inspection.
    let spellings: [String?]
    let idsBySpelling: [[UInt8]: Int32]
    let workspaces = EncodeWorkspacePool()
    /// What it was built from, kept so it can be written back out (tokenizer.json, GGUF metadata).
    let definition: BPEDefinition

    public let vocabularySize: Int
    public let eosTokenId: Int
    public let padTokenId: Int
    /// The added tokens (special and not), in the order the file lists them.
    public let addedTokens: [AddedToken]

    init(_ definition: BPEDefinition) throws {
        let tables = try BPETables(definition)
        self.definition = definition
        model = tables.model
        normalizer = tables.normalizer
        rawMatcher = tables.rawMatcher
        normalizedMatcher = tables.normalizedMatcher
        addPrefixSpace = tables.addPrefixSpace
        useRegex = tables.useRegex
        tokenBytes = tables.tokenBytes
        tokenOffsets = tables.tokenOffsets
        isSpecial = tables.isSpecial
        spellings = tables.spellings
        idsBySpelling = tables.idsBySpelling
        vocabularySize = tables.vocabularySize
        eosTokenId = tables.eosTokenId
        padTokenId = tables.padTokenId
        addedTokens = tables.addedTokens
    }

    public func encode(_ text: String) -> [Int] {
        var text = text
        return text.withUTF8 { encode(utf8: $0) }
    }

    /// Token ids of UTF-8 `text` (must be valid UTF-8, as any Swift string's bytes are).
    public func encode(utf8 text: UnsafeBufferPointer<UInt8>) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.count / 3 + 4)
        let workspace = workspaces.acquire()
        defer { workspaces.release(workspace) }
        rawMatcher.split(text) { start, end, id in
            if id >= 0 {
                ids.append(id)
                return
            }
            let stretch = UnsafeBufferPointer(rebasing: text[start..<end])
            if let normalized = normalizer.normalize(stretch) {
                normalized.withUnsafeBufferPointer { encodeNormalized($0, workspace, &ids) }
            } else {
                encodeNormalized(stretch, workspace, &ids)
            }
        }
        return ids
    }

    @inline(__always)
    private func encodeNormalized(_ text: UnsafeBufferPointer<UInt8>, _ workspace: EncodeWorkspace,
                                  _ ids: inout [Int]) {
        normalizedMatcher.split(text) { start, end, id in
            if id >= 0 {
                ids.append(id)
            } else {
                encodePlain(UnsafeBufferPointer(rebasing: text[start..<end]), workspace, &ids)
            }
        }
    }

    /// The ByteLevel pre-tokenizer (optional leading space, GPT-2 split) and the BPE model.
    @inline(__always)
    private func encodePlain(_ text: UnsafeBufferPointer<UInt8>, _ workspace: EncodeWorkspace, _ ids: inout [Int]) {
        if addPrefixSpace, text.first != UInt8(ascii: " ") {
            var prefixed = workspace.prefixed
            workspace.prefixed = []
            prefixed.removeAll(keepingCapacity: true)
            prefixed.append(UInt8(ascii: " "))
            prefixed.append(contentsOf: text)
            prefixed.withUnsafeBufferPointer { splitAndMerge($0, workspace, &ids) }
            workspace.prefixed = prefixed
        } else {
            splitAndMerge(text, workspace, &ids)
        }
    }

    @inline(__always)
    private func splitAndMerge(_ text: UnsafeBufferPointer<UInt8>, _ workspace: EncodeWorkspace, _ ids: inout [Int]) {
        if !useRegex {
            model.encodeWord(text, workspace: workspace, into: &ids)
            return
        }
        GPT2Split.forEachPiece(text) { start, end in
            model.encodeWord(UnsafeBufferPointer(rebasing: text[start..<end]), workspace: workspace, into: &ids)
        }
    }

    public func decode(_ ids: [Int]) -> String {
        decode(ids, skipSpecialTokens: false)
    }

    /// The text of `ids`; ids outside the vocabulary are skipped, as `tokenizers` does.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        tokenBytes.withUnsafeBufferPointer { all in
            tokenOffsets.withUnsafeBufferPointer { offsets in
                for id in ids where id >= 0 && id < vocabularySize {
                    if skipSpecialTokens && isSpecial[id] { continue }
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: all[Int(offsets[id])..<Int(offsets[id + 1])]))
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The vocabulary spelling of `id` (byte-level characters, e.g. "Ġthe"), or an added token's content.
    public func token(for id: Int) -> String? {
        id >= 0 && id < spellings.count ? spellings[id] : nil
    }

    /// The id of a vocabulary spelling or added token content.
    public func tokenId(for token: String) -> Int? {
        if let added = addedTokens.first(where: { $0.content.utf8.elementsEqual(token.utf8) }) { return added.id }
        return idsBySpelling[Array(token.utf8)].map(Int.init)
    }
}
