import Engine
import Foundation
import TestSupport
import XCTest

/// `xright train --model DIR` and `xright score --model DIR` on a Llama-family Hugging Face directory: the
/// architecture comes from config.json, LoRA targets default to the architecture's, and the result saves as a
/// Llama directory again.
final class LlamaTrainTests: XCTestCase {
    /// A tiny random Llama (GQA 4:2, tied embeddings) with the byte tokenizer's vocabulary, written by the engine.
    private func tinyLlama(in dir: URL) throws -> (url: URL, model: Llama) {
        let model = Llama(config: LlamaConfig(vocabSize: 258, hiddenSize: 32, numLayers: 2, numHeads: 4, numKVHeads: 2,
                                              intermediateSize: 48, ropeTheta: 10_000, maxPositions: 256,
                                              tieWordEmbeddings: true))
        model.initializeRandomly(seed: 5)
        let url = dir.appendingPathComponent("tiny-llama")
        try ModelDirectory.save(model, to: url)
        return (url, model)
    }

    private let trainOptions = ["--tokenizer", "byte", "--demo-examples", "60", "--batch-size", "4", "--threads", "1", "--eval-every", "0",
                                "--max-steps", "3"]

    func test_train_fullFineTuning_onALlamaDirectory_savesALlamaThatMoved() throws {
        let dir = try scratchDirectory()
        let (url, before) = try tinyLlama(in: dir)
        let run = dir.appendingPathComponent("run")
        let r = try XRightProcess.run(["train", "--headless", "--model", url.path, "--run-dir", run.path] + trainOptions, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let after = try XCTUnwrap(try ModelDirectory.load(run.appendingPathComponent("final")) as? Llama)
        XCTAssertEqual(after.config, before.config)
        XCTAssertNotEqual(after.parameters.values.array, before.parameters.values.array, "three steps changed the weights")
    }

    func test_train_withLoRA_defaultsToAllSevenProjectionsAndSavesPEFTAdapters() throws {
        let dir = try scratchDirectory()
        let (url, _) = try tinyLlama(in: dir)
        let run = dir.appendingPathComponent("run")
        let r = try XRightProcess.run(["train", "--headless", "--model", url.path, "--run-dir", run.path, "--lora-rank", "4"]
                                      + trainOptions, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("adapters/adapter_config.json"))) as? [String: Any]
        XCTAssertEqual(config?["target_modules"] as? [String], Llama.adaptableLayers)
        XCTAssertTrue(try ModelDirectory.load(run.appendingPathComponent("final")) is Llama)
    }

    func test_train_withATargetOfAnotherArchitecture_isRefused() throws {
        let dir = try scratchDirectory()
        let (url, _) = try tinyLlama(in: dir)
        let r = try XRightProcess.run(["train", "--headless", "--model", url.path, "--run-dir", dir.appendingPathComponent("r").path,
                                       "--lora-rank", "4", "--lora-targets", "query_key_value"] + trainOptions, in: dir)
        assertRefused(r, mentioning: ["query_key_value", "q_proj"])
    }

    func test_score_onALlamaDirectory() throws {
        let dir = try scratchDirectory()
        let (url, _) = try tinyLlama(in: dir)
        let sft = TestPaths.fixture("CLITests", "score").appendingPathComponent("sft.jsonl")
        let r = try XRightProcess.run(["score", "--model", url.path, "--tokenizer", "byte", "--sft", sft.path, "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stdout.contains("loss"), r.stdout)
    }
}
