import Foundation
import TestSupport
import XCTest

/// Inputs that cannot train or score are refused before any step, naming the file, record or setting.
final class SetupErrorTests: XCTestCase {
    var scoreFixtures: URL { TestPaths.fixture("CLITests", "score") }
    var tinyBPE: URL { TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json") }

    /// A model directory whose vocabulary is the byte tokenizer's (258 ids), trained one step by xright itself.
    private func byteVocabularyModel(in dir: URL) throws -> URL {
        let run = dir.appendingPathComponent("byte-run")
        let r = try XRightProcess.run(["train", "--headless", "--max-steps", "1", "--eval-every", "0",
                                       "--run-dir", run.path] + TinyRun.options, in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        return run.appendingPathComponent("final")
    }

    func test_train_refusesTokenizerLargerThanModelVocabulary() throws {
        let dir = try scratchDirectory()
        let model = try byteVocabularyModel(in: dir)
        let r = try XRightProcess.run(["train", "--headless", "--model", model.path, "--tokenizer", tinyBPE.path,
                                       "--max-steps", "1", "--run-dir", dir.appendingPathComponent("r").path], in: dir)
        assertRefused(r, mentioning: ["produces ids up to 403", "vocab_size is 258"])
    }

    func test_score_refusesTokenizerLargerThanModelVocabulary() throws {
        let dir = try scratchDirectory()
        let model = try byteVocabularyModel(in: dir)
        let r = try XRightProcess.run(["score", "--model", model.path, "--tokenizer", tinyBPE.path,
                                       "--sft", scoreFixtures.appendingPathComponent("sft.jsonl").path, "--json"], in: dir)
        assertRefused(r, mentioning: ["ids up to 403", "vocab_size is 258"])
    }

    func test_train_refusesMaxLenBeyondModelPositions() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--headless", "--max-len", "1000", "--run-dir",
                                       dir.appendingPathComponent("r").path] + TinyRun.options, in: dir)
        assertRefused(r, mentioning: ["--max-len", "1000 tokens is more than the model's max_position_embeddings (256)"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("r/checkpoints").path),
                       "nothing should be trained")
    }

    func test_score_refusesSequenceLongerThanModelPositions() throws {
        let dir = try scratchDirectory()
        let long = dir.appendingPathComponent("long.jsonl")
        let response = String(repeating: "many words make a long reply ", count: 20)
        try ("{\"prompt\": \"short\", \"response\": \"ok\"}\n{\"prompt\": \"tell me\", \"response\": \"\(response)\"}\n")
            .write(to: long, atomically: true, encoding: .utf8)
        let r = try XRightProcess.run(["score", "--model", scoreFixtures.appendingPathComponent("policy").path,
                                       "--tokenizer", tinyBPE.path, "--sft", long.path, "--json"], in: dir)
        assertRefused(r, mentioning: [long.path, "record 2", "max_position_embeddings 64"])
    }

    func test_train_refusesDataSetWhoseRecordsAreAllBad() throws {
        let dir = try scratchDirectory()
        let bad = dir.appendingPathComponent("bad.jsonl")
        try "{\"prompt\": \"a\", \"answer\": \"no response field\"}\n{\"prompt\": 3, \"response\": \"x\"}\n"
            .write(to: bad, atomically: true, encoding: .utf8)
        let r = try XRightProcess.run(["train", "--headless", "--sft", bad.path, "--format", "prompt-response",
                                       "--run-dir", dir.appendingPathComponent("r").path] + TinyRun.options, in: dir)
        assertRefused(r, mentioning: [bad.path])
        XCTAssertTrue(r.stderr.contains("no usable training records") || r.stderr.contains("no records"), r.transcript)
    }

    func test_train_refusesRunDirectoryUnderARegularFile() throws {
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("plain-file")
        try "not a directory".write(to: file, atomically: true, encoding: .utf8)
        let runDir = file.appendingPathComponent("run")
        let r = try XRightProcess.run(["train", "--headless", "--max-steps", "2", "--run-dir", runDir.path]
                                      + TinyRun.options, in: dir)
        assertRefused(r, mentioning: [file.path])
    }

    func test_resume_refusesDirectoryWithoutRun() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--headless", "--resume", dir.path], in: dir)
        assertRefused(r, mentioning: [dir.appendingPathComponent("run.jsonl").path])
    }
}
