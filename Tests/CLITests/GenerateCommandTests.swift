import Foundation
import TestSupport
import XCTest

/// `xright generate` end to end: a run directory's final model, SmolLM2's reply, and every bad input refused
/// with a message that names the flag or file.
final class GenerateCommandTests: XCTestCase {
    var llamaFixture: URL { TestPaths.fixture("EngineTests", "llama-gqa4x2-untied") }

    func test_generatesFromARunDirectory_itsFinalModel() throws {
        let dir = try scratchDirectory()
        let run = dir.appendingPathComponent("run")
        let t = try XRightProcess.run(["train", "--headless", "--max-steps", "1", "--eval-every", "0",
                                       "--run-dir", run.path] + TinyRun.options, in: dir)
        XCTAssertEqual(t.status, 0, t.transcript)
        let r = try XRightProcess.run(["generate", "--model", run.path, "--prompt", "hello", "--max-new-tokens", "5",
                                       "--json", "--threads", "1"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(record["prompt"] as? String, "hello")
        let ids = try XCTUnwrap(record["ids"] as? [Int])
        XCTAssertEqual(record["new_tokens"] as? Int, ids.count)
        XCTAssertTrue(["end_token", "max_tokens"].contains(record["stop_reason"] as? String ?? ""), r.transcript)
        XCTAssertNotNil(record["time_to_first_token_s"] as? Double)
        // Greedy is deterministic: the same command gives the same ids.
        let again = try XRightProcess.run(["generate", "--model", run.path, "--prompt", "hello", "--max-new-tokens", "5",
                                           "--json", "--threads", "1"], in: dir)
        let second = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(second["ids"] as? [Int], ids)
        XCTAssertEqual(second["reply"] as? String, record["reply"] as? String)
    }

    func test_smolLM2_answersTheCapitalOfFrance_streamedWithStats() throws {
        let model = try SmolLM2File.url()
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["generate", "--model", model.path, "--prompt", "What is the capital of France?",
                                       "--max-new-tokens", "32"], in: dir, timeout: 300)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertEqual(r.stdout, "The capital of France is Paris.\n")
        XCTAssertTrue(r.stderr.contains("stop: end_token"), r.transcript)
        XCTAssertTrue(r.stderr.contains("tokens/s"), r.transcript)
    }

    func test_missingModel_isNamed() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["generate", "--model", dir.appendingPathComponent("nope").path, "--prompt", "x"], in: dir)
        assertRefused(r, mentioning: ["--model", "nope", "no such file or directory"])
    }

    func test_directoryWithoutModelOrRun_isRefused() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["generate", "--model", dir.path, "--prompt", "x"], in: dir)
        assertRefused(r, mentioning: ["no config.json", "no run.jsonl"])
    }

    func test_runWithoutFinalModel_saysSo() throws {
        let dir = try scratchDirectory()
        try Data().write(to: dir.appendingPathComponent("run.jsonl"))
        let r = try XRightProcess.run(["generate", "--model", dir.path, "--prompt", "x"], in: dir)
        assertRefused(r, mentioning: ["no final/ model"])
    }

    func test_modelWithoutTokenizer_isNamed() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["generate", "--model", llamaFixture.path, "--prompt", "x"], in: dir)
        assertRefused(r, mentioning: ["tokenizer.json", "missing"])
    }

    func test_emptyPromptFile_isNamed() throws {
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("prompts.txt")
        try Data("\n  \n".utf8).write(to: file)
        let r = try XRightProcess.run(["generate", "--model", llamaFixture.path, "--prompts", file.path], in: dir)
        assertRefused(r, mentioning: [file.path, "no prompts"])
    }

    func test_badJSONLPromptLine_isNamedByLine() throws {
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("prompts.jsonl")
        try Data("{\"prompt\": \"ok\"}\n{\"question\": \"x\"}\n".utf8).write(to: file)
        let r = try XRightProcess.run(["generate", "--model", llamaFixture.path, "--prompts", file.path], in: dir)
        assertRefused(r, mentioning: ["\(file.path):2", "\"prompt\""])
    }

    func test_noPromptAndEmptyPrompt_areRefused() throws {
        let dir = try scratchDirectory()
        assertRefused(try XRightProcess.run(["generate", "--model", llamaFixture.path], in: dir),
                      mentioning: ["--prompt TEXT or --prompts FILE"])
        assertRefused(try XRightProcess.run(["generate", "--model", llamaFixture.path, "--prompt", ""], in: dir),
                      mentioning: ["--prompt is empty"])
    }

    func test_badSamplingValues_nameTheFlag() throws {
        let dir = try scratchDirectory()
        for (flag, value) in [("--temperature", "-0.5"), ("--top-k", "0"), ("--top-p", "1.5"), ("--min-p", "1"),
                              ("--max-new-tokens", "0")] {
            let r = try XRightProcess.run(["generate", "--model", llamaFixture.path, "--prompt", "x", flag, value], in: dir)
            assertRefused(r, mentioning: [flag])
        }
    }

    func test_unknownTemplate_isRefused() throws {
        let dir = try scratchDirectory()
        let model = dir.appendingPathComponent("m")
        try FileManager.default.copyItem(at: llamaFixture, to: model)
        try FileManager.default.copyItem(at: TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json"),
                                         to: model.appendingPathComponent("tokenizer.json"))
        let r = try XRightProcess.run(["generate", "--model", model.path, "--prompt", "x", "--template", "nonsense"], in: dir)
        assertRefused(r, mentioning: ["--template", "nonsense"])
    }
}
