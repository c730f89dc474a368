import Foundation
import Remote
import Training
import XCTest

final class FramingTests: XCTestCase {
    private func messages(_ chunks: [String], limit: Int = 16) throws -> [String] {
        var framer = LineFramer(maxMessageBytes: limit)
        var out: [String] = []
        for chunk in chunks {
            try Array(chunk.utf8).withUnsafeBytes { raw in
                try framer.feed(raw) { out.append(String(decoding: $0, as: UTF8.self)) }
            }
        }
        return out
    }

    func test_framer_joinsMessagesSplitAcrossReads() throws {
        XCTAssertEqual(try messages(["ab", "c\nde", "f\n\ng"]), ["abc", "def", ""])
    }

    func test_framer_rejectsAMessageLongerThanTheLimit_evenWithoutANewline() {
        XCTAssertThrowsError(try messages(["0123456789", "0123456789"])) { error in
            XCTAssertEqual(error as? LineFramer.Failure, .oversized(limit: 16))
        }
        XCTAssertThrowsError(try messages(["01234567890123456789\n"]))
        XCTAssertNoThrow(try messages(["0123456789abcdef\n"]), "exactly the limit is allowed")
    }

    func test_clientRequests_roundTripThroughJSON() throws {
        let requests: [ClientRequest] = [.hello(version: 1, since: 0), .hello(version: 1, since: nil),
                                         .command(id: 3, .setLambda(try Lambda(0.25))), .status(id: nil)]
        for request in requests {
            let data = try RunLogCoding.makeEncoder().encode(request)
            XCTAssertEqual(try RunLogCoding.makeDecoder().decode(ClientRequest.self, from: data), request)
        }
        let text = String(decoding: try RunLogCoding.makeEncoder().encode(ClientRequest.command(id: 3, .stop)), as: UTF8.self)
        XCTAssertEqual(text, #"{"command":{"name":"stop"},"id":3,"type":"command"}"#)
    }

    func test_unknownRequestType_namesTheTypesExpected() {
        XCTAssertThrowsError(try RunLogCoding.makeDecoder().decode(ClientRequest.self, from: Data(#"{"type":"reboot"}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("expected hello, command or status"), "\(error)")
        }
    }

    func test_progress_followsLambdaPauseAndFinish() {
        var progress = RunProgress()
        progress.apply(RunRecord(time: 0, event: .header(Fixtures.header(plannedSteps: 50))))
        progress.apply(Fixtures.step(3, sft: 1.25, dpo: 0.5))
        progress.apply(RunRecord(time: 3, event: .lambdaChanged(LambdaChanged(step: 3, from: 0.5, to: 0.2))))
        progress.apply(RunRecord(time: 3, event: .paused(PauseChange(step: 3))))
        XCTAssertEqual(progress.lambda, 0.2)
        XCTAssertTrue(progress.paused)
        XCTAssertEqual(progress.sftLoss, 1.25)
        XCTAssertEqual(progress.header?.plannedSteps, 50)
        progress.apply(RunRecord(time: 4, event: .finished(RunFinished(step: 3, reason: .stopped, message: ""))))
        XCTAssertEqual(progress.finished?.reason, .stopped)
        XCTAssertFalse(progress.paused)
    }
}
