import Foundation
import TensorBoard
import TestSupport
import Training
import XCTest

/// The pieces under TensorBoard's event files: CRC-32C with TFRecord's mask, the record framing, which run-log
/// figures become which tags, and how a resumed run's repeated steps replace the first attempt's.
final class TensorBoardEncodingTests: XCTestCase {
    func test_crc32c_matchesTheCastagnoliCheckValues() {
        // The check value of CRC-32C (RFC 3720, B.4) and its test vectors.
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map(UInt8.init)), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
    }

    func test_mask_rotatesAndOffsetsAsTensorFlowDoes() {
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        // ((crc >> 15) | (crc << 17)) + 0xa282ead8 for crc = 0x00008000: rotates to 1.
        XCTAssertEqual(CRC32C.masked(0x0000_8000), 0xA282_EAD9)
    }

    func test_frame_holdsLengthDataAndMaskedChecksums() {
        let payload = Data("hello".utf8)
        let frame = [UInt8](TFRecordWriter.frame(payload))
        XCTAssertEqual(frame.count, 8 + 4 + payload.count + 4)
        XCTAssertEqual(Array(frame[0..<8]), [5, 0, 0, 0, 0, 0, 0, 0])
        func le32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            bytes.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        }
        XCTAssertEqual(le32(frame[8..<12]), CRC32C.masked(CRC32C.checksum(frame[0..<8])))
        XCTAssertEqual(Array(frame[12..<17]), Array(payload))
        XCTAssertEqual(le32(frame[17..<21]), CRC32C.masked(CRC32C.checksum(Array(payload))))
    }

    private func records(_ lines: [String]) throws -> [RunRecord] {
        let dir = try TestPaths.temporaryDirectory("xright-tb")
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("run.jsonl")
        let header = #"{"config":{"checkpointEvery":10,"checkpointOnFinish":true,"evalEvery":5,"lambda":0.5,"maxConsecutiveNonFinite":3,"maxEpochs":2,"maxEvalSteps":10,"maxSteps":12,"seed":42,"strategy":"maxright"},"createdAt":"2026-11-26T12:36:34Z","dataFingerprints":{},"modelFingerprint":"preset:tiny seed 1","plannedSteps":12,"programVersion":"0.1.0","schema":"1.1","seed":42,"settings":{"batchSize":"8"},"type":"header"}"#
        try ([header] + lines).joined(separator: "\n").appending("\n").write(to: log, atomically: true, encoding: .utf8)
        return try RunLogReader.read(log).records
    }

    func test_stepEvent_becomesLossesLambdaLearningRateGradientNormThroughputAndTheChoice() throws {
        let record = try XCTUnwrap(records([
            #"{"dpo":{"loss":0.7,"preference":{"chosenReward":-1.5,"margin":2.5,"rejectedReward":-4,"rewardAccuracy":1},"tokens":100},"elapsedSeconds":1,"epoch":0,"gaps":{"dpo":4.75,"sft":7.25},"gapsEvaluated":true,"gradientNorm":6.125,"lambda":0.6,"learningRate":0.05,"objectives":["dpo"],"step":4,"stepSeconds":0.5,"strategy":"maxright","time":1,"tokens":300,"tokensPerSecond":600,"type":"step","updateApplied":true}"#,
        ]).first)
        let (step, items) = try XCTUnwrap(RunSummaries.items(record.event))
        XCTAssertEqual(step, 4)
        let scalars = Dictionary(uniqueKeysWithValues: items.compactMap { item -> (String, Double)? in
            if case .scalar(let v) = item.value { return (item.tag, v) } else { return nil }
        })
        XCTAssertEqual(scalars, [
            "dpo/loss": 0.7, "dpo/chosen_reward": -1.5, "dpo/rejected_reward": -4, "dpo/reward_accuracy": 1,
            "dpo/margin": 2.5, "train/lambda": 0.6, "train/learning_rate": 0.05, "train/gradient_norm": 6.125,
            "train/tokens_per_second": 600, "objective/sft": 0, "objective/dpo": 1, "maxright/gap_sft": 7.25,
            "maxright/gap_dpo": 4.75,
        ])
    }

    func test_evalWarningsAndCommands_becomeScalarsAndText() throws {
        let all = try records([
            #"{"dpo":{"loss":8.5,"tokens":1000},"idealDistance":15.25,"seconds":0.1,"sft":{"loss":"NaN","tokens":1000},"step":1,"time":0.5,"type":"eval"}"#,
            #"{"command":{"lambda":0.6,"name":"set-lambda"},"step":3,"time":0.6,"type":"command-applied"}"#,
            #"{"kind":"non-finite-gradient","message":"step 7: update skipped","step":7,"time":0.7,"type":"warning"}"#,
        ])
        let eval = try XCTUnwrap(RunSummaries.items(all[0].event)).items
        XCTAssertEqual(eval.map(\.tag), ["eval/sft_loss", "eval/dpo_loss", "eval/ideal_distance"])
        if case .scalar(let v) = eval[0].value { XCTAssertTrue(v.isNaN, "a NaN loss stays NaN") } else { XCTFail() }
        XCTAssertEqual(try XCTUnwrap(RunSummaries.items(all[1].event)).items,
                       [RunSummaries.Item(tag: "run/commands", value: .text("applied: set-lambda 0.6"))])
        XCTAssertEqual(try XCTUnwrap(RunSummaries.items(all[2].event)).items,
                       [RunSummaries.Item(tag: "run/warnings", value: .text("non-finite-gradient: step 7: update skipped"))])
    }

    func test_resumedRun_repeatedStepsReplaceTheFirstAttempts() throws {
        func step(_ n: Int, _ loss: Double) -> String {
            #"{"elapsedSeconds":1,"epoch":0,"lambda":0.5,"learningRate":0.05,"objectives":["sft"],"sft":{"loss":\#(loss),"tokens":10},"step":\#(n),"stepSeconds":0.1,"strategy":"alright","time":\#(n),"tokens":10,"tokensPerSecond":100,"type":"step","updateApplied":true}"#
        }
        let all = try records([
            step(1, 1.0), step(2, 2.0), step(3, 3.0),
            #"{"lambda":0.5,"resumedFrom":"/r/checkpoints/step-000002","step":2,"strategy":"alright","time":3.5,"type":"started"}"#,
            step(3, 3.5),
        ])
        let kept = RunLogExport.supersededRemoved(all)
        let losses = kept.compactMap { record -> Double? in
            if case .step(let s) = record.event { return s.sft?.loss } else { return nil }
        }
        XCTAssertEqual(losses, [1.0, 2.0, 3.5])
    }
}
