import Engine
import Foundation
import TestSupport
import XCTest

/// Reward models (sequence-classification checkpoints) score token sequences as transformers does
/// (scripts/goldens/make_reward_goldens.py): GPT-NeoX and Llama (tied config), the last non-pad token's score.
final class RewardHeadTests: XCTestCase {
    static let fixtures = TestPaths.fixture("EngineTests", "reward")

    func expected(_ name: String) throws -> (sequences: [[Int]], scores: [Double]) {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("expected.json"))
        let all = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entry = try XCTUnwrap(all[name] as? [String: Any])
        return (try XCTUnwrap(entry["sequences"] as? [[Int]]), try XCTUnwrap(entry["scores"] as? [Double]))
    }

    func test_scoresEqualTransformers_forGPTNeoXAndLlama_oneAtATimeAndBatched() throws {
        for name in ["neox", "llama"] {
            let model = try RewardModel.load(Self.fixtures.appendingPathComponent(name))
            XCTAssertEqual(model.padTokenId, 0, name)
            let (sequences, want) = try expected(name)
            let batched = try model.scores(sequences, batchSize: 4)
            let single = try sequences.map { try model.scores([$0])[0] }
            for i in want.indices {
                XCTAssertEqual(batched[i], want[i], accuracy: 1e-4 * max(1, abs(want[i])), "\(name) sequence \(i) (batched)")
                XCTAssertEqual(single[i], want[i], accuracy: 1e-4 * max(1, abs(want[i])), "\(name) sequence \(i)")
            }
            // The scores differ from one another: the golden is not a constant.
            XCTAssertGreaterThan(Set(want.map { ($0 * 1e4).rounded() }).count, 3, name)
        }
    }

    func test_scoredPosition_isTheLastNonPadToken() throws {
        let model = try RewardModel.load(Self.fixtures.appendingPathComponent("neox"))
        XCTAssertEqual(model.scoredPosition([4, 5, 6]), 2)
        XCTAssertEqual(model.scoredPosition([4, 5, 0, 0]), 1)
        XCTAssertEqual(model.scoredPosition([4, 0, 6]), 2)
        XCTAssertEqual(model.scoredPosition([0, 0]), 1, "all pad: the last position")
    }

    func test_aCausalModelDirectory_isNotARewardModel() throws {
        let causal = TestPaths.fixture("EngineTests", "llama-gqa4x2-untied")
        XCTAssertThrowsError(try RewardModel.load(causal)) { error in
            XCTAssertTrue("\(error)".contains("score.weight"), "\(error)")
        }
    }

    func test_missingConfig_isNamed() throws {
        let dir = try TestPaths.temporaryDirectory("reward")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try RewardModel.load(dir)) { error in
            XCTAssertTrue("\(error)".contains("config.json"), "\(error)")
        }
    }

    /// A head of two labels (a classifier, not a reward model) and a head of the wrong width are refused.
    func test_headWithTwoLabelsOrWrongWidth_isRefused() throws {
        for (rows, columns, expected) in [(2, 16, "num_labels 2"), (1, 8, "expected [1, 16]")] {
            let dir = try TestPaths.temporaryDirectory("reward")
            defer { try? FileManager.default.removeItem(at: dir) }
            let source = Self.fixtures.appendingPathComponent("neox")
            try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
            let file = try SafeTensorsFile(contentsOf: source.appendingPathComponent("model.safetensors"))
            var arrays = [(name: String, shape: [Int], values: [Float])]()
            for name in file.tensorNames where name != "score.weight" {
                arrays.append((name, file.shape(of: name)!, try file.floats(name)))
            }
            arrays.append(("score.weight", [rows, columns], [Float](repeating: 0.5, count: rows * columns)))
            try SafeTensorsWriter.write(arrays: arrays, to: dir.appendingPathComponent("model.safetensors"))
            XCTAssertThrowsError(try RewardModel.load(dir)) { error in
                XCTAssertTrue("\(error)".contains("score.weight") && "\(error)".contains(expected), "\(error)")
            }
        }
    }

    func test_badInputs_areRefusedNotCrashed() throws {
        let model = try RewardModel.load(Self.fixtures.appendingPathComponent("neox"))
        XCTAssertThrowsError(try model.scores([[]])) { XCTAssertTrue("\($0)".contains("empty"), "\($0)") }
        XCTAssertThrowsError(try model.scores([[1, 410]])) { XCTAssertTrue("\($0)".contains("410"), "\($0)") }
        XCTAssertThrowsError(try model.scores([[Int](repeating: 3, count: 129)])) {
            XCTAssertTrue("\($0)".contains("128"), "\($0)")
        }
    }
}
