import Data
import Engine
import Foundation
import Training
import XCTest

/// The official recipe's pieces in the engine backend: gradient accumulation gives the update of the whole batch,
/// a reference model other than the policy's start, the reference cache tied to that reference, and the
/// reference-front file of the stop rule.
final class RecipeBackendTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    private func makeModel(seed: UInt64 = 3) -> GPTNeoX {
        let model = GPTNeoX(config: ModelPreset.tiny.config(vocabSize: 30))
        model.initializeRandomly(seed: seed, std: 0.2)
        return model
    }

    private func example(_ prompt: [Int32], _ response: [Int32]) -> TokenizedExample {
        TokenizedExample(ids: prompt + response, responseStart: prompt.count)
    }

    /// Four examples of different lengths: micro-batches hold different numbers of scored tokens.
    private var examples: [TokenizedExample] {
        [example([1, 2], [3, 4, 0]), example([5], [6, 7, 8, 9, 0]), example([10, 11, 12], [13, 0]), example([14], [15, 16, 0])]
    }

    private var pairs: [TokenizedPair] {
        [TokenizedPair(chosen: example([1, 2, 3], [4, 5, 0]), rejected: example([1, 2, 3], [6, 0])),
         TokenizedPair(chosen: example([7, 8], [9, 10, 11, 0]), rejected: example([7, 8], [12, 13, 0])),
         TokenizedPair(chosen: example([14], [15, 0]), rejected: example([14], [16, 17, 18, 0])),
         TokenizedPair(chosen: example([19, 20], [21, 0]), rejected: example([19, 20], [22, 0]))]
    }

    private func settings(microBatches: Int = 1) -> EngineBackend.Settings {
        EngineBackend.Settings(schedule: LearningRateSchedule(base: 1e-2), maxGradNorm: 0,
                               preference: PreferenceLoss(beta: 0.5), microBatches: microBatches)
    }

    /// One mixed step (SFT and DPO gradients summed), then the update; the metrics and new weights.
    private func step(microBatches: Int) throws -> (sft: ObjectiveMetrics, dpo: ObjectiveMetrics, weights: [Float], gradients: [Float]) {
        let model = makeModel()
        let backend = try EngineBackend(model: model, settings: settings(microBatches: microBatches))
        // Move the policy off the reference so DPO's gradient is not zero.
        var rng = SeededRandom(seed: 11)
        for i in 0..<model.parameters.count { model.parameters.values[i] += 0.02 * rng.nextGaussian() }
        let sft = try backend.evaluate(.sft, batch: SFTTokenBatch(examples: examples), gradientWeight: 0.6)
        let dpo = try backend.evaluate(.dpo, batch: PreferenceTokenBatch(pairs: pairs, pairIDs: [0, 1, 2, 3]), gradientWeight: 0.4)
        let gradients = model.parameters.gradients!.array
        _ = try backend.applyUpdate()
        return (sft, dpo, model.parameters.values.array, gradients)
    }

    func test_gradientAccumulation_twoMicroBatchesOfTwo_giveTheUpdateOfOneBatchOfFour() throws {
        let whole = try step(microBatches: 1)
        for parts in [2, 4] {
            let accumulated = try step(microBatches: parts)
            XCTAssertEqual(accumulated.sft.loss, whole.sft.loss, accuracy: 1e-6)
            XCTAssertEqual(accumulated.dpo.loss, whole.dpo.loss, accuracy: 1e-6)
            XCTAssertEqual(accumulated.sft.tokens, whole.sft.tokens)
            XCTAssertEqual(accumulated.dpo.preference?.rewardAccuracy, whole.dpo.preference?.rewardAccuracy)
            let scale = whole.gradients.map { abs($0) }.max()!
            XCTAssertGreaterThan(scale, 0)
            for (a, b) in zip(accumulated.gradients, whole.gradients) { XCTAssertEqual(a, b, accuracy: 1e-5 * scale) }
            // AdamW's first update is lr · g / (|g| + ε) ≈ ±lr: for a gradient that is zero up to rounding its sign
            // is noise, in either computation. Every weight with a gradient clearly away from zero moves the same.
            var compared = 0
            for (k, (a, b)) in zip(accumulated.weights, whole.weights).enumerated() where abs(whole.gradients[k]) > 1e-4 * scale {
                XCTAssertEqual(a, b, accuracy: 1e-6)
                compared += 1
            }
            XCTAssertGreaterThan(compared, whole.weights.count / 4, "most weights have a clear gradient")
        }
        XCTAssertNotEqual(whole.weights, makeModel().parameters.values.array, "the step changed the weights")
    }

    func test_microBatches_belowOne_areRefused() {
        XCTAssertThrowsError(try EngineBackend(model: makeModel(), settings: settings(microBatches: 0))) {
            XCTAssertTrue("\($0)".contains("microBatches"), "\($0)")
        }
    }

    func test_aReferenceModel_isWhatDPOComparesAgainst() throws {
        let batch = PreferenceTokenBatch(pairs: pairs, pairIDs: [0, 1, 2, 3])
        let own = try EngineBackend(model: makeModel(), settings: settings())
        XCTAssertEqual(try own.evaluate(.dpo, batch: batch, gradientWeight: nil).loss, log(2), accuracy: 1e-6,
                       "by default the reference is the policy's start")
        let other = makeModel(seed: 9)
        let withReference = try EngineBackend(model: makeModel(), settings: settings(), reference: other)
        let m = try withReference.evaluate(.dpo, batch: batch, gradientWeight: nil)
        // By hand: z = (log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r)), loss = −log σ(β z) averaged over pairs.
        func sums(_ model: any CausalLanguageModel) -> [Double] {
            let b = batch.pairs.flatMap { [$0.chosen, $0.rejected] }
            return b.map { e in
                let lp = model.forward(TokenBatch(sequences: [e.ids.map(Int.init)]))
                return (e.responseStart - 1..<(e.ids.count - 1)).reduce(0.0) { $0 + Double(lp[$1]) }
            }
        }
        let policy = sums(makeModel()), reference = sums(other)
        let expected = (0..<pairs.count).map { i -> Double in
            let z = (policy[2 * i] - reference[2 * i]) - (policy[2 * i + 1] - reference[2 * i + 1])
            return log(1 + exp(-0.5 * z))
        }.reduce(0, +) / Double(pairs.count)
        XCTAssertEqual(m.loss, expected, accuracy: 1e-5)
        XCTAssertNotEqual(withReference.referenceIdentity, own.referenceIdentity)
    }

    func test_theReferenceCache_isRefusedForAnotherReference() throws {
        let batch = PreferenceTokenBatch(pairs: pairs, pairIDs: [0, 1, 2, 3])
        let a = try EngineBackend(model: makeModel(), settings: settings(), reference: makeModel(seed: 9))
        _ = try a.evaluate(.dpo, batch: batch, gradientWeight: 1)
        _ = try a.applyUpdate()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-state-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try a.saveState(to: dir)
        XCTAssertNoThrow(try EngineBackend(model: makeModel(), settings: settings(), reference: makeModel(seed: 9)).loadState(from: dir))
        let other = try EngineBackend(model: makeModel(), settings: settings())
        XCTAssertThrowsError(try other.loadState(from: dir)) { error in
            XCTAssertTrue("\(error)".contains("reference_logps.json"), "\(error)")
            XCTAssertTrue("\(error)".contains("--ref-model"), "\(error)")
        }
    }

    func test_referenceModel_mustShareTheVocabulary_andExist() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-ref-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let small = GPTNeoX(config: ModelPreset.tiny.config(vocabSize: 20))
        small.initializeRandomly(seed: 1)
        try ModelDirectory.save(small, to: dir, mergeAdapters: true, tokenizerFile: nil)
        XCTAssertThrowsError(try ReferenceModel.load(dir.path, policy: makeModel(), maxLength: 16)) {
            XCTAssertTrue("\($0)".contains("vocab_size 20 differs from the policy's 30"), "\($0)")
        }
        XCTAssertThrowsError(try ReferenceModel.load(dir.path + "-missing", policy: makeModel(), maxLength: 16)) {
            XCTAssertTrue("\($0)".contains("no such file or directory"), "\($0)")
        }
        // A run directory stands for its final model, and says so when it has none yet.
        let run = dir.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try Data("{}\n".utf8).write(to: run.appendingPathComponent("run.jsonl"))
        XCTAssertThrowsError(try ReferenceModel.resolve(run.path)) { XCTAssertTrue("\($0)".contains("no final model yet"), "\($0)") }
        try ModelDirectory.save(makeModel(), to: run.appendingPathComponent("final"), mergeAdapters: true, tokenizerFile: nil)
        XCTAssertEqual(try ReferenceModel.resolve(run.path).lastPathComponent, "final")
        XCTAssertEqual(try ReferenceModel.load(run.path, policy: makeModel(), maxLength: 16).config.vocabSize, 30)
    }

    func test_referenceFront_readsPointLines_andSweepCSVs() throws {
        XCTAssertEqual(try ReferenceFront.parse("# front\n1.5, 0.7\n\n2 0.6  # spaces too\n", path: "f"),
                       [Optima(sft: 1.5, dpo: 0.7), Optima(sft: 2, dpo: 0.6)])
        let csv = "strategy,lambda,steps,f_sft,f_dpo,ideal_distance\nalright,0.50,10,1.25,0.5,0.1\nmix,0.50,10,,,\n"
        XCTAssertEqual(try ReferenceFront.parse(csv, path: "sweep.csv"), [Optima(sft: 1.25, dpo: 0.5)])
    }

    func test_referenceFront_errorsNameTheFileAndLine() {
        func refused(_ text: String, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try ReferenceFront.parse(text, path: "front.txt")) {
                XCTAssertTrue("\($0)".contains(fragment), "\($0)", line: line)
            }
        }
        refused("1.5,0.7\n1.5,x\n", "front.txt:2: f_dpo: expected a finite number, found 'x'")
        refused("1.5,0.7,3\n", "front.txt:1: expected two numbers")
        refused("name,value\n1,2\n", "front.txt:1: expected two numbers (f_sft, f_dpo) or a header row")
        refused("f_sft,f_dpo\n1\n", "front.txt:2: expected at least 2 fields")
        refused("# nothing\n", "front.txt: no points")
        refused("nan,1\n", "front.txt:1: f_sft: expected a finite number")
        XCTAssertThrowsError(try ReferenceFront.read("/nonexistent/front.txt")) {
            XCTAssertTrue("\($0)".contains("/nonexistent/front.txt: cannot read the file"), "\($0)")
        }
    }
}
