import Engine
import Foundation
import GGUF
import TestSupport
import XCTest

/// Saving weights in a chosen element type (`--save-dtype`) and exporting a Llama as GGUF: what is written
/// reads back as the values rounded to that type, and a GGUF export loads back as the same model (docs/GGUF.md,
/// "Saving" and "Export"). transformers' view of the same files is checked by CLITests/ModelExportTests.
final class ModelSavingTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("model-saving") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// GQA 4:2, untied, so Q and K are permuted with different group counts; rows of 64 fill whole Q8_0 blocks.
    private func tinyLlama(tied: Bool = false) -> Llama {
        let model = Llama(config: LlamaConfig(vocabSize: 96, hiddenSize: 64, numLayers: 2, numHeads: 4, numKVHeads: 2,
                                              intermediateSize: 96, ropeTheta: 10_000, maxPositions: 128,
                                              tieWordEmbeddings: tied))
        model.initializeRandomly(seed: 3)
        return model
    }

    // MARK: Rounding

    func test_bf16Bits_roundToNearestEven_andKeepNaNInfinityAndSign() {
        XCTAssertEqual(SaveDType.bf16Bits(1), 0x3F80)
        XCTAssertEqual(SaveDType.bf16Bits(-2), 0xC000)
        // 1 + 2⁻⁸ lies halfway between two bfloat16 values: ties go to the even one (1.0).
        XCTAssertEqual(SaveDType.bf16Bits(Float(bitPattern: 0x3F80_8000)), 0x3F80)
        // 1 + 3·2⁻⁸ is halfway too, and rounds up to the even 0x3F82.
        XCTAssertEqual(SaveDType.bf16Bits(Float(bitPattern: 0x3F81_8000)), 0x3F82)
        XCTAssertEqual(SaveDType.bf16Bits(Float(bitPattern: 0x3F80_8001)), 0x3F81, "above halfway rounds up")
        XCTAssertEqual(SaveDType.bf16Bits(.infinity), 0x7F80)
        XCTAssertEqual(SaveDType.bf16Bits(-.infinity), 0xFF80)
        XCTAssertTrue(HalfFloat.float(fromBF16Bits: SaveDType.bf16Bits(.nan)).isNaN)
        XCTAssertTrue(HalfFloat.float(fromBF16Bits: SaveDType.bf16Bits(Float(bitPattern: 0x7F80_0001))).isNaN,
                      "a NaN whose payload sits in the dropped half stays NaN, not infinity")
        XCTAssertEqual(SaveDType.bf16.rounded(.greatestFiniteMagnitude), .infinity, "beyond bfloat16's largest finite value")
        XCTAssertEqual(SaveDType.f16.rounded(70_000), .infinity, "beyond binary16's 65504")
        XCTAssertEqual(SaveDType.f16.rounded(1 + 0x1p-11), 1, "half an f16 ulp above 1 ties to even")
    }

    // MARK: safetensors in a chosen type

    func test_save_inEachDType_readsBackAsTheValuesRoundedToIt_withTorchDTypeInConfig() throws {
        let model = tinyLlama()
        for dtype in SaveDType.allCases {
            let out = directory.appendingPathComponent(dtype.rawValue)
            try ModelDirectory.save(model, to: out, dtype: dtype)
            let file = try SafeTensorsFile(contentsOf: out.appendingPathComponent("model.safetensors"))
            XCTAssertEqual(file.info("model.norm.weight")?.dtype.rawValue, dtype.safeTensorsName)
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as? [String: Any]
            XCTAssertEqual(config?["torch_dtype"] as? String, dtype.torchName)
            let loaded = try XCTUnwrap(try ModelDirectory.load(out) as? Llama)
            XCTAssertEqual(loaded.config, model.config)
            XCTAssertEqual(loaded.parameters.values.array.map(\.bitPattern),
                           model.parameters.values.array.map { dtype.rounded($0).bitPattern }, dtype.rawValue)
            let size = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("model.safetensors").path)[.size] as! Int
            XCTAssertGreaterThan(size, model.parameters.scalarCount * dtype.byteSize)
            XCTAssertLessThan(size, model.parameters.scalarCount * dtype.byteSize + 8192, "\(dtype): data is \(dtype.byteSize) bytes a value")
        }
    }

    // MARK: GGUF export

    func test_ggufExport_f32_loadsBackAsTheSameModel_QAndKPermutedAndUnpermuted() throws {
        for tied in [false, true] {
            let model = tinyLlama(tied: tied)
            let url = directory.appendingPathComponent("tiny-\(tied).gguf")
            try GGUFExport.writer(for: model, type: .f32, name: "tiny").write(to: url)
            let file = try GGUFFile(contentsOf: url)
            XCTAssertEqual(file.version, 3)
            XCTAssertEqual(try file.string("general.architecture"), "llama")
            XCTAssertEqual(try file.integer("llama.attention.head_count_kv"), 2)
            XCTAssertEqual(file.tensor("output.weight") == nil, tied, "a tied head is not stored")
            let loaded = try ModelDirectory.loadGGUF(url)
            XCTAssertEqual(loaded.config.numKVHeads, 2)
            XCTAssertEqual(loaded.config.tieWordEmbeddings, tied)
            for entry in model.parameters.entries {
                XCTAssertEqual(loaded.parameters.array(entry.name), model.parameters.array(entry.name), entry.name)
            }
            // Stored Q rows are in llama.cpp's order, not Hugging Face's: the permutation really happened.
            let stored = try file.floats("blk.0.attn_q.weight")
            XCTAssertNotEqual(stored, model.parameters.array("model.layers.0.self_attn.q_proj.weight"))
            XCTAssertEqual(stored, GGUFExport.permute(model.parameters.array("model.layers.0.self_attn.q_proj.weight"), rows: 64, groups: 4))
        }
    }

    func test_ggufExport_f16AndQ8_0_matricesInThatType_normsInF32_withinTheTypesRounding() throws {
        let model = tinyLlama()
        for type in [GGMLType.f16, .q8_0] {
            let url = directory.appendingPathComponent("tiny-\(type.name).gguf")
            try GGUFExport.writer(for: model, type: type, name: "tiny").write(to: url)
            let file = try GGUFFile(contentsOf: url)
            XCTAssertEqual(file.tensor("blk.1.ffn_down.weight")?.type, type)
            XCTAssertEqual(file.tensor("blk.1.attn_norm.weight")?.type, .f32)
            XCTAssertEqual(try file.integer("general.file_type"), type == .f16 ? 1 : 7)
            let loaded = try ModelDirectory.loadGGUF(url)
            for entry in model.parameters.entries {
                let original = model.parameters.array(entry.name), back = loaded.parameters.array(entry.name)
                if entry.shape.count == 1 { XCTAssertEqual(back, original, entry.name); continue }
                if type == .f16 {
                    XCTAssertEqual(back, original.map(SaveDType.f16.rounded), entry.name)
                } else {
                    // Each block of 32 is scaled by its own max|x| / 127: the error is at most half a step, plus
                    // the f16 rounding of the scale times |q| ≤ 127 (2⁻¹¹ · 127 ≈ 0.062 steps).
                    for block in stride(from: 0, to: original.count, by: 32) {
                        let slice = original[block..<block + 32]
                        let step = slice.map(abs).max()! / 127
                        let worst = zip(slice, back[block..<block + 32]).map { abs($0 - $1) }.max()!
                        XCTAssertLessThanOrEqual(worst, step * 0.57, "\(entry.name) block \(block / 32)")
                    }
                }
            }
        }
    }

    func test_ggufExport_refusesGPTNeoX_withAClearError() throws {
        let neox = ModelPreset.tiny.makeModel(vocabSize: 258)
        XCTAssertThrowsError(try GGUFExport.writer(for: neox, type: .f16, name: "neox")) { error in
            XCTAssertTrue("\(error)".contains("only Llama-family") && "\(error)".contains("gpt_neox"), "\(error)")
        }
    }

    func test_ggufWriter_refusesDuplicateNamesBadShapesAndUnwritablePaths() throws {
        var writer = GGUFWriter()
        writer.tensors = [GGUFWriter.Tensor(name: "a", shape: [2], type: .f32) { [1, 2] },
                          GGUFWriter.Tensor(name: "a", shape: [2], type: .f32) { [1, 2] }]
        XCTAssertThrowsError(try writer.write(to: directory.appendingPathComponent("dup.gguf"))) {
            XCTAssertTrue("\($0)".contains("tensor 'a' given twice"), "\($0)")
        }
        writer.tensors = [GGUFWriter.Tensor(name: "q", shape: [2, 20], type: .q8_0) { [Float](repeating: 0, count: 40) }]
        XCTAssertThrowsError(try writer.write(to: directory.appendingPathComponent("q.gguf"))) {
            XCTAssertTrue("\($0)".contains("rows of 20 values") && "\($0)".contains("Q8_0 blocks of 32"), "\($0)")
        }
        writer.tensors = [GGUFWriter.Tensor(name: "short", shape: [3], type: .f32) { [1, 2] }]
        XCTAssertThrowsError(try writer.write(to: directory.appendingPathComponent("short.gguf"))) {
            XCTAssertTrue("\($0)".contains("needs 3 values, got 2"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("short.gguf").path),
                       "a failed write leaves no file")
        writer.tensors = []
        XCTAssertThrowsError(try writer.write(to: URL(fileURLWithPath: "/nonexistent-dir/x.gguf"))) {
            XCTAssertTrue("\($0)".contains("/nonexistent-dir/x.gguf"), "\($0)")
        }
    }

    func test_ggufWriter_metadataOfEveryTypeReadsBack() throws {
        var writer = GGUFWriter()
        let values: [(String, GGUFValue)] = [
            ("u8", .uint8(7)), ("i8", .int8(-7)), ("u16", .uint16(700)), ("i16", .int16(-700)), ("u32", .uint32(70_000)),
            ("i32", .int32(-70_000)), ("f32", .float32(0.5)), ("b", .bool(true)), ("s", .string("héllo")),
            ("u64", .uint64(1 << 40)), ("i64", .int64(-(1 << 40))), ("f64", .float64(0.25)),
            ("a", .array([.string("x"), .string("y z")])), ("empty", .array([])),
        ]
        writer.metadata = values.map { (key: $0.0, value: $0.1) }
        let url = directory.appendingPathComponent("meta.gguf")
        try writer.write(to: url)
        let file = try GGUFFile(contentsOf: url)
        XCTAssertEqual(file.metadataKeys, values.map(\.0))
        for (key, value) in values where key != "empty" { XCTAssertEqual(file.metadata[key], value, key) }
        XCTAssertEqual(file.metadata["empty"]?.arrayValue?.count, 0)
    }
}
