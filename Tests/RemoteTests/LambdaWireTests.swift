import Foundation
import Remote
import Training
import XCTest

/// λ travels typed (`Lambda`) through events and commands, and is written as a plain number: the bytes of
/// run.jsonl and of the socket protocol are exactly those of the untyped `Double` it replaced.
final class LambdaWireTests: XCTestCase {
    private let encoder = RunLogCoding.makeEncoder()

    private func line(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func test_runLogEventsWithLambda_areByteForByteAsBefore() throws {
        XCTAssertEqual(try line(RunRecord(time: 0.5, event: .started(SessionStarted(step: 0, strategy: .alright, lambda: 0.25)))),
                       #"{"lambda":0.25,"step":0,"strategy":"alright","time":0.5,"type":"started"}"#)
        XCTAssertEqual(try line(RunRecord(time: 2, event: .lambdaChanged(LambdaChanged(step: 3, from: 0.5, to: 0.55)))),
                       #"{"from":0.5,"step":3,"time":2,"to":0.55,"type":"lambda-changed"}"#)
        let step = StepEvent(step: 4, epoch: 0, strategy: .mix, objectives: [.sft, .dpo], sft: ObjectiveMetrics(loss: 2, tokens: 10),
                             dpo: ObjectiveMetrics(loss: 0.5, tokens: 20), lambda: 1, learningRate: 0.001, tokens: 30,
                             tokensPerSecond: 300, stepSeconds: 0.1, elapsedSeconds: 0.4, updateApplied: true,
                             gradientNorm: 1.5, gaps: nil, gapsEvaluated: nil)
        XCTAssertEqual(try line(RunRecord(time: 0.4, event: .step(step))),
                       #"{"dpo":{"loss":0.5,"tokens":20},"elapsedSeconds":0.4,"epoch":0,"gradientNorm":1.5,"lambda":1,"#
                       + #""learningRate":0.001,"objectives":["sft","dpo"],"sft":{"loss":2,"tokens":10},"step":4,"#
                       + #""stepSeconds":0.1,"strategy":"mix","time":0.4,"tokens":30,"tokensPerSecond":300,"#
                       + #""type":"step","updateApplied":true}"#)
        XCTAssertEqual(try line(RunRecord(time: 1, event: .commandApplied(CommandApplied(step: 3, command: .setLambda(try Lambda(0.3)))))),
                       #"{"command":{"lambda":0.3,"name":"set-lambda"},"step":3,"time":1,"type":"command-applied"}"#)
    }

    func test_socketMessagesWithLambda_areByteForByteAsBefore() throws {
        XCTAssertEqual(try line(ClientRequest.command(id: 7, .setLambda(try Lambda(0.35)))),
                       #"{"command":{"lambda":0.35,"name":"set-lambda"},"id":7,"type":"command"}"#)
        var progress = RunProgress()
        progress.apply(RunRecord(time: 3, event: .lambdaChanged(LambdaChanged(step: 3, from: 0.5, to: 0.2))))
        let report = RunStatusReport(runDirectory: "/r", state: .running, progress: progress)
        let status = try line(report)
        XCTAssertTrue(status.contains(#""lambda":0.2,"#), status)
    }

    func test_decodedLambda_outOfRange_isACorruptLine_namingTheField() throws {
        let decoder = RunLogCoding.makeDecoder()
        XCTAssertThrowsError(try decoder.decode(RunRecord.self, from: Data(
            #"{"from":0.5,"step":3,"time":2,"to":1.5,"type":"lambda-changed"}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("λ must lie in [0, 1]"), "\(error)")
        }
    }
}
