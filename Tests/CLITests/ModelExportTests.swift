import Engine
import GGUF
import Foundation
import Text
import TestSupport
import XCTest

/// What a run saves and `xright export` writes, read by the tools they are for: `transformers`
/// (AutoModelForCausalLM / AutoTokenizer, also with `gguf_file=`) and the `gguf` package give the logits and
/// token ids xright gives on the same files (checked by the committed scripts/check_saved_model.py;
/// docs/GGUF.md, "Saving" and "Export").
final class ModelExportTests: XCTestCase {
    private static var pythonProblem: String??

    /// Skips unless python3 imports transformers, torch and gguf (asked once per process).
    private func requirePython() throws {
        if Self.pythonProblem == nil {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            probe.arguments = ["python3", "-c", "import transformers, torch, gguf"]
            probe.standardOutput = FileHandle.nullDevice
            probe.standardError = FileHandle.nullDevice
            let started = (try? probe.run()) != nil
            if started { probe.waitUntilExit() }
            Self.pythonProblem = .some(started && probe.terminationStatus == 0 ? nil
                : "python3 cannot import transformers, torch and gguf (pip install transformers torch gguf, or scripts/setup-python)")
        }
        if let problem = Self.pythonProblem! { throw XCTSkip(problem) }
    }

    /// Logits xright computes at the last position of each sequence.
    private func lastLogits(_ model: any CausalLanguageModel, _ sequences: [[Int]]) -> [[Float]] {
        sequences.map { ids in
            model.forward(TokenBatch(sequences: [ids]))
            return Array(model.lastLogits().suffix(model.config.vocabSize))
        }
    }

    /// Runs the check script on `model` (a directory or .gguf) against xright's own reading of it.
    private func assertTransformersAgrees(_ model: URL, sequences: [[Int]], tolerance: Double, texts: [String] = [],
                                          tokenizer: (any Tokenizer)? = nil, chatTemplate: String? = nil,
                                          gguf: [String: Any]? = nil, in dir: URL,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        let network = try ModelDirectory.load(model)
        var expect: [String: Any] = ["model": model.path, "ids": sequences,
                                     "logits": lastLogits(network, sequences).map { $0.map(Double.init) },
                                     "tolerance": tolerance]
        if let tokenizer {
            expect["texts"] = texts
            expect["text_ids"] = texts.map(tokenizer.encode)
        }
        if let chatTemplate { expect["chat_template"] = chatTemplate }
        if let gguf { expect["gguf"] = gguf }
        let expectURL = dir.appendingPathComponent("expect-\(UUID().uuidString.prefix(6)).json")
        try JSONSerialization.data(withJSONObject: expect).write(to: expectURL)
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", TestPaths.packageRoot.appendingPathComponent("scripts/check_saved_model.py").path, expectURL.path]
        let output = dir.appendingPathComponent("check-output.txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        check.standardOutput = try FileHandle(forWritingTo: output)
        check.standardError = check.standardOutput
        try check.run()
        check.waitUntilExit()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        XCTAssertEqual(check.terminationStatus, 0, "\(model.path):\n\(text.suffix(3000))", file: file, line: line)
        XCTAssertTrue(text.contains("OK: logits"), text, file: file, line: line)
    }

    /// A tiny random Llama (GQA 4:2) with the byte tokenizer's vocabulary, written by the engine.
    private func tinyLlama(in dir: URL) throws -> URL {
        let model = Llama(config: LlamaConfig(vocabSize: 258, hiddenSize: 64, numLayers: 2, numHeads: 4, numKVHeads: 2,
                                              intermediateSize: 96, maxPositions: 256))
        model.initializeRandomly(seed: 5)
        let url = dir.appendingPathComponent("tiny-llama")
        try ModelDirectory.save(model, to: url)
        return url
    }

    private let texts = ["Hello, world!", "  two  spaces\tand a tab\n", "naïve café ☕ 東京", "<|endoftext|>after"]

    // MARK: A run's saved model

    func test_tinyLlamaRun_bf16_finalAndCheckpoints_loadInTransformersWithTheSameLogitsAndTokenIds() throws {
        try requirePython()
        let dir = try scratchDirectory()
        let model = try tinyLlama(in: dir)
        let run = dir.appendingPathComponent("run")
        let r = try XRightProcess.run(["train", "--headless", "--model", model.path, "--tokenizer", "byte", "--run-dir", run.path,
                                       "--demo-examples", "40", "--batch-size", "4", "--threads", "1", "--eval-every", "0",
                                       "--max-steps", "4", "--checkpoint-every", "2", "--save-dtype", "bf16"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let final = run.appendingPathComponent("final")
        let checkpoint = run.appendingPathComponent("checkpoints/step-000002/model")
        for saved in [final, checkpoint] {
            for name in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: saved.appendingPathComponent(name).path), "\(saved.path)/\(name)")
            }
            let weights = try SafeTensorsFile(contentsOf: saved.appendingPathComponent("model.safetensors"))
            XCTAssertEqual(weights.info("model.norm.weight")?.dtype, .bf16)
            try assertTransformersAgrees(saved, sequences: [[72, 101, 108, 108, 111], Array(32..<96)], tolerance: 1e-4,
                                         texts: texts, tokenizer: ByteTokenizer(), in: dir)
        }
        // The training state beside it stays float32: that is what a resume reads.
        let state = try SafeTensorsFile(contentsOf: run.appendingPathComponent("checkpoints/step-000002/backend/trainable.safetensors"))
        XCTAssertEqual(state.info("model.norm.weight")?.dtype, .f32)
    }

