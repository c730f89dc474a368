/// Turns text into token ids and back. Implemented by the byte-level BPE tokenizers (Hugging Face
/// `tokenizer.json`, GPT-2 `encoder.json` + `vocab.bpe`) and the plain byte tokenizer of the built-in presets.
public protocol Tokenizer: Sendable {
    /// Token ids for `text`; special tokens written in the text (e.g. `<|endoftext|>`) map to their ids.
    func encode(_ text: String) -> [Int]
    /// The text of `ids`; decoding the ids of any text gives that text back exactly.
    func decode(_ ids: [Int]) -> String
    /// One more than the largest id this tokenizer can produce.
    var vocabularySize: Int { get }
    /// The end-of-sequence id appended after each response (docs/DESIGN.md §1 token convention).
    var eosTokenId: Int { get }
    /// The id used to fill padded positions; never scored.
    var padTokenId: Int { get }
}
