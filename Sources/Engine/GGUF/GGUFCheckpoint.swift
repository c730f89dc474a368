import Foundation
import GGUF
import JSON

/// A Llama-family GGUF seen as a Hugging Face checkpoint: the config a `config.json` would hold, and the weights
/// under Hugging Face names, dequantized to Float with llama.cpp's row permutation of Q and K undone — what
/// `transformers` gives for `from_pretrained(dir, gguf_file=...)` (docs/GGUF.md).
///
///     let checkpoint = try GGUFCheckpoint(contentsOf: url)
///     let config = checkpoint.configJSON           // decode with the model's config type
///     try checkpoint.read("model.layers.0.self_attn.q_proj.weight", expectedShape: [576, 576], into: buffer)
public struct GGUFCheckpoint: @unchecked Sendable {
    public let file: GGUFFile
    /// `general.architecture`: "llama" or "qwen2".
    public let architecture: String
    /// The Hugging Face config (an object with the keys of a Llama `config.json`).
    public let config: JSONValue
    /// Hugging Face tensor names, sorted.
    public let tensorNames: [String]
    /// GGUF tensors without a Hugging Face counterpart (e.g. `rope_freqs.weight`), in file order.
    public let unmappedTensorNames: [String]
    private let ggufNameByHF: [String: String]
    private let heads: Int
    private let keyValueHeads: Int

    /// Architectures whose tensors and metadata this maps, with their Hugging Face class.
    public static let supportedArchitectures: [String: String] = [
        "llama": "LlamaForCausalLM",
        "qwen2": "Qwen2ForCausalLM",
    ]

    public init(contentsOf url: URL) throws {
        try self.init(file: try GGUFFile(contentsOf: url))
    }

    public init(file: GGUFFile) throws {
        let path = file.url.path
        func fail(_ message: String) -> GGUFError { GGUFError(file: path, message: message) }
        guard let architecture = try file.string("general.architecture") else {
            throw fail("missing metadata 'general.architecture' (expected one of "
                + "\(Self.supportedArchitectures.keys.sorted().joined(separator: ", ")))")
        }
        guard let className = Self.supportedArchitectures[architecture] else {
            throw fail("metadata 'general.architecture' is \"\(architecture)\"; supported: "
                + Self.supportedArchitectures.keys.sorted().joined(separator: ", "))
        }
        let prefix = architecture + "."
        func required(_ key: String) throws -> Int {
            guard let value = try file.integer(prefix + key) else {
                throw fail("missing metadata '\(prefix + key)' (an integer)")
            }
            guard value > 0 else { throw fail("metadata '\(prefix + key)': expected a positive integer, found \(value)") }
            return value
        }
        let hidden = try required("embedding_length")
        let layers = try required("block_count")
        let intermediate = try required("feed_forward_length")
        let heads = try required("attention.head_count")
        let kvHeads = try file.integer(prefix + "attention.head_count_kv") ?? heads
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw fail("metadata '\(prefix)attention.head_count_kv' is \(kvHeads): expected a positive divisor of "
                + "the head count \(heads)")
        }
        // transformers takes a Llama's head size from the rope width; key_length is the general key.
        let statedHeadDim = try file.integer(prefix + "attention.key_length")
            ?? (architecture == "llama" ? try file.integer(prefix + "rope.dimension_count") : nil)
        if statedHeadDim == nil, hidden % heads != 0 {
            throw fail("metadata '\(prefix)embedding_length' \(hidden) is not a multiple of "
                + "'\(prefix)attention.head_count' \(heads), and no '\(prefix)attention.key_length' gives the head size")
        }
        let headDim = statedHeadDim ?? hidden / heads
        guard headDim > 0, headDim % 2 == 0 else {
            throw fail("head size \(headDim): expected a positive even number (rope rotates pairs)")
        }

        var hfByGGUF: [String: String] = [:]
        var unmapped: [String] = []
        for name in file.tensorNames {
            if let hf = GGUFTensorNames.huggingFaceName(of: name) { hfByGGUF[name] = hf } else { unmapped.append(name) }
        }
        guard let embedding = file.tensor("token_embd.weight") else {
            throw fail("missing tensor 'token_embd.weight' (the token embedding every Llama-family model has)")
        }
        let vocabulary = try file.integer(prefix + "vocab_size")
            ?? (file.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count) ?? embedding.shape[0]

