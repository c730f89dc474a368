import Foundation
import JSON

/// Reads a Hugging Face `tokenizer.json` holding a byte-level BPE model into a `BPEDefinition`, rejecting
/// anything that would make our ids differ from those of `tokenizers` (another model type, a pre-tokenizer
/// other than ByteLevel, truncation or padding, ...) with an error naming the field.
struct TokenizerJSONReader {
    let file: String

    /// Ids beyond this are taken for corruption rather than allocated for.
    static let maximumId = 1 << 24

    func read(_ root: JSONValue) throws -> BPEDefinition {
        var definition = BPEDefinition(file: file)
        let top = try object(root, "(root)")

        for field in ["truncation", "padding"] {
            if let value = top[field], !value.isNull {
                throw TokenizerError(.unsupported, file: file, field: field, expected: "null",
                                     got: "\(value.typeName) (encoding must not truncate or pad)")
            }
        }

        let model = try object(try required(top, "model", in: ""), "model")
        if let type = model["type"] {
            let name = try string(type, "model.type")
            guard name == "BPE" else {
                throw TokenizerError(.unsupported, file: file, field: "model.type", expected: "\"BPE\"", got: "\"\(name)\"")
            }
        }
        let vocab = try object(try required(model, "vocab", in: "model"), "model.vocab")
        definition.vocabulary.reserveCapacity(vocab.count)
        for (key, value) in zip(vocab.keys, vocab.values) {
            definition.vocabulary.append((key, try id(value, "model.vocab[\"\(key)\"]")))
        }
        let merges = try array(try required(model, "merges", in: "model"), "model.merges")
        definition.merges.reserveCapacity(merges.count)
        for (index, merge) in merges.enumerated() {
            definition.merges.append(try mergeRule(merge, "model.merges[\(index)]"))
        }
        try readModelOptions(model, into: &definition)

        try readNormalizer(top["normalizer"], "normalizer", into: &definition.normalization)
        try readPreTokenizer(top["pre_tokenizer"], into: &definition)
        try expectByteLevelOrNull(top["decoder"], "decoder")
        try expectByteLevelOrNull(top["post_processor"], "post_processor")

        if let added = top["added_tokens"], !added.isNull {
            for (index, entry) in try array(added, "added_tokens").enumerated() {
                definition.addedTokens.append(try addedToken(entry, "added_tokens[\(index)]"))
            }
        }
        try checkIdsAreUnique(definition)
        return definition
    }

    /// One id, one token: two spellings sharing an id would decode ambiguously and encode to ids another
    /// reader would not produce. An added token may repeat its vocabulary entry (same id, same text).
    private func checkIdsAreUnique(_ definition: BPEDefinition) throws {
        var spellingOf = [Int: String]()
        spellingOf.reserveCapacity(definition.vocabulary.count)
        for (spelling, id) in definition.vocabulary {
            if let earlier = spellingOf.updateValue(spelling, forKey: id) {
                throw TokenizerError(.invalidValue, file: file, field: "model.vocab[\"\(spelling)\"]",
                                     expected: "an id no other token has", got: "\(id), already the id of \"\(earlier)\"")
            }
        }
        for (index, token) in definition.addedTokens.enumerated() {
            if let earlier = spellingOf[token.id], earlier != token.content {
                throw TokenizerError(.invalidValue, file: file, field: "added_tokens[\(index)].id",
                                     expected: "an id no other token has (or its own vocabulary entry's)",
                                     got: "\(token.id), already the id of \"\(earlier)\" (this token is \"\(token.content)\")")
            }
            spellingOf[token.id] = token.content
        }
    }

