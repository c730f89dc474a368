import Foundation
import Remote
import TestSupport
import Training
import XCTest

final class EventSourceTests: XCTestCase {
    private func tinySession(maxSteps: Int, runDirectory: RunDirectory?) throws -> TrainingSession {
        let options = RunOptions(modelPreset: "tiny", demoExamples: 64, batchSize: 4,
                                 training: TrainingConfig(strategy: .alright, lambda: try Lambda(0.5), maxSteps: maxSteps))
        return try RunSetup.prepare(options, runDirectory: runDirectory, programVersion: "test").session
    }

    func test_sessionSource_deliversEveryRecordFromHeaderToFinished() throws {
        let session = try tinySession(maxSteps: 5, runDirectory: nil)
        let source = SessionEventSource(session: session)
        try session.start()
        var records: [RunRecord] = []
        while source.isLive { records += try source.poll(timeout: 1) }
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
        let local = SessionEventSource(session: session)
        session.subscribe(server.publish)
        try session.start()

        let remote = try RemoteEventSource(runDirectory: run, since: 0)
        try remote.send(.setLambda(try Lambda(0.2)))
        try remote.send(.stop)
        var seen: [RunRecord] = []
        while remote.isLive { seen += try remote.poll(timeout: 1) }
        var all: [RunRecord] = []
        while local.isLive { all += try local.poll(timeout: 1) }
        XCTAssertEqual(seen.count, all.count)
        // The header carries no time in the log (its createdAt says when), so only its content is compared.
        XCTAssertEqual(seen.first?.event, all.first?.event)
        for (index, (remoteRecord, localRecord)) in zip(seen, all).enumerated().dropFirst() where remoteRecord != localRecord {
            return XCTFail("record \(index): remote \(remoteRecord) differs from the session's \(localRecord)")
        }
        XCTAssertTrue(seen.contains { if case .lambdaChanged(let c) = $0.event { return c.to == 0.2 }; return false })
        guard case .finished(let end)? = seen.last?.event else { return XCTFail("no finished record") }
        XCTAssertEqual(end.reason, .stopped)
    }
}
