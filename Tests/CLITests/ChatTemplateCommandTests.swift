import Engine
import Foundation
import TestSupport
import Training
import XCTest

/// The prompt format follows the model: a model directory whose tokenizer_config.json has a chat template trains,
/// checks data and scores through it unless `--template` says otherwise; the run header records the format and a
/// resume refuses another; an unknown template is refused naming `--template` (docs/DATA.md, "Prompt formats").
final class ChatTemplateCommandTests: XCTestCase {
    private let smolLM2Template = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
        + "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
        + "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

    private var conversations: String { TestPaths.fixture("DataTests", "conversations.jsonl").path }

    /// A tiny random Llama with the chat fixture tokenizer and, when given, a tokenizer_config.json chat template.
    private func model(in dir: URL, chatTemplate: String?) throws -> URL {
        let model = Llama(config: LlamaConfig(vocabSize: 420, hiddenSize: 32, numLayers: 1, numHeads: 4, numKVHeads: 2,
                                              intermediateSize: 48, ropeTheta: 10_000, maxPositions: 256,
                                              tieWordEmbeddings: true))
        model.initializeRandomly(seed: 3)
        let url = dir.appendingPathComponent("chat-llama")
        try ModelDirectory.save(model, to: url)
        try? FileManager.default.removeItem(at: url.appendingPathComponent("tokenizer.json"))
        try FileManager.default.copyItem(at: TestPaths.fixture("DataTests", "chat_tokenizer.json"),
                                         to: url.appendingPathComponent("tokenizer.json"))
        try writeConfig(url, chatTemplate: chatTemplate)
        return url
    }

    private func writeConfig(_ url: URL, chatTemplate: String?) throws {
        var config: [String: Any] = ["bos_token": "<|im_start|>", "eos_token": "<|im_end|>"]
        config["chat_template"] = chatTemplate
        try JSONSerialization.data(withJSONObject: config).write(to: url.appendingPathComponent("tokenizer_config.json"))
    }

    private func train(_ model: URL, _ run: URL, _ extra: [String] = [], in dir: URL) throws -> XRightProcess.Result {
        try XRightProcess.run(["train", "--headless", "--model", model.path, "--run-dir", run.path, "--sft", conversations,
                               "--strategy", "sft-only", "--batch-size", "2", "--threads", "1", "--eval-fraction", "0",
                               "--max-steps", "2", "--checkpoint-every", "1"] + extra, in: dir)
    }

    func test_train_usesTheModelsChatTemplate_recordsIt_andResumeRefusesAnother() throws {
        let dir = try scratchDirectory()
        let url = try model(in: dir, chatTemplate: smolLM2Template)
        let run = dir.appendingPathComponent("run")
        let r = try train(url, run, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let header = try RunLogReader.header(of: run.appendingPathComponent("run.jsonl"))
        XCTAssertEqual(header.settings["prompt_format"], "chat:chatml")

        // Generating from the run asks in the format it trained in: the same prompt ids as the original model.
        func promptTokens(_ arguments: [String]) throws -> Int {
            let g = try XRightProcess.run(["generate", "--prompt", "Hi", "--max-new-tokens", "1", "--json",
                                           "--threads", "1"] + arguments, in: dir)
            XCTAssertEqual(g.status, 0, g.transcript)
            let record = try JSONSerialization.jsonObject(with: Data(g.stdout.utf8)) as? [String: Any]
            return try XCTUnwrap(record?["prompt_tokens"] as? Int, g.transcript)
        }
        let viaRun = try promptTokens(["--model", run.path])
        XCTAssertEqual(viaRun, try promptTokens(["--model", url.path]))
        XCTAssertNotEqual(viaRun, try promptTokens(["--model", run.path, "--template", "xright"]))

        // Without its chat template the model would train in the default text template: the resume is refused.
        try writeConfig(url, chatTemplate: nil)
        let resumed = try XRightProcess.run(["train", "--headless", "--resume", run.path], in: dir)
        assertRefused(resumed, mentioning: ["trained in prompt format chat:chatml", "now give xright"])
    }

    func test_train_templateOverridesTheModelsChatTemplate() throws {
        let dir = try scratchDirectory()
        let url = try model(in: dir, chatTemplate: smolLM2Template)
        let run = dir.appendingPathComponent("run")
        let r = try train(url, run, ["--template", "llama3"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertEqual(try RunLogReader.header(of: run.appendingPathComponent("run.jsonl")).settings["prompt_format"],
                       "chat:llama3")
    }

    func test_train_withAnUnknownChatTemplate_isRefusedNamingTemplate() throws {
        let dir = try scratchDirectory()
        let url = try model(in: dir, chatTemplate: "{{ messages[0]['content'] }} <|assistant|>")
        let r = try train(url, dir.appendingPathComponent("run"), in: dir)
        assertRefused(r, mentioning: ["tokenizer_config.json", "not one xright recognises", "--template"])
        // --template chooses a format instead, and the run goes ahead.
        let ok = try train(url, dir.appendingPathComponent("run2"), ["--template", "xright"], in: dir)
        XCTAssertEqual(ok.status, 0, ok.transcript)
    }

    func test_dataCheck_withModel_reportsTurnsThroughItsChatTemplate() throws {
        let dir = try scratchDirectory()
        let url = try model(in: dir, chatTemplate: smolLM2Template)
        let r = try XRightProcess.run(["data", "check", conversations, "--model", url.path], in: dir, timeout: 30)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stdout.contains("turns: 11 messages in 3 conversations  trained replies: 5"), r.transcript)
        XCTAssertTrue(r.stdout.contains("masked share: "), r.transcript)
        XCTAssertTrue(r.stdout.contains("template chat:chatml, 5 sequences"), r.transcript)

        let named = try XRightProcess.run(["data", "check", conversations, "--template", "chatml", "--tokenizer",
                                           TestPaths.fixture("DataTests", "chat_tokenizer.json").path], in: dir, timeout: 30)
        XCTAssertEqual(named.status, 0, named.transcript)
        XCTAssertTrue(named.stdout.contains("template chat:chatml, 5 sequences"), named.transcript)
        let bad = try XRightProcess.run(["data", "check", conversations, "--template", "vicuna"], in: dir, timeout: 30)
        assertRefused(bad, mentioning: ["--template", "vicuna", "chatml"])
        let missing = try XRightProcess.run(["data", "check", conversations, "--model", dir.appendingPathComponent("none").path],
                                            in: dir, timeout: 30)
        assertRefused(missing, mentioning: ["--model", "no such file or directory"])
    }

    func test_score_scoresThroughTheModelsChatTemplate() throws {
        let dir = try scratchDirectory()
        let url = try model(in: dir, chatTemplate: smolLM2Template)
        let sft = TestPaths.fixture("CLITests", "score").appendingPathComponent("sft.jsonl")
        let chat = try XRightProcess.run(["score", "--model", url.path, "--sft", sft.path, "--json"], in: dir)
        let raw = try XRightProcess.run(["score", "--model", url.path, "--sft", sft.path, "--json", "--template", "raw"], in: dir)
        XCTAssertEqual(chat.status, 0, chat.transcript)
        XCTAssertEqual(raw.status, 0, raw.transcript)
        XCTAssertNotEqual(chat.stdout, raw.stdout, "the chat template changes the scored sequences")
    }
}
