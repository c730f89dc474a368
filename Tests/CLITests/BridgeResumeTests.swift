import Foundation
import TestSupport
import Training
import XCTest

/// `xright_bridge train --resume RUN_DIR`, with `xright train --resume`'s semantics: a run that stopped after a
/// checkpoint goes on from it in the same directory (a `started` event with `resumedFrom`, later steps appended
/// and superseding the earlier ones), and on CPU it repeats the uninterrupted run bit for bit: two ranks, ALRIGHT's
/// draws, DPO against cached reference log-probs, AdamW.
final class BridgeResumeTests: XCTestCase {
    private func torchrun(_ ranks: Int, _ arguments: [String]) -> [String] {
        ["-m", "torch.distributed.run", "--nproc_per_node", String(ranks), "--master_port", String(BridgePython.freePort()),
         "-m", "xright_bridge", "train"] + arguments
    }

    func test_resumeFromAMidRunCheckpoint_repeatsTheUninterruptedRunBitForBit() throws {
        let fixture = try BridgeFixture.shared()
        let scratch = try scratchDirectory()
        let whole = scratch.appendingPathComponent("whole"), resumed = scratch.appendingPathComponent("resumed")
        try BridgePython.run(torchrun(2, [
            "--model", fixture.policy.path, "--run-dir", whole.path, "--sft", fixture.sft.path, "--pref", fixture.pref.path,
            "--strategy", "alright", "--lambda", "0.5", "--epochs", "100", "--batch-size", "4", "--lr", "1e-3",
            "--threads", "1", "--max-steps", "12", "--checkpoint-every", "5", "--eval-every", "4"]), in: scratch)

        // The run as it would be had it crashed after step 7: its log goes on past the checkpoint of step 5.
        try FileManager.default.copyItem(at: whole, to: resumed)
        let checkpoints = resumed.appendingPathComponent("checkpoints")
        for later in ["step-000010", "step-000012", "latest"] {
            try FileManager.default.removeItem(at: checkpoints.appendingPathComponent(later))
        }
        try FileManager.default.createSymbolicLink(atPath: checkpoints.appendingPathComponent("latest").path,
                                                   withDestinationPath: "step-000005")
        let log = resumed.appendingPathComponent("run.jsonl")
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        let cut = try XCTUnwrap(lines.firstIndex { $0.contains(#""step":8,"#) && $0.contains(#""type":"step""#) })
        try (lines[..<cut].joined(separator: "\n") + "\n").write(to: log, atomically: true, encoding: .utf8)

        // Another number of processes cannot continue it: each rank's reference cache belongs to that rank.
        let oneRank = try BridgePython.start(["-m", "xright_bridge", "train", "--resume", resumed.path], in: scratch)
        try BridgePython.waitForExit(oneRank, timeout: 120)
        XCTAssertEqual(oneRank.process.terminationStatus, 2, oneRank.output())
        XCTAssertTrue(oneRank.output().contains("was written by 2 process(es) and this launch has 1"), oneRank.output())

        // From another directory: the run recorded its paths as absolute ones.
        let elsewhere = scratch.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try BridgePython.run(torchrun(2, ["--resume", resumed.path]), in: elsewhere)

        let before = try RunLogReader.read(whole.appendingPathComponent("run.jsonl"))
        let after = try RunLogReader.read(log)
        XCTAssertEqual(after.header, before.header, "a resume appends to the run's log under its header")
        XCTAssertEqual(after.corruptLines, [])
        let restart = try XCTUnwrap(after.records.lastIndex { if case .started = $0.event { return true } else { return false } })
        guard case .started(let started) = after.records[restart].event else { return XCTFail("no started event") }
        XCTAssertEqual(started.step, 5)
        XCTAssertEqual(started.resumedFrom, checkpoints.appendingPathComponent("step-000005").path)
        let step5 = try XCTUnwrap(after.records.first {
            if case .step(let s) = $0.event { return s.step == 5 } else { return false }
        })
        XCTAssertGreaterThanOrEqual(after.records[restart].time, step5.time, "the run clock goes on from the checkpoint")

        let expected = Self.stepsAndEvals(before.records.filter { Self.step(of: $0) > 5 })
        let continued = Self.stepsAndEvals(Array(after.records[restart...]))
        XCTAssertEqual(continued.filter { $0.kind == "step" }.map(\.step), Array(6...12))
        XCTAssertEqual(continued.filter { $0.kind == "eval" }.map(\.step), [8, 12])
        XCTAssertEqual(continued, expected, "the resumed steps and evals are the uninterrupted run's, bit for bit")
        XCTAssertTrue(Set(continued.flatMap(\.objectives)) == [.sft, .dpo], "ALRIGHT drew both after the resume")

        for file in ["model.safetensors", "optimizer.pt"] {
            let a = try Data(contentsOf: whole.appendingPathComponent("checkpoints/step-000012/backend/\(file)"))
            let b = try Data(contentsOf: resumed.appendingPathComponent("checkpoints/step-000012/backend/\(file)"))
            XCTAssertTrue(a == b, "\(file) at step 12 differs after the resume")
        }
    }

    /// Steps and evals without their timings (which differ between any two runs).
    struct Outcome: Equatable {
        var kind: String
        var step: Int
        var objectives: [Objective]
        var sft: ObjectiveMetrics?
        var dpo: ObjectiveMetrics?
        var gradientNorm: Double?
        var learningRate: Double?
        var lambda: Lambda?
    }

    private static func step(of record: RunRecord) -> Int {
        switch record.event {
        case .step(let s): return s.step
        case .eval(let e): return e.step
        default: return -1
        }
    }

    private static func stepsAndEvals(_ records: [RunRecord]) -> [Outcome] {
        records.compactMap { record in
            switch record.event {
            case .step(let s):
                return Outcome(kind: "step", step: s.step, objectives: s.objectives, sft: s.sft, dpo: s.dpo, gradientNorm: s.gradientNorm,
                               learningRate: s.learningRate, lambda: s.lambda)
            case .eval(let e):
                return Outcome(kind: "eval", step: e.step, objectives: [], sft: e.sft, dpo: e.dpo)
            default:
                return nil
            }
        }
    }
}
