import Foundation

/// Loads "whatever is at this path": the name `byte`, a `tokenizer.json` file, a GGUF model file (its metadata's
/// tokenizer), a directory holding a `tokenizer.json`, or a directory holding the GPT-2 pair `encoder.json` +
/// `vocab.bpe`.
public enum TokenizerLoader {
    public static let byteTokenizerName = "byte"

    /// Throws `TokenizerError` naming the path and what was found there.
    public static func load(path: String) throws -> any Tokenizer {
        if path == byteTokenizerName { return ByteTokenizer() }
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerError(.unreadableFile, file: path, field: "(path)",
                                 expected: "a tokenizer.json file, a directory holding one (or encoder.json + vocab.bpe), or the name 'byte'",
                                 got: "nothing at this path")
        }
        guard isDirectory.boolValue else {
            if url.pathExtension.lowercased() == "gguf" { return try BPETokenizer(ggufFile: url) }
            return try BPETokenizer(tokenizerJSON: url)
        }

        let tokenizerJSON = url.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: tokenizerJSON.path) {
            return try BPETokenizer(tokenizerJSON: tokenizerJSON)
        }
        let encoder = url.appendingPathComponent("encoder.json")
        let merges = url.appendingPathComponent("vocab.bpe")
        let hasEncoder = FileManager.default.fileExists(atPath: encoder.path)
        let hasMerges = FileManager.default.fileExists(atPath: merges.path)
        if hasEncoder && hasMerges { return try BPETokenizer(encoderJSON: encoder, merges: merges) }
        let found: String
        if hasEncoder {
            found = "encoder.json without vocab.bpe"
        } else if hasMerges {
            found = "vocab.bpe without encoder.json"
        } else {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path))?.sorted() ?? []
            found = names.isEmpty ? "an empty directory"
                : "only " + names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", ..." : "")
        }
        throw TokenizerError(.unreadableFile, file: path, field: "(directory)",
                             expected: "tokenizer.json, or encoder.json + vocab.bpe", got: found)
    }
}
