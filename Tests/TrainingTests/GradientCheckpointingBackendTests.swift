import Data
import Engine
import Foundation
import TestSupport
import Training
import XCTest

/// `--gradient-checkpointing` through the training backend: an SFT and a DPO step (with gradient accumulation,
/// and the DPO reference a copy of the policy) give the same losses and gradients as keeping every activation,
/// on Llama and GPT-NeoX, full fine-tuning and LoRA. Recomputing layers is bit-identical; chunked logits round
/// differently in the last bits.
final class GradientCheckpointingBackendTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    private func example(_ prompt: [Int32], _ response: [Int32]) -> TokenizedExample {
        TokenizedExample(ids: prompt + response, responseStart: prompt.count)
    }

    private var examples: [TokenizedExample] {
        [example([1, 2, 9, 9, 4], [3, 4, 0]), example([5], [6, 7, 8, 9, 0]), example([10, 11, 12], [13, 0]),
         example([14, 3, 3], [15, 16, 0])]
    }

    private var pairs: [TokenizedPair] {
        [TokenizedPair(chosen: example([1, 2, 3], [4, 5, 0]), rejected: example([1, 2, 3], [6, 0])),
         TokenizedPair(chosen: example([7, 8], [9, 10, 11, 0]), rejected: example([7, 8], [12, 13, 0])),
         TokenizedPair(chosen: example([14], [15, 0]), rejected: example([14], [16, 17, 18, 0])),
         TokenizedPair(chosen: example([19, 20], [21, 0]), rejected: example([19, 20], [22, 0]))]
    }

    enum Architecture { case llama, neox }

    private func makeModel(_ architecture: Architecture, lora: Bool) throws -> any CausalLanguageModel {
        let model: any CausalLanguageModel
        switch architecture {
        case .llama:
            model = Llama(config: LlamaConfig(vocabSize: 30, hiddenSize: 16, numLayers: 2, numHeads: 4, numKVHeads: 2,
                                              intermediateSize: 24, maxPositions: 64, tieWordEmbeddings: true, qkvBias: true))
        case .neox:
            model = GPTNeoX(config: GPTNeoXConfig(vocabSize: 30, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                  intermediateSize: 24, maxPositions: 64, useParallelResidual: false))
        }
        model.initializeRandomly(seed: 3, std: 0.2)
        if lora {
            try model.attachAdapters(LoRAConfig(rank: 2, alpha: 4), seed: 5)
            var rng = SeededRandom(seed: 13)
            for e in model.trainableParameters.entries where e.name.hasSuffix("lora_B.weight") {
                model.trainableParameters.set(e.name, (0..<e.count).map { _ in 0.2 * rng.nextGaussian() })
            }
        }
        return model
    }

    /// SFT (weight 0.6) and DPO (weight 0.4) gradients of one mixed step, in two micro-batches each.
    private func step(_ architecture: Architecture, lora: Bool, memory: ActivationMemory) throws
        -> (sft: Double, dpo: Double, gradients: [Float]) {
        let model = try makeModel(architecture, lora: lora)
        model.activationMemory = memory
        let backend = try EngineBackend(model: model, settings: EngineBackend.Settings(
            schedule: LearningRateSchedule(base: 1e-2), maxGradNorm: 0, preference: PreferenceLoss(beta: 0.5),
            microBatches: 2))
        // Move the policy off the reference so DPO's gradient is not zero.
        let trainable = model.trainableParameters
        var rng = SeededRandom(seed: 11)
        for i in 0..<trainable.count { trainable.values[i] += 0.02 * rng.nextGaussian() }
        let sft = try backend.evaluate(.sft, batch: SFTTokenBatch(examples: examples), gradientWeight: 0.6)
        let dpo = try backend.evaluate(.dpo, batch: PreferenceTokenBatch(pairs: pairs, pairIDs: [0, 1, 2, 3]),
                                       gradientWeight: 0.4)
        return (sft.loss, dpo.loss, trainable.gradients!.array)
    }

    private func check(_ architecture: Architecture, lora: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let kept = try step(architecture, lora: lora, memory: .keepAll)
        let scale = kept.gradients.map { abs($0) }.max()!
        XCTAssertGreaterThan(scale, 0, file: file, line: line)
        let recomputed = try step(architecture, lora: lora, memory: ActivationMemory(recomputeLayers: true, logitChunkTokens: nil))
        XCTAssertEqual(recomputed.sft, kept.sft, file: file, line: line)
        XCTAssertEqual(recomputed.dpo, kept.dpo, file: file, line: line)
        XCTAssertEqual(recomputed.gradients, kept.gradients, "recomputed layers: bit-identical gradients", file: file, line: line)
        for memory in [ActivationMemory(recomputeLayers: true, logitChunkTokens: 4), .gradientCheckpointing] {
            let chunked = try step(architecture, lora: lora, memory: memory)
            XCTAssertEqual(chunked.sft, kept.sft, accuracy: 1e-6 * max(1, abs(kept.sft)), file: file, line: line)
            XCTAssertEqual(chunked.dpo, kept.dpo, accuracy: 1e-6 * max(1, abs(kept.dpo)), file: file, line: line)
            for (a, b) in zip(chunked.gradients, kept.gradients) {
                XCTAssertEqual(a, b, accuracy: 1e-6 * scale, "chunked logits (\(memory))", file: file, line: line)
            }
        }
    }

    func test_llama_fullFineTuning() throws { try check(.llama, lora: false) }
    func test_llama_lora() throws { try check(.llama, lora: true) }
    func test_neox_fullFineTuning() throws { try check(.neox, lora: false) }
    func test_neox_lora() throws { try check(.neox, lora: true) }

    private func options(maxSteps: Int) throws -> RunOptions {
        var options = RunOptions(modelPreset: "tiny", demoExamples: 60, evalFraction: 0.2, batchSize: 4, learningRate: 0.05,
                                 training: TrainingConfig(strategy: .mix, lambda: try Lambda(0.5), seed: 1, maxSteps: maxSteps))
        options.gradientAccumulation = 2
        options.gradientCheckpointing = true
        return options
    }

    func test_aRunWithIt_isRecordedAndResumesBitIdentically() throws {
        let root = try TestPaths.temporaryDirectory("xright-checkpointing-resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let whole = try RunSetup.prepare(try options(maxSteps: 4), runDirectory: RunDirectory(root.appendingPathComponent("whole")),
                                         programVersion: "test")
        XCTAssertEqual(whole.backend.model.activationMemory, .gradientCheckpointing)
        try whole.session.run()
        let recorded = try RunSetup.options(fromRun: RunDirectory(root.appendingPathComponent("whole")))
        XCTAssertEqual(recorded.gradientCheckpointing, true, "the run header records the flag")

        let interrupted = RunDirectory(root.appendingPathComponent("interrupted"))
        try RunSetup.prepare(try options(maxSteps: 2), runDirectory: interrupted, programVersion: "test").session.run()
        var more = try RunSetup.options(fromRun: interrupted)
        more.training.maxSteps = 4
        let resumed = try RunSetup.prepare(more, runDirectory: interrupted, resumeFrom: interrupted.checkpoints
            .appendingPathComponent("step-000002"), programVersion: "test")
        XCTAssertEqual(resumed.backend.model.activationMemory, .gradientCheckpointing, "a resumed run keeps it")
        try resumed.session.run()
        XCTAssertEqual(resumed.backend.model.parameters.values.array.map(\.bitPattern),
                       whole.backend.model.parameters.values.array.map(\.bitPattern),
                       "4 steps with a resume after step 2 equal 4 steps straight, bit for bit")

        var off = try options(maxSteps: 1)
        off.gradientCheckpointing = nil
        XCTAssertEqual(try RunSetup.prepare(off, runDirectory: nil, programVersion: "test").backend.model.activationMemory,
                       .keepAll, "off unless asked for")
    }
}