    private func readModelOptions(_ model: JSONObject, into definition: inout BPEDefinition) throws {
        if let dropout = model["dropout"], !dropout.isNull {
            guard dropout.doubleValue == 0 else {
                throw TokenizerError(.unsupported, file: file, field: "model.dropout",
                                     expected: "null (dropout is for training)", got: describe(dropout))
            }
        }
        for field in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = model[field], !value.isNull {
                let text = try string(value, "model.\(field)")
                guard text.isEmpty else {
                    throw TokenizerError(.unsupported, file: file, field: "model.\(field)",
                                         expected: "null (byte-level BPE)", got: "\"\(text)\"")
                }
            }
        }
        if let value = model["byte_fallback"], try bool(value, "model.byte_fallback") {
            throw TokenizerError(.unsupported, file: file, field: "model.byte_fallback",
                                 expected: "false (byte-level BPE)", got: "true")
        }
        if let value = model["unk_token"], !value.isNull { definition.unknownToken = try string(value, "model.unk_token") }
        if let value = model["fuse_unk"] { definition.fuseUnknown = try bool(value, "model.fuse_unk") }
        if let value = model["ignore_merges"] { definition.ignoreMerges = try bool(value, "model.ignore_merges") }
    }

    private func readNormalizer(_ value: JSONValue?, _ path: String,
                                into forms: inout [UnicodeNormalizationForm]) throws {
        guard let value, !value.isNull else { return }
        let normalizer = try object(value, path)
        let type = try string(try required(normalizer, "type", in: path), "\(path).type")
        if let form = UnicodeNormalizationForm(rawValue: type) {
            forms.append(form)
            return
        }
        guard type == "Sequence" else {
            throw TokenizerError(.unsupported, file: file, field: "\(path).type",
                                 expected: "NFC, NFD, NFKC, NFKD, Sequence or null", got: "\"\(type)\"")
        }
        let steps = try array(try required(normalizer, "normalizers", in: path), "\(path).normalizers")
        for (index, step) in steps.enumerated() {
            try readNormalizer(step, "\(path).normalizers[\(index)]", into: &forms)
        }
    }

    private func readPreTokenizer(_ value: JSONValue?, into definition: inout BPEDefinition) throws {
        let path = "pre_tokenizer"
        guard let value, !value.isNull else {
            throw TokenizerError(.unsupported, file: file, field: path, expected: "a ByteLevel pre-tokenizer", got: "null")
        }
        var step = try object(value, path)
        var stepPath = path
        let type = try string(try required(step, "type", in: path), "\(path).type")
        if type == "Sequence" {
            let steps = try array(try required(step, "pretokenizers", in: path), "\(path).pretokenizers")
            guard steps.count == 1 else {
                throw TokenizerError(.unsupported, file: file, field: "\(path).pretokenizers",
                                     expected: "a single ByteLevel step", got: "\(steps.count) steps")
            }
            stepPath = "\(path).pretokenizers[0]"
            step = try object(steps[0], stepPath)
        }
        let stepType = try string(try required(step, "type", in: stepPath), "\(stepPath).type")
        guard stepType == "ByteLevel" else {
            throw TokenizerError(.unsupported, file: file, field: "\(stepPath).type",
                                 expected: "\"ByteLevel\"", got: "\"\(stepType)\"")
        }
        // Defaults of `tokenizers`' ByteLevel: add_prefix_space true, use_regex true.
        definition.addPrefixSpace = try step["add_prefix_space"].map { try bool($0, "\(stepPath).add_prefix_space") } ?? true
        definition.useRegex = try step["use_regex"].map { try bool($0, "\(stepPath).use_regex") } ?? true
    }

    private func expectByteLevelOrNull(_ value: JSONValue?, _ path: String) throws {
        guard let value, !value.isNull else { return }
        let step = try object(value, path)
        let type = try string(try required(step, "type", in: path), "\(path).type")
        guard type == "ByteLevel" else {
            throw TokenizerError(.unsupported, file: file, field: "\(path).type",
                                 expected: "\"ByteLevel\" or null", got: "\"\(type)\"")
        }
    }

    private func mergeRule(_ value: JSONValue, _ path: String) throws -> (left: String, right: String, origin: String) {
        switch value {
        case .string(let line):
            guard let (left, right) = BPETokenizer.splitMerge(line) else {
                throw TokenizerError(.malformedMerge, file: file, field: path,
                                     expected: "\"left right\" (two tokens, one space)", got: "\"\(line)\"")
            }
            return (left, right, path)
        case .array(let pair):
            guard pair.count == 2, let left = pair[0].stringValue, let right = pair[1].stringValue else {
                throw TokenizerError(.malformedMerge, file: file, field: path,
                                     expected: "[\"left\", \"right\"]", got: describe(value))
            }
            return (left, right, path)
        default:
            throw TokenizerError(.malformedMerge, file: file, field: path,
                                 expected: "\"left right\" or [\"left\", \"right\"]", got: value.typeName)
        }
    }

    private func addedToken(_ value: JSONValue, _ path: String) throws -> AddedToken {
        let entry = try object(value, path)
        let id = try id(try required(entry, "id", in: path), "\(path).id")
        let content = try string(try required(entry, "content", in: path), "\(path).content")
        guard !content.isEmpty else {
            throw TokenizerError(.invalidValue, file: file, field: "\(path).content",
                                 expected: "a non-empty string", got: "\"\"")
        }
        func flag(_ name: String) throws -> Bool? {
            try entry[name].map { try bool($0, "\(path).\(name)") }
        }
        let special = try flag("special") ?? false
        return AddedToken(id: id, content: content, special: special,
                          singleWord: try flag("single_word") ?? false,
                          lstrip: try flag("lstrip") ?? false,
                          rstrip: try flag("rstrip") ?? false,
                          normalized: try flag("normalized") ?? !special)
    }

    // MARK: Typed access with errors that name the field

    private func required(_ object: JSONObject, _ key: String, in path: String) throws -> JSONValue {
        guard let value = object[key] else {
            let full = path.isEmpty ? key : "\(path).\(key)"
            throw TokenizerError(.missingField, file: file, field: full, expected: "a value", got: "nothing")
        }
        return value
    }

    private func object(_ value: JSONValue, _ path: String) throws -> JSONObject {
        guard let object = value.objectValue else { throw wrongType(value, path, "an object") }
        return object
    }

    private func array(_ value: JSONValue, _ path: String) throws -> [JSONValue] {
        guard let array = value.arrayValue else { throw wrongType(value, path, "an array") }
        return array
    }

    private func string(_ value: JSONValue, _ path: String) throws -> String {
        guard let string = value.stringValue else { throw wrongType(value, path, "a string") }
        return string
    }

    private func bool(_ value: JSONValue, _ path: String) throws -> Bool {
        guard let flag = value.boolValue else { throw wrongType(value, path, "true or false") }
        return flag
    }

    private func id(_ value: JSONValue, _ path: String) throws -> Int {
        guard let id = value.intValue, id >= 0, id < Self.maximumId else {
            throw TokenizerError(.invalidValue, file: file, field: path,
                                 expected: "an integer id in 0..<\(Self.maximumId)", got: describe(value))
        }
        return id
    }

    private func wrongType(_ value: JSONValue, _ path: String, _ expected: String) -> TokenizerError {
        TokenizerError(.invalidValue, file: file, field: path, expected: expected, got: value.typeName)
    }

    private func describe(_ value: JSONValue) -> String {
        switch value {
        case .number(let number): return number.text
        case .string(let s): return "\"\(s)\""
        case .bool(let b): return String(b)
        default: return value.typeName
        }
    }
}

