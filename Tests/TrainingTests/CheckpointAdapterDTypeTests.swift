import Engine
import Foundation
import TestSupport
import Text
import Training
import XCTest

/// A LoRA checkpoint's model/ holds the adapters in `--save-dtype`, like the merged weights of a full
/// fine-tuning checkpoint, and they load back PEFT-style; the training state beside them stays f32.
final class CheckpointAdapterDTypeTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    private func adaptedModel() throws -> Llama {
        let model = Llama(config: LlamaConfig(vocabSize: 30, hiddenSize: 16, numLayers: 2, numHeads: 4, numKVHeads: 2,
                                              intermediateSize: 24, maxPositions: 64))
        model.initializeRandomly(seed: 3, std: 0.2)
        try model.attachAdapters(LoRAConfig(rank: 2, alpha: 4), seed: 5)
        var rng = SeededRandom(seed: 13)
        for e in model.trainableParameters.entries {
            model.trainableParameters.set(e.name, (0..<e.count).map { _ in 0.2 * rng.nextGaussian() })
        }
        return model
    }

    func test_loraCheckpointAdapters_followTheSaveDType_andLoadBack() throws {
        let dir = try TestPaths.temporaryDirectory("xright-adapter-dtype")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try adaptedModel()
        for dtype in SaveDType.allCases {
            let out = dir.appendingPathComponent(dtype.rawValue)
            try ModelExport(dtype: dtype, tokenizer: ByteTokenizer(), tokenizerSource: nil, baseModel: nil)
                .writeCheckpointModel(model, to: out)
            let file = try SafeTensorsFile(contentsOf: out.appendingPathComponent("adapter_model.safetensors"))
            XCTAssertFalse(file.tensorNames.isEmpty)
            for name in file.tensorNames {
                XCTAssertEqual(file.info(name)?.dtype.rawValue, dtype.safeTensorsName, "\(dtype): \(name)")
            }
            // PEFT-style loading onto the base gives the adapters rounded to the type.
            let base = model.baseCopy()
            try ModelDirectory.loadAdapters(into: base, from: out)
            XCTAssertEqual(base.trainableParameters.values.array, model.trainableParameters.values.array.map(dtype.rounded),
                           "\(dtype)")
        }
    }

    func test_trainingState_staysF32_whateverTheSaveDType() throws {
        let dir = try TestPaths.temporaryDirectory("xright-adapter-state")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try adaptedModel()
        let backend = try EngineBackend(model: model, settings: EngineBackend.Settings(schedule: LearningRateSchedule(base: 1e-3)))
        backend.modelExport = ModelExport(dtype: .bf16, tokenizer: ByteTokenizer(), tokenizerSource: nil, baseModel: nil)
        try backend.saveState(to: dir)
        let state = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("trainable.safetensors"))
        XCTAssertTrue(state.tensorNames.allSatisfy { state.info($0)?.dtype == .f32 }, "resume reads exact f32 adapters")
    }
}
