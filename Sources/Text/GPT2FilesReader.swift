import Foundation
import JSON

extension BPETokenizer {
    /// Loads the original GPT-2 pair: `encoder.json` (token → id) and `vocab.bpe` (a `#version` header, then one
    /// merge `left right` per line). As in GPT2TokenizerFast: no normalizer, no prefix space, and
    /// `<|endoftext|>` (50256) is a special token, the end-of-sequence and the padding token. Throws
    /// `TokenizerError`.
    public convenience init(encoderJSON: URL, merges: URL) throws {
        var definition = BPEDefinition(file: encoderJSON.path)
        definition.mergesFile = merges.path
        let encoder = try TokenizerFiles.json(at: encoderJSON)
        guard let vocabulary = encoder.objectValue else {
            throw TokenizerError(.invalidValue, file: encoderJSON.path, field: "(root)",
                                 expected: "an object mapping token to id", got: encoder.typeName)
        }
        definition.vocabulary.reserveCapacity(vocabulary.count)
        for (token, value) in zip(vocabulary.keys, vocabulary.values) {
            guard let id = value.intValue, id >= 0, id < TokenizerJSONReader.maximumId else {
                throw TokenizerError(.invalidValue, file: encoderJSON.path, field: "[\"\(token)\"]",
                                     expected: "an integer id in 0..<\(TokenizerJSONReader.maximumId)",
                                     got: value.typeName)
            }
            definition.vocabulary.append((token, id))
        }
        definition.merges = try Self.readMerges(merges)
        if let id = vocabulary["<|endoftext|>"]?.intValue {
            definition.addedTokens = [AddedToken(id: id, content: "<|endoftext|>", special: true)]
        }
        try self.init(definition)
    }

    /// The merges of a `vocab.bpe` / `merges.txt` file; lines are numbered as in the file.
    static func readMerges(_ url: URL) throws -> [(left: String, right: String, origin: String)] {
        let bytes = try TokenizerFiles.contents(of: url)
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw TokenizerError(.unreadableFile, file: url.path, field: "(file)", expected: "UTF-8 text",
                                 got: "invalid UTF-8")
        }
        var merges: [(left: String, right: String, origin: String)] = []
        // Bytes, not Characters: "\r\n" is one Character, and a space may combine with a following mark.
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }  // the newline ending the last line
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.last == 0x0D ? rawLine.dropLast() : rawLine
            if line.starts(with: "#version".utf8) { continue }
            let origin = "line \(index + 1)"
            let text = String(decoding: line, as: UTF8.self)
            guard let (left, right) = splitMerge(text) else {
                throw TokenizerError(.malformedMerge, file: url.path, field: origin,
                                     expected: "\"left right\" (two tokens, one space)", got: "\"\(text)\"")
            }
            merges.append((left, right, origin))
        }
        return merges
    }

    /// "left right" split at its one space (byte-wise), or nil when there is not exactly one.
    static func splitMerge(_ line: String) -> (String, String)? {
        let parts = line.utf8.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        return (String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self))
    }
}