        var members: [(String, JSONValue)] = [
            ("architectures", .array([.string(className)])),
            ("model_type", .string(architecture)),
            ("vocab_size", Self.int(vocabulary)),
            ("hidden_size", Self.int(hidden)),
            ("intermediate_size", Self.int(intermediate)),
            ("num_hidden_layers", Self.int(layers)),
            ("num_attention_heads", Self.int(heads)),
            ("num_key_value_heads", Self.int(kvHeads)),
            ("head_dim", Self.int(headDim)),
            ("hidden_act", .string("silu")),
            ("rms_norm_eps", Self.number(try file.metadata[prefix + "attention.layer_norm_rms_epsilon"].map {
                guard let v = $0.doubleValue else { throw fail("metadata '\(prefix)attention.layer_norm_rms_epsilon': expected a number, found \($0.typeName)") }
                return Self.shortest($0, v)
            } ?? 1e-6)),
            ("rope_theta", Self.number(try file.metadata[prefix + "rope.freq_base"].map {
                guard let v = $0.doubleValue else { throw fail("metadata '\(prefix)rope.freq_base': expected a number, found \($0.typeName)") }
                return Self.shortest($0, v)
            } ?? 10_000)),
            ("max_position_embeddings", Self.int(try file.integer(prefix + "context_length") ?? 2048)),
            ("tie_word_embeddings", .bool(file.tensor("output.weight") == nil)),
            ("attention_bias", .bool(file.tensor("blk.0.attn_q.bias") != nil)),
            ("mlp_bias", .bool(file.tensor("blk.0.ffn_up.bias") != nil)),
            ("torch_dtype", .string("float32")),
        ]
        if let scaling = try file.string(prefix + "rope.scaling.type"), scaling != "none" {
            var rope: [(String, JSONValue)] = [("rope_type", .string(scaling))]
            if let factor = file.metadata[prefix + "rope.scaling.factor"], let v = factor.doubleValue {
                rope.append(("factor", Self.number(Self.shortest(factor, v))))
            }
            if let original = try file.integer(prefix + "rope.scaling.original_context_length") {
                rope.append(("original_max_position_embeddings", Self.int(original)))
            }
            members.append(("rope_scaling", .object(JSONObject(keys: rope.map(\.0), values: rope.map(\.1)))))
        }
        for (key, hfKey) in [("bos_token_id", "bos_token_id"), ("eos_token_id", "eos_token_id"),
                             ("padding_token_id", "pad_token_id")] {
            if let id = try file.integer("tokenizer.ggml." + key) { members.append((hfKey, Self.int(id))) }
        }

