import Foundation
import XCTest

/// `--sample-every`, `--probe-prompts` and `--sample-tokens`: samples in the run log, and bad values refused clearly.
final class SampleOptionTests: XCTestCase {
    private func train(_ extra: [String], in dir: URL) throws -> XRightProcess.Result {
        try XRightProcess.run(["train", "--headless", "--max-steps", "4", "--run-dir", dir.appendingPathComponent("run").path]
                              + TinyRun.options + extra, in: dir)
    }

    func test_probePrompts_areAnsweredAtTheStartAndEveryNSteps_inTheLogAndOnStderr() throws {
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("probes.jsonl")
        try "What is 2 plus 2?\n\n{\"prompt\": \"Name a colour.\"}\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try train(["--probe-prompts", file.path, "--sample-every", "2", "--sample-tokens", "5"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let log = try String(contentsOf: dir.appendingPathComponent("run/run.jsonl"), encoding: .utf8)
        let samples = try log.split(separator: "\n").compactMap { line -> [String: Any]? in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["type"] as? String == "sample" ? object : nil
        }
        XCTAssertEqual(samples.map { $0["step"] as? Int }, [0, 0, 2, 2, 4, 4])
        XCTAssertEqual(samples.map { $0["prompt"] as? String }, Array(repeating: ["What is 2 plus 2?", "Name a colour."], count: 3).flatMap { $0 })
        XCTAssertTrue(samples.allSatisfy { ($0["tokens"] as? Int ?? 99) <= 5 })
        XCTAssertTrue(r.stderr.contains("samples: 2 probe prompts, 5 tokens, every 2 steps"), r.transcript)
        XCTAssertTrue(r.stderr.contains("sample @0 #1 \"What is 2 plus 2?\" → "), r.transcript)
    }

    func test_sampleEveryZero_turnsSamplesOff() throws {
        let dir = try scratchDirectory()
        let r = try train(["--sample-every", "0"], in: dir)
        XCTAssertEqual(r.status, 0, r.transcript)
        let log = try String(contentsOf: dir.appendingPathComponent("run/run.jsonl"), encoding: .utf8)
        XCTAssertFalse(log.contains("\"type\":\"sample\""))
    }

    func test_refusesANegativeSampleEvery() throws {
        assertRefused(try train(["--sample-every=-1"], in: try scratchDirectory()), mentioning: ["--sample-every must be at least 0", "-1"])
    }

    func test_refusesZeroSampleTokens() throws {
        assertRefused(try train(["--sample-tokens", "0"], in: try scratchDirectory()), mentioning: ["--sample-tokens must be at least 1"])
    }

    func test_refusesSampleTokensTheModelCannotHold() throws {
        assertRefused(try train(["--sample-tokens", "100000"], in: try scratchDirectory()),
                      mentioning: ["--sample-tokens", "the model holds", "got 100000"])
    }

    func test_refusesAMissingProbeFile() throws {
        assertRefused(try train(["--probe-prompts", "/nonexistent/probes.txt"], in: try scratchDirectory()),
                      mentioning: ["--probe-prompts /nonexistent/probes.txt: cannot read the file"])
    }

    func test_refusesAnEmptyProbeFile() throws {
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("empty.txt")
        try "\n  \n".write(to: file, atomically: true, encoding: .utf8)
        assertRefused(try train(["--probe-prompts", file.path], in: dir), mentioning: ["no prompts in the file"])
    }

    func test_refusesABadJSONLineInTheProbeFile_byLine() throws {
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("probes.jsonl")
        try "fine prompt\n{not json\n".write(to: file, atomically: true, encoding: .utf8)
        assertRefused(try train(["--probe-prompts", file.path], in: dir), mentioning: ["probes.jsonl:2:", "JSON object"])
    }
}
