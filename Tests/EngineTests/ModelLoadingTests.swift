import Foundation
import XCTest
import Engine
import TestSupport

/// `ModelDirectory.load`: the architecture follows config.json's model_type; sharded and half-precision weights;
/// a config that claims more than the weight file holds is refused before anything of its size is allocated
/// (issue #18, finding 2).
final class ModelLoadingTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    private let llamaFixture = TestPaths.fixture("EngineTests", "llama-gqa4x2-untied")
    private let neoxFixture = TestPaths.fixture("EngineTests", "neox-rot25-parallel")

    /// A temporary copy of a fixture's config.json and model.safetensors.
    private func copy(_ fixture: URL) throws -> URL {
        let dir = try TestPaths.temporaryDirectory()
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        return dir
    }

    /// Rewrites one field of config.json (raw JSON text for the value, so 1e12 stays a number).
    private func setField(_ dir: URL, _ key: String, _ rawValue: String) throws {
        let url = dir.appendingPathComponent("config.json")
        var text = try String(contentsOf: url, encoding: .utf8)
        let pattern = "\"\(key)\": [^,\n}]+"
        if let range = text.range(of: pattern, options: .regularExpression) {
            text.replaceSubrange(range, with: "\"\(key)\": \(rawValue)")
        } else {
            text = text.replacingOccurrences(of: "{", with: "{\"\(key)\": \(rawValue), ", options: [], range: text.range(of: "{"))
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func test_modelType_choosesTheArchitecture() throws {
        XCTAssertTrue(try ModelDirectory.load(llamaFixture) is Llama)
        XCTAssertTrue(try ModelDirectory.load(neoxFixture) is GPTNeoX)
    }

    func test_unsupportedModelType_namesTheFileAndTheSupportedTypes() throws {
        let dir = try copy(llamaFixture)
        defer { try? FileManager.default.removeItem(at: dir) }
        try setField(dir, "model_type", "\"gemma2\"")
        XCTAssertThrowsError(try ModelDirectory.load(dir)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("config.json") && text.contains("gemma2"), text)
            for type in ["gpt_neox", "llama", "qwen2", "mistral"] { XCTAssertTrue(text.contains(type), text) }
        }
    }

    func test_shardedWeights_loadThroughTheIndex() throws {
        let reference = try ModelDirectory.load(llamaFixture, as: Llama.self)
        let dir = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: llamaFixture.appendingPathComponent("config.json"),
                                         to: dir.appendingPathComponent("config.json"))
        // Two shards: the embedding and layer 0 in one, everything else in the other.
        let entries = reference.parameters.entries
        var map = [String: String]()
        for (shard, part) in [("model-00001-of-00002.safetensors", entries.filter { $0.name.contains("embed") || $0.name.contains("layers.0.") }),
                              ("model-00002-of-00002.safetensors", entries.filter { !($0.name.contains("embed") || $0.name.contains("layers.0.")) })] {
            try SafeTensorsWriter.write(arrays: part.map { ($0.name, $0.shape, reference.parameters.array($0.name)) },
                                        to: dir.appendingPathComponent(shard))
            for e in part { map[e.name] = shard }
        }
        let index = try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": map])
        try index.write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        let sharded = try ModelDirectory.load(dir, as: Llama.self)
        XCTAssertEqual(sharded.parameters.values.array, reference.parameters.values.array)

        // An index pointing at a shard without the tensor names both.
        map["model.norm.weight"] = "model-00001-of-00002.safetensors"
        try JSONSerialization.data(withJSONObject: ["weight_map": map]).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        XCTAssertThrowsError(try ModelDirectory.load(dir)) { error in
            XCTAssertTrue("\(error)".contains("model-00001-of-00002.safetensors") && "\(error)".contains("model.norm.weight"), "\(error)")
        }
    }

    func test_bf16AndF16Weights_loadAsFloat() throws {
        let reference = try ModelDirectory.load(llamaFixture, as: Llama.self)
        for dtype in ["BF16", "F16"] {
            let dir = try TestPaths.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            try FileManager.default.copyItem(at: llamaFixture.appendingPathComponent("config.json"),
                                             to: dir.appendingPathComponent("config.json"))
            try writeHalf(reference.parameters, dtype: dtype, to: dir.appendingPathComponent("model.safetensors"))
            let half = try ModelDirectory.load(dir, as: Llama.self)
            let a = half.parameters.values.array, b = reference.parameters.values.array
            let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max()!
            XCTAssertLessThan(worst, dtype == "BF16" ? 1e-2 : 1e-3, dtype)
            XCTAssertGreaterThan(worst, 0, "\(dtype): values were rounded, so the file really held halves")
        }
    }

    /// Writes every tensor as BF16 (the top 16 bits, rounded to nearest even) or F16.
    private func writeHalf(_ parameters: ParameterSet, dtype: String, to url: URL) throws {
        var header = [String: Any](), data = [UInt8](), offset = 0
        for e in parameters.entries {
            for x in parameters.array(e.name) {
                let bits: UInt16
                if dtype == "BF16" {
                    let u = x.bitPattern
                    bits = UInt16((u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16)
                } else {
                    bits = Float16(x).bitPattern
                }
                data.append(UInt8(bits & 0xFF)); data.append(UInt8(bits >> 8))
            }
            header[e.name] = ["dtype": dtype, "shape": e.shape, "data_offsets": [offset, offset + 2 * e.count]]
            offset += 2 * e.count
        }
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(0x20) }
        var file = Data()
        var length = UInt64(json.count).littleEndian
        file.append(Data(bytes: &length, count: 8))
        file.append(json)
        file.append(contentsOf: data)
        try file.write(to: url)
    }

    // MARK: issue #18, finding 2: sizes are checked against the weights before allocating

    private func assertRefused(_ fixture: URL, _ key: String, _ value: String, mentions: [String],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try copy(fixture)
        defer { try? FileManager.default.removeItem(at: dir) }
        try setField(dir, key, value)
        let start = Date()
        XCTAssertThrowsError(try ModelDirectory.load(dir), file: file, line: line) { error in
            let text = "\(error)"
            for m in mentions { XCTAssertTrue(text.contains(m), "\(key) = \(value): \(text)", file: file, line: line) }
        }
        // Refused from the header alone: nothing the size of the claim was built (the old path allocated first).
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "\(key) = \(value)", file: file, line: line)
    }

    func test_hugeVocabulary_isRefusedAgainstTheEmbeddingShape() throws {
        for value in ["1000000000000", "10000000"] {
            try assertRefused(llamaFixture, "vocab_size", value, mentions: ["model.embed_tokens.weight", value, "config.json"])
            try assertRefused(neoxFixture, "vocab_size", value, mentions: ["gpt_neox.embed_in.weight", value, "config.json"])
        }
    }

    func test_hugeLayerCount_isRefusedAgainstTheLayersInTheFile() throws {
        for value in ["1000000000", "10000000"] {
            try assertRefused(llamaFixture, "num_hidden_layers", value, mentions: ["num_hidden_layers", "config.json", value, "at most 2"])
            try assertRefused(neoxFixture, "num_hidden_layers", value, mentions: ["num_hidden_layers", "config.json", value, "at most 2"])
        }
    }

    func test_hugeIntermediateSizeAndHeads_areRefused() throws {
        try assertRefused(llamaFixture, "intermediate_size", "1000000000000", mentions: ["mlp.gate_proj.weight"])
        try assertRefused(llamaFixture, "num_key_value_heads", "1", mentions: ["k_proj.weight"])
        try assertRefused(llamaFixture, "num_attention_heads", "1000000000000", mentions: ["q_proj.weight", "8000000000000"])
    }

    func test_hugeMaxPositions_costsNothingUntilUsed() throws {
        let dir = try copy(llamaFixture)
        defer { try? FileManager.default.removeItem(at: dir) }
        try setField(dir, "max_position_embeddings", "1000000000000")
        let model = try ModelDirectory.load(dir)
        XCTAssertEqual(model.config.maxPositions, 1_000_000_000_000)
        XCTAssertEqual(model.forward(TokenBatch(sequences: [[1, 2, 3]])).count, 3)
    }
}