        self.file = file
        self.architecture = architecture
        self.config = .object(JSONObject(keys: members.map(\.0), values: members.map(\.1)))
        self.ggufNameByHF = Dictionary(uniqueKeysWithValues: hfByGGUF.map { ($1, $0) })
        self.tensorNames = hfByGGUF.values.sorted()
        self.unmappedTensorNames = unmapped
        self.heads = heads
        self.keyValueHeads = kvHeads
    }

    /// The config as `config.json` text (UTF-8), for `JSONSerialization` or for writing next to saved weights.
    public var configJSON: Data { Data(Self.serialize(config).utf8) }

    /// The GGUF name behind a Hugging Face name.
    public func ggufName(of huggingFaceName: String) -> String? { ggufNameByHF[huggingFaceName] }

    /// The GGUF tensor behind a Hugging Face name (its type says how it is quantized).
    public func info(_ huggingFaceName: String) -> GGUFTensorInfo? {
        ggufNameByHF[huggingFaceName].flatMap(file.tensor)
    }

    /// Row-major shape under the Hugging Face name (`[out, in]` for a linear weight).
    public func shape(of huggingFaceName: String) -> [Int]? { info(huggingFaceName)?.shape }

    public func floats(_ name: String, expectedShape: [Int]? = nil) throws -> [Float] {
        let info = try lookUp(name, expectedShape: expectedShape)
        return try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            try convert(info, into: buffer)
            initialized = info.elementCount
        }
    }

    /// Dequantizes the tensor straight into `destination` (e.g. a slice of a flat parameter buffer), which must
    /// hold exactly its element count.
    public func read(_ name: String, expectedShape: [Int]? = nil,
                     into destination: UnsafeMutableBufferPointer<Float>) throws {
        try convert(try lookUp(name, expectedShape: expectedShape), into: destination)
    }

    private func lookUp(_ name: String, expectedShape: [Int]?) throws -> GGUFTensorInfo {
        guard let info = info(name) else {
            throw GGUFError(file: file.url.path, message: "missing tensor '\(name)' (GGUF name "
                + "'\(Self.ggufNameHint(name))'; the file has \(tensorNames.count) mapped tensors"
                + "\(tensorNames.isEmpty ? "" : ", e.g. '\(tensorNames[0])'"))")
        }
        if let expected = expectedShape, expected != info.shape {
            throw GGUFError(file: file.url.path, message: "tensor '\(name)' ('\(info.name)') has shape "
                + "\(info.shape), expected \(expected)")
        }
        return info
    }

    private func convert(_ info: GGUFTensorInfo, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let groups = permutationGroups(info)
        guard groups > 0 else {
            try file.read(info, into: destination)
            return
        }
        var scratch = [Float](repeating: 0, count: info.elementCount)
        try scratch.withUnsafeMutableBufferPointer { try file.read(info, into: $0) }
        try GGUFCheckpoint.unpermute(scratch, rows: info.shape[0], groups: groups, into: destination,
                                     tensor: info.name, file: file.url.path)
    }

    /// llama.cpp permutes the rows of Q (per attention head) and K (per key/value head) of Llama models so its
    /// rope rotates adjacent pairs; transformers rotates halves. 0 when the tensor is not permuted.
    private func permutationGroups(_ info: GGUFTensorInfo) -> Int {
        guard architecture == "llama" else { return 0 }
        if info.name.contains(".attn_q.") { return heads }
        if info.name.contains(".attn_k.") { return keyValueHeads }
        return 0
    }

    /// Undoes llama.cpp's permutation: within each of `groups` heads of `rows / groups` rows, GGUF row 2i + p
    /// (i < half, p ∈ {0, 1}) is Hugging Face row p · half + i. Rows are the outermost dimension.
    static func unpermute(_ source: [Float], rows: Int, groups: Int, into destination: UnsafeMutableBufferPointer<Float>,
                          tensor: String, file: String) throws {
        guard rows % (2 * groups) == 0 else {
            throw GGUFError(file: file, message: "tensor '\(tensor)': \(rows) rows cannot be split into \(groups) "
                + "heads of an even size (check the head counts in the metadata)")
        }
        guard destination.count == source.count, let out = destination.baseAddress else { return }
        let columns = source.count / rows
        let headRows = rows / groups
        let half = headRows / 2
        source.withUnsafeBufferPointer { input in
            for h in 0..<groups {
                for i in 0..<half {
                    for p in 0..<2 {
                        let from = input.baseAddress! + (h * headRows + 2 * i + p) * columns
                        let to = out + (h * headRows + p * half + i) * columns
                        to.update(from: from, count: columns)
                    }
                }
            }
        }
    }

    /// The llama.cpp name a Hugging Face name would have, for messages.
    private static func ggufNameHint(_ name: String) -> String {
        for (gguf, hf) in GGUFTensorNames.global where hf == name { return gguf }
        let parts = name.split(separator: ".")
        if parts.count >= 5, parts[0] == "model", parts[1] == "layers" {
            let module = parts[3..<(parts.count - 1)].joined(separator: ".")
            if let key = GGUFTensorNames.perBlock.first(where: { $0.value == module })?.key {
                return "blk.\(parts[2]).\(key).\(parts.last!)"
            }
        }
        return "none"
    }

    // MARK: JSON values

    private static func int(_ value: Int) -> JSONValue { .number(JSONNumber(Int64(value))) }

    /// A float32 metadata value as the decimal it was written from (1e-05, not 9.99999974738e-06).
    private static func shortest(_ value: GGUFValue, _ double: Double) -> Double {
        if case .float32(let f) = value { return Double("\(f)") ?? double }
        return double
    }

    private static func number(_ value: Double) -> JSONValue {
        if value.rounded() == value, abs(value) < 9e15 { return int(Int(value)) }
        return JSONNumber("\(value)").map(JSONValue.number) ?? .null
    }

    static func serialize(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number): return number.text
        case .string(let text): return quote(text)
        case .array(let elements): return "[" + elements.map(serialize).joined(separator: ", ") + "]"
        case .object(let object):
            return "{" + object.members.map { "\(quote($0)): \(serialize($1))" }.joined(separator: ", ") + "}"
        }
    }

    private static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
