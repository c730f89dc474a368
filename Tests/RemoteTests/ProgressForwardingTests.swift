import Foundation
import Remote
import TestSupport
import Training
import XCTest

/// `progress` records (where the step in flight is) reach attached viewers, as they reach the local dashboard,
/// but stay out of the history, as they stay out of run.jsonl.
final class ProgressForwardingTests: XCTestCase {
    private let inStep = RunRecord(time: 1.5, event: .progress(StepProgress(
        step: 1, activity: .training, phase: .backward, objective: .dpo, part: 1, parts: nil, seconds: 2.5)))

    func test_aCaughtUpViewer_getsProgressInOrder_andTheHistoryNeverHoldsIt() throws {
        let (server, run) = try Fixtures.server()
        defer { server.close() }
        server.publish(RunRecord(time: 0, event: .header(Fixtures.header())))
        server.publish(Fixtures.step(1))
        let client = try RemoteClient(runDirectory: run)
        _ = try client.subscribe(since: 0)
        _ = try client.records { if case .step(let s) = $0.event { return s.step == 1 }; return false }

        server.publish(inStep)
        server.publish(Fixtures.step(2))
        let first = try XCTUnwrap(try client.next(timeout: 10))
        XCTAssertEqual(first, .progress(inStep), "the progress record comes between the steps it was sent between")
        let second = try XCTUnwrap(try client.next(timeout: 10))
        XCTAssertEqual(second, .record(seq: 2, Fixtures.step(2)), "and takes no sequence number")

        XCTAssertEqual(try RemoteClient.historyCount(run), 3, "header and two steps: no progress in the history")
        let late = try RemoteClient(runDirectory: run)
        _ = try late.subscribe(since: 0)
        let replayed = try late.records { if case .step(let s) = $0.event { return s.step == 2 }; return false }
        XCTAssertEqual(replayed.map(\.0), [0, 1, 2], "a viewer joining later replays the run log's records only")
    }

    func test_remoteEventSource_handsProgressToItsObservers() throws {
        let (server, run) = try Fixtures.server()
        defer { server.close() }
        server.publish(RunRecord(time: 0, event: .header(Fixtures.header())))
        let source = try RemoteEventSource(runDirectory: run, since: nil)
        let lock = NSLock()
        var seen: [RunRecord] = []
        source.subscribe { record in lock.lock(); seen.append(record); lock.unlock() }
        server.publish(inStep)
        Fixtures.eventually("the attached viewer sees the progress record") {
            lock.lock(); defer { lock.unlock() }
            return seen.contains(inStep)
        }
    }

    func test_theWireFormat_isDocumented() throws {
        let line = try RunLogCoding.makeEncoder().encode(ServerMessage.progress(inStep))
        let text = String(decoding: line, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix(#"{"record":{"activity":"training""#) && text.contains(#""type":"progress""#), text)
        XCTAssertEqual(try RunLogCoding.makeDecoder().decode(ServerMessage.self, from: line), .progress(inStep))
    }
}
