import Foundation
import Remote
import TestSupport
import Training
import XCTest

/// The one `RunEventSource` protocol: the session in this process and the same run attached over its socket hand
/// a viewer the same records, and commands sent through either reach the run.
final class EventSourceTests: XCTestCase {
    private func tinySession(maxSteps: Int, runDirectory: RunDirectory?) throws -> TrainingSession {
        let options = RunOptions(modelPreset: "tiny", demoExamples: 64, batchSize: 4,
                                 training: TrainingConfig(strategy: .alright, lambda: try Lambda(0.5), maxSteps: maxSteps))
        return try RunSetup.prepare(options, runDirectory: runDirectory, programVersion: "test").session
    }

    /// Drains `queue` until a `finished` record arrives (or `timeout` passes).
    private func recordsUntilFinished(_ queue: RunRecordQueue, timeout: TimeInterval = 120) -> [RunRecord] {
        var records: [RunRecord] = []
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            records += queue.drain(waitingUpTo: 0.5)
            if case .finished? = records.last?.event { break }
        }
        return records
    }

    func test_sessionSource_deliversEveryRecordFromHeaderToFinished() throws {
        let session = try tinySession(maxSteps: 5, runDirectory: nil)
        let queue = RunRecordQueue()
        session.subscribe(queue.append)
        try session.start()
        let records = recordsUntilFinished(queue)
        XCTAssertEqual(records.first?.event.type, "header")
        XCTAssertEqual(records.last?.event.type, "finished")
        XCTAssertEqual(records.filter { $0.event.type == "step" }.count, 5)
    }

    func test_remoteSource_seesTheSameRecordsAsTheSession_andItsCommandsApply() throws {
        let run = RunDirectory(try TestPaths.temporaryDirectory("xright-remote"))
        let session = try tinySession(maxSteps: 100_000, runDirectory: run)
        let server = RunServer(runDirectory: run, control: session)
        try server.start()
        defer { server.close() }
        let local = RunRecordQueue()
        session.subscribe(local.append)
        session.subscribe(server.publish)
        try session.start()

        let remote = try RemoteEventSource(runDirectory: run, since: 0)
        let seenQueue = RunRecordQueue()
        let token = remote.subscribe(seenQueue.append)
        defer { remote.unsubscribe(token) }
        remote.send(.setLambda(try Lambda(0.2)))
        remote.send(.stop)
        let seen = recordsUntilFinished(seenQueue)
        let all = recordsUntilFinished(local)
        XCTAssertEqual(seen.count, all.count)
        // The header carries no time in the log (its createdAt says when), so only its content is compared.
        XCTAssertEqual(seen.first?.event, all.first?.event)
        for (index, (remoteRecord, localRecord)) in zip(seen, all).enumerated().dropFirst() where remoteRecord != localRecord {
            return XCTFail("record \(index): remote \(remoteRecord) differs from the session's \(localRecord)")
        }
        XCTAssertTrue(seen.contains { if case .lambdaChanged(let c) = $0.event { return c.to == 0.2 }; return false })
        guard case .finished(let end)? = seen.last?.event else { return XCTFail("no finished record") }
        XCTAssertEqual(end.reason, .stopped)
        XCTAssertTrue(waitUntil { !remote.isLive }, "the source ends once the run's finished record was handed on")
    }

    private func waitUntil(timeout: TimeInterval = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline { if condition() { return true }; usleep(20_000) }
        return condition()
    }
}
