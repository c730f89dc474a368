import Data
import Engine
import Foundation
import Training
import XCTest

/// In-step progress names the micro-batch: "micro-batch i of n" for every forward, backward and reference pass
/// of a training step, with and without `--grad-accum`.
final class MicroBatchProgressTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    private func example(_ prompt: [Int32], _ response: [Int32]) -> TokenizedExample {
        TokenizedExample(ids: prompt + response, responseStart: prompt.count)
    }

    private func phases(microBatches: Int, _ objective: Objective) throws -> [String] {
        let model = GPTNeoX(config: ModelPreset.tiny.config(vocabSize: 30))
        model.initializeRandomly(seed: 3, std: 0.2)
        let backend = try EngineBackend(model: model, settings: EngineBackend.Settings(
            schedule: LearningRateSchedule(base: 1e-2), microBatches: microBatches))
        XCTAssertEqual(backend.microBatches, microBatches)
        var seen = [String]()
        backend.phaseObserver = { phase, part, parts in
            seen.append(StepProgress(step: 4, activity: .training, phase: phase, objective: objective, part: part,
                                     parts: parts, seconds: 0).summary)
        }
        let examples = [example([1, 2], [3, 0]), example([5], [6, 7, 0]), example([8], [9, 0]), example([4], [2, 0])]
        switch objective {
        case .sft:
            _ = try backend.evaluate(.sft, batch: SFTTokenBatch(examples: examples), gradientWeight: 1)
        case .dpo:
            let pairs = [TokenizedPair(chosen: examples[0], rejected: examples[1]),
                         TokenizedPair(chosen: examples[2], rejected: examples[3])]
            _ = try backend.evaluate(.dpo, batch: PreferenceTokenBatch(pairs: pairs, pairIDs: [0, 1]), gradientWeight: 1)
        }
        return seen
    }

    func test_withoutGradientAccumulation_aStepIsMicroBatch1of1() throws {
        XCTAssertEqual(try phases(microBatches: 1, .sft),
                       ["step 5: sft forward (micro-batch 1 of 1)", "step 5: sft backward (micro-batch 1 of 1)"])
    }

    func test_withGradientAccumulation_eachMicroBatchIsNamed() throws {
        XCTAssertEqual(try phases(microBatches: 2, .sft),
                       ["step 5: sft forward (micro-batch 1 of 2)", "step 5: sft backward (micro-batch 1 of 2)",
                        "step 5: sft forward (micro-batch 2 of 2)", "step 5: sft backward (micro-batch 2 of 2)"])
        XCTAssertEqual(try phases(microBatches: 2, .dpo),
                       ["step 5: dpo reference (micro-batch 1 of 2)", "step 5: dpo forward (micro-batch 1 of 2)",
                        "step 5: dpo backward (micro-batch 1 of 2)", "step 5: dpo reference (micro-batch 2 of 2)",
                        "step 5: dpo forward (micro-batch 2 of 2)", "step 5: dpo backward (micro-batch 2 of 2)"])
    }

    func test_theOptimizerUpdate_hasNoMicroBatch() {
        XCTAssertEqual(StepProgress(step: 4, activity: .training, phase: .optimizer, objective: .dpo, part: 2, parts: nil,
                                    seconds: 1).summary, "step 5: optimizer update")
    }
}