/// Reading files into bytes with errors that name them.
enum TokenizerFiles {
    static func contents(of url: URL) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerError(.unreadableFile, file: url.path, field: "(file)", expected: "an existing file",
                                 got: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw TokenizerError(.unreadableFile, file: url.path, field: "(file)", expected: "a file", got: "a directory")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TokenizerError(.unreadableFile, file: url.path, field: "(file)", expected: "a readable file",
                                 got: "a read error (permissions?)")
        }
        return [UInt8](data)
    }

    static func json(at url: URL) throws -> JSONValue {
        let bytes = try contents(of: url)
        do {
            return try JSONValue.parse(bytes, allowsByteOrderMark: true)
        } catch let error as JSONError {
            throw TokenizerError(.malformedJSON, file: url.path, field: "line \(error.line), column \(error.column)",
                                 expected: error.expected, got: error.found.description())
        }
    }
}

extension BPETokenizer {
    /// Loads a Hugging Face `tokenizer.json` with a byte-level BPE model (GPT-2, GPT-NeoX / Pythia).
    /// `eosToken` / `padToken` override the conventional choice (`<|endoftext|>`, `</s>`, ... ; `<|padding|>`,
    /// `<pad>`, ..., else the end-of-sequence token). Throws `TokenizerError`.
    public convenience init(tokenizerJSON url: URL, eosToken: String? = nil, padToken: String? = nil) throws {
        var definition = try TokenizerJSONReader(file: url.path).read(try TokenizerFiles.json(at: url))
        definition.eosToken = eosToken
        definition.padToken = padToken
        try self.init(definition)
    }
}
