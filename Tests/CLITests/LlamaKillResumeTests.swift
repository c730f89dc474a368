import Engine
import Foundation
import TestSupport
import Training
import XCTest

/// The kill -9 / fault-point harness of `KillResumeTests` on a Llama model (GQA 4:2, tied embeddings), saving in
/// bf16: a resumed run's log, final weights and float32 training state equal an uninterrupted run's, byte for
/// byte, because checkpoints keep float32 state whatever `--save-dtype` exports (docs/GGUF.md, "Saving"). Then
/// `replay` and `report` read the resumed run's log.
final class LlamaKillResumeTests: KillResumeTests {
    /// Long enough (a few seconds) that random kills land mid-run.
    override class var steps: Int { 120 }

    /// The last checkpoint's training state: bf16 final weights could hide a last-bit difference in it.
    override class var identicalFiles: [String] {
        let last = "checkpoints/\(CheckpointStore.directoryName(step: steps))/backend/"
        return [last + "trainable.safetensors", last + "optimizer.safetensors"]
    }

    /// A tiny random Llama written once per test process.
    static let modelDirectory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("xright-llama-kill-\(getpid())")
        let model = Llama(config: LlamaConfig(vocabSize: 258, hiddenSize: 32, numLayers: 2, numHeads: 4, numKVHeads: 2,
                                              intermediateSize: 48, maxPositions: 128, tieWordEmbeddings: true))
        model.initializeRandomly(seed: 9)
        try! ModelDirectory.save(model, to: url)
        return url
    }()

    override class func arguments(_ runDir: URL) -> [String] {
        ["train", "--headless", "--strategy", "alright", "--lambda", "0.5", "--seed", "11", "--max-steps", String(steps),
         "--epochs", "100", "--checkpoint-every", "20", "--eval-every", "25", "--batch-size", "4", "--run-dir", runDir.path,
         "--model", modelDirectory.path, "--tokenizer", "byte", "--save-dtype", "bf16", "--demo-examples", "80",
         "--threads", "1"]
    }

    func test_replayAndReport_readAResumedLlamaRun() throws {
        let dir = try scratchDirectory()
        let run = dir.appendingPathComponent("resumed")
        let (process, _, _) = try XRightProcess.start(Self.arguments(run), in: dir, environment: ["XRIGHT_FAULT": "checkpoint-renamed@2"])
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, SIGKILL, "the run was expected to die at the second checkpoint")
        try finishRun(run, in: dir)

        let report = try XRightProcess.run(["report", run.path, "--csv", "-"], in: dir)
        XCTAssertEqual(report.status, 0, report.transcript)
        XCTAssertTrue(report.stdout.contains(",\(Self.steps),") || report.stdout.contains(",\(Self.steps)\n"), report.transcript)

        guard TmuxPane.run("/usr/bin/env", ["tmux", "-V"]).status == 0 else { throw XCTSkip("tmux is not installed") }
        let pane = try TmuxPane(width: 140, height: 44, xright: ["replay", run.path])
        defer { pane.close() }
        let (ok, screen) = pane.waitFor { $0.contains("FINISHED") }
        XCTAssertTrue(ok, "the replay does not show the finished run:\n\(screen)")
        XCTAssertTrue(screen.contains("step \(Self.steps)/"), "final step \(Self.steps) not on screen:\n\(screen)")
        pane.send("q")
        let (quit, after) = pane.waitFor { $0.contains("EXITED:0") }
        XCTAssertTrue(quit, "replay did not quit cleanly:\n\(after)")
    }
}
