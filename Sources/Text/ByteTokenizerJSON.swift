import Foundation

extension ByteTokenizer {
    /// The byte tokenizer as a Hugging Face `tokenizer.json`: byte-level BPE whose 256 single-byte tokens have the
    /// byte's value as id, no merges, and the two specials as added tokens. Written into a trained model's
    /// directory so it carries its tokenizer like any other (`xright score --model final`, `transformers`); it
    /// encodes every text to the ids `ByteTokenizer` gives.
    public static func tokenizerJSON() throws -> Data {
        var vocabulary = [String: Int]()
        for byte in 0...255 { vocabulary[ByteLevelAlphabet.spelling(of: [UInt8(byte)])] = byte }
        func special(_ id: Int, _ content: String) -> [String: Any] {
            ["id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true]
        }
        // No regex split: without merges every byte is its own token whatever the pre-tokenizer splits.
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false]
        let root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": [special(256, endOfText), special(257, padding)],
            "normalizer": NSNull(), "pre_tokenizer": byteLevel, "post_processor": NSNull(), "decoder": byteLevel,
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocabulary, "merges": [String]()] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
    }
}