    func test_saveDType_rejectsAnUnknownType() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--headless", "--preset", "tiny", "--save-dtype", "f8"], in: dir)
        assertRefused(r, mentioning: ["--save-dtype", "f8"])
    }

    // MARK: SmolLM2 from its GGUF: train, save, export

    /// One LoRA step on SmolLM2-135M-Instruct from the GGUF; final/ (bf16) loads in transformers with xright's
    /// logits, the GGUF's tokenizer ids and chat template; `export gguf` (f16, q8_0) of that final/ loads with
    /// `gguf_file=` with the logits xright gives on the exported file and close to the directory's; `export hf`
    /// of the exported GGUF loads again.
    func test_smolLM2Run_final_andItsGGUFAndHFExports_loadInTransformers() throws {
        try requirePython()
        let gguf = try SmolLM2File.url()
        let dir = try scratchDirectory()
        let run = dir.appendingPathComponent("run")
        let r = try XRightProcess.run(["train", "--headless", "--model", gguf.path, "--run-dir", run.path, "--demo-examples", "20",
                                       "--batch-size", "2", "--max-len", "24", "--eval-every", "0", "--max-steps", "1",
                                       "--lora-rank", "4", "--threads", "2", "--save-dtype", "bf16"], in: dir, timeout: 600)
        XCTAssertEqual(r.status, 0, r.transcript)
        let final = run.appendingPathComponent("final")
        let tokenizer = try BPETokenizer(ggufFile: gguf)
        let template = try XCTUnwrap(try GGUFTokenizerInfo(file: try GGUFFile(contentsOf: gguf)).chatTemplate)
        let prompts = ["<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n", "Once upon a time"]
        let sequences = prompts.map(tokenizer.encode)
        let smolTexts = texts + prompts
        try assertTransformersAgrees(final, sequences: sequences, tolerance: 1e-3, texts: smolTexts, tokenizer: tokenizer,
                                     chatTemplate: template, in: dir)

        let fromDirectory = lastLogits(try ModelDirectory.load(final), sequences)
        for (type, closeness) in [("f16", 2e-2), ("q8_0", 6e-2)] {
            let out = dir.appendingPathComponent("smol-\(type).gguf")
            let e = try XRightProcess.run(["export", "gguf", out.path, "--type", type, run.path], in: dir, timeout: 600)
            XCTAssertEqual(e.status, 0, e.transcript)
            let ggmlType = type == "f16" ? "F16" : "Q8_0"
            try assertTransformersAgrees(out, sequences: sequences, tolerance: 1e-3, texts: smolTexts, tokenizer: tokenizer,
                                         chatTemplate: template,
                                         gguf: ["architecture": "llama",
                                                "keys": ["llama.attention.head_count_kv", "llama.rope.freq_base",
                                                         "tokenizer.ggml.merges", "tokenizer.chat_template"],
                                                "tensor_types": ["blk.0.attn_q.weight": ggmlType, "blk.0.attn_norm.weight": "F32"]],
                                         in: dir)
            // The export's logits stay within the type's rounding of the directory's.
            let exported = lastLogits(try ModelDirectory.load(out), sequences)
            for (a, b) in zip(exported, fromDirectory) {
                let scale = b.map(abs).max()!
                let worst = zip(a, b).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(worst / scale, Float(closeness), "\(type): export differs from the directory by \(worst / scale)")
            }
        }
        let hf = dir.appendingPathComponent("from-gguf")
        let h = try XRightProcess.run(["export", "hf", hf.path, dir.appendingPathComponent("smol-q8_0.gguf").path], in: dir, timeout: 600)
        XCTAssertEqual(h.status, 0, h.transcript)
        try assertTransformersAgrees(hf, sequences: sequences, tolerance: 1e-3, texts: smolTexts, tokenizer: tokenizer,
                                     chatTemplate: template, in: dir)
    }

    // MARK: export, fast cases and refusals

    func test_exportHF_ofATinyLlamaGGUF_andBackToGGUF_keepTheWeights() throws {
        let dir = try scratchDirectory()
        let model = try tinyLlama(in: dir)
        let gguf = dir.appendingPathComponent("tiny.gguf")
        let e = try XRightProcess.run(["export", "gguf", gguf.path, "--type", "f32", model.path], in: dir)
        assertRefused(e, mentioning: [model.path, "tokenizer.json"])
        try HuggingFaceTokenizerFiles.write(ByteTokenizer(), source: nil, to: model)
        let again = try XRightProcess.run(["export", "gguf", gguf.path, "--type", "f32", model.path], in: dir)
        XCTAssertEqual(again.status, 0, again.transcript)
        let hf = dir.appendingPathComponent("hf")
        let h = try XRightProcess.run(["export", "hf", hf.path, "--save-dtype", "f16", gguf.path], in: dir)
        XCTAssertEqual(h.status, 0, h.transcript)
        let original = try ModelDirectory.load(model), back = try ModelDirectory.load(hf)
        XCTAssertEqual(back.parameters.values.array, original.parameters.values.array.map(SaveDType.f16.rounded))
        let tokenizer = try TokenizerLoader.load(path: hf.path)
        for text in texts { XCTAssertEqual(tokenizer.encode(text), ByteTokenizer().encode(text), text) }
    }

    func test_exportHF_ofALoRACheckpoint_appliesItsAdaptersToTheBaseModel() throws {
        let dir = try scratchDirectory()
        let model = try tinyLlama(in: dir)
        let run = dir.appendingPathComponent("lora")
        let r = try XRightProcess.run(["train", "--headless", "--model", model.path, "--tokenizer", "byte", "--run-dir", run.path,
                                       "--demo-examples", "40", "--batch-size", "4", "--threads", "1", "--eval-every", "0",
                                       "--max-steps", "2", "--checkpoint-every", "2", "--lora-rank", "4"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let checkpoint = run.appendingPathComponent("checkpoints/step-000002")
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent("model/adapter_model.safetensors").path))
        let out = dir.appendingPathComponent("merged")
        let e = try XRightProcess.run(["export", "hf", out.path, checkpoint.path], in: dir)
        XCTAssertEqual(e.status, 0, e.transcript)
        // The checkpoint is the last step: base + its adapters is the run's final (merged) model.
        XCTAssertEqual(try ModelDirectory.load(out).parameters.values.array,
                       try ModelDirectory.load(run.appendingPathComponent("final")).parameters.values.array)

        let config = checkpoint.appendingPathComponent("model/adapter_config.json")
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any])
        json["base_model_name_or_path"] = nil
        try JSONSerialization.data(withJSONObject: json).write(to: config)
        assertRefused(try XRightProcess.run(["export", "hf", out.path, checkpoint.path], in: dir),
                      mentioning: [config.path, "base_model_name_or_path"])
    }

    func test_export_refusesGPTNeoXMissingPathsAndUnfinishedRuns() throws {
        let dir = try scratchDirectory()
        let run = dir.appendingPathComponent("neox")
        let t = try XRightProcess.run(["train", "--headless", "--preset", "tiny", "--run-dir", run.path, "--demo-examples", "20",
                                       "--batch-size", "4", "--max-steps", "1", "--eval-every", "0", "--threads", "1"], in: dir)
        XCTAssertEqual(t.status, 0, t.transcript)
        assertRefused(try XRightProcess.run(["export", "gguf", dir.appendingPathComponent("x.gguf").path, run.path], in: dir),
                      mentioning: ["only Llama-family", "gpt_neox"])
        assertRefused(try XRightProcess.run(["export", "hf", dir.appendingPathComponent("h").path, "/no/such/model"], in: dir),
                      mentioning: ["/no/such/model", "no such file"])
        try FileManager.default.removeItem(at: run.appendingPathComponent("final"))
        assertRefused(try XRightProcess.run(["export", "hf", dir.appendingPathComponent("h").path, run.path], in: dir),
                      mentioning: ["no final/ model yet", "checkpoints"])
        assertRefused(try XRightProcess.run(["export", "gguf", "x.gguf", "--type", "q4_0", run.path], in: dir),
                      mentioning: ["--type", "q4_0"])
    }
}
