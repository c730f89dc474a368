import Engine
import Foundation
import Remote
import TestSupport
import Training
import XCTest

final class RunServerTests: XCTestCase {
    func test_viewer_receivesHistoryThenLiveRecordsInOrder() throws {
        let (server, run) = try Fixtures.server()
        defer { server.close() }
        server.publish(RunRecord(time: 0, event: .header(Fixtures.header())))
        for n in 1...5 { server.publish(Fixtures.step(n)) }
        try Fixtures.eventually("history published") { try RemoteClient.historyCount(run) == 6 }

        let client = try RemoteClient(runDirectory: run)
        let welcome = try client.subscribe(since: 0)
        XCTAssertEqual(welcome.next, 6, "header + 5 steps are history")
        for n in 6...8 { server.publish(Fixtures.step(n)) }
        let seen = try client.records { if case .step(let s) = $0.event { return s.step == 8 }; return false }
        XCTAssertEqual(seen.map(\.0), Array(0...8), "sequence numbers run without gaps from the header")
        guard case .header = seen[0].1.event else { return XCTFail("first record is \(seen[0].1.event.type), expected header") }
        XCTAssertEqual(seen.last?.1, Fixtures.step(8))
    }

    func test_hello_withSinceCursor_skipsRecordsAlreadySeen() throws {
        let (server, run) = try Fixtures.server()
        defer { server.close() }
        server.publish(RunRecord(time: 0, event: .header(Fixtures.header())))
        for n in 1...10 { server.publish(Fixtures.step(n)) }
        let client = try RemoteClient(runDirectory: run)
        try Fixtures.eventually("10 steps in history") { try RemoteClient.historyCount(run) == 11 }
        _ = try client.subscribe(since: 9)
        let seen = try client.records { if case .step(let s) = $0.event { return s.step == 10 }; return false }
        XCTAssertEqual(seen.map(\.0), [9, 10])
    }

    func test_runDirectoryIs0700_socketIs0600_pidFileNamesThisProcess() throws {
        let (server, run) = try Fixtures.server()
        defer { server.close() }
        func mode(_ url: URL) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as! NSNumber).intValue
        }
        XCTAssertEqual(try mode(run.url), 0o700)
        XCTAssertEqual(try mode(run.controlSocket), 0o600)
        XCTAssertEqual(try String(contentsOf: run.pidFile, encoding: .utf8), "\(getpid())\n")
    }

    func test_close_removesSocketAndPidFile() throws {
        let (server, run) = try Fixtures.server()
        server.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.controlSocket.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.pidFile.path))
        XCTAssertThrowsError(try RemoteClient(runDirectory: run)) { error in
            guard case RemoteError.notLive = error else { return XCTFail("expected notLive, got \(error)") }
        }
    }

    func test_randomBytes_closeOnlyThatConnection_andLeaveTheRunUntouched() throws {
        let control = ScriptedControl()
        let (server, run) = try Fixtures.server(control: control)
        control.server = server
        defer { server.close() }
        let viewer = try RemoteClient(runDirectory: run)
        _ = try viewer.subscribe(since: 0)

        var generator = SeededRandom(seed: 8)
        for attempt in 0..<20 {
            let raw = try Fixtures.rawConnection(run)
            var bytes = (0..<(64 + attempt * 97)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.append(0x0A)
            raw.write(Data(bytes))
            let reply = raw.readDataToEndOfFile()  // the server answers with an error line, then closes
            let text = String(decoding: reply, as: UTF8.self)
            XCTAssertTrue(text.hasPrefix("{\"message\":\"message 1: expected a JSON object"), "attempt \(attempt): got \(text)")
        }
        XCTAssertEqual(server.stats.closedForBadInput, 20)
        XCTAssertEqual(control.received, [], "no command reached the session")
        server.publish(Fixtures.step(1))
        let seen = try viewer.records { _ in true }
        XCTAssertEqual(seen.last?.1, Fixtures.step(1), "the other viewer is still served")
        XCTAssertEqual(try viewer.status().state, .running)
    }

    func test_oversizedMessage_closesThatConnectionWithAnError() throws {
        let limits = RunServer.Limits(maxMessageBytes: 1024)
        let (server, run) = try Fixtures.server(limits: limits)
        defer { server.close() }
        let raw = try Fixtures.rawConnection(run)
        raw.write(Data(repeating: UInt8(ascii: "a"), count: 5000))  // no newline: never a complete message
        let text = String(decoding: raw.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.contains("longer than 1024 bytes without a newline"), text)
        XCTAssertEqual(server.stats.closedForBadInput, 1)
        XCTAssertNoThrow(try RemoteClient(runDirectory: run).status(), "others can still connect")
    }

    func test_protocolVersionMismatch_isRefusedWithTheVersionSpoken() throws {
        let (server, run) = try Fixtures.server()
        defer { server.close() }
        let client = try RemoteClient(runDirectory: run)
        try client.send(.hello(version: 99, since: 0))
        XCTAssertThrowsError(try client.next(timeout: 5)) { error in
            guard case RemoteError.refused(_, let reason) = error else { return XCTFail("expected refused, got \(error)") }
            XCTAssertTrue(reason.contains("protocol version 99") && reason.contains("speaks 1"), reason)
        }
    }

    func test_viewerThatStopsReading_isDropped_andPublishingNeverBlocks() throws {
        let limits = RunServer.Limits(maxViewerLagBytes: 256 * 1024)
        let (server, run) = try Fixtures.server(limits: limits)
        defer { server.close() }
        var notices: [String] = []
        let noticeLock = NSLock()
        server.onNotice = { text in noticeLock.lock(); notices.append(text); noticeLock.unlock() }
        let stalled = try RemoteClient(runDirectory: run)
        _ = try stalled.subscribe(since: 0)  // and then never reads again

        let started = DispatchTime.now().uptimeNanoseconds
        for n in 1...20_000 { server.publish(Fixtures.step(n)) }  // ≈ 10 MB of records
        let publishSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        XCTAssertLessThan(publishSeconds, 1.0, "publishing only enqueues")
        try Fixtures.eventually("the stalled viewer is dropped") { server.stats.droppedSlowViewers == 1 }
        XCTAssertEqual(server.stats.viewers, 0)
        noticeLock.lock()
        XCTAssertTrue(notices.contains { $0.contains("fell") && $0.contains("behind") }, "\(notices)")
        noticeLock.unlock()
        let fresh = try RemoteClient(runDirectory: run)
        XCTAssertEqual(try fresh.status().state, .running, "the run is served as before")
    }

    func test_staleSocketFromACrashedRun_isRemovedAndReplaced() throws {
        let run = RunDirectory(try TestPaths.temporaryDirectory("xright-remote"))
        // A socket file with nobody listening: what a killed process leaves.
        let first = RunServer(runDirectory: run, control: nil)
        try first.start()
        let leftover = run.controlSocket.path + ".keep"
        XCTAssertEqual(link(run.controlSocket.path, leftover), 0)
        first.close()
        XCTAssertEqual(rename(leftover, run.controlSocket.path), 0)
        XCTAssertEqual(RunProbe.probeSocket(run.controlSocket.path), .stale)

        var notices: [String] = []
        let second = RunServer(runDirectory: run, control: nil)
        second.onNotice = { notices.append($0) }
        try second.start()
        defer { second.close() }
        XCTAssertEqual(RunProbe.probeSocket(run.controlSocket.path), .live)
        XCTAssertTrue(notices.contains { $0.contains("removed a stale socket") }, "\(notices)")
    }

    func test_client_removesStaleSocket_andSaysTheRunIsNotLive() throws {
        let run = RunDirectory(try TestPaths.temporaryDirectory("xright-remote"))
        let first = RunServer(runDirectory: run, control: nil)
        try first.start()
        let leftover = run.controlSocket.path + ".keep"
        XCTAssertEqual(link(run.controlSocket.path, leftover), 0)
        first.close()
        XCTAssertEqual(rename(leftover, run.controlSocket.path), 0)
        XCTAssertThrowsError(try RemoteClient(runDirectory: run)) { error in
            XCTAssertTrue("\(error)".contains("stale"), "\(error)")
        }
        XCTAssertEqual(RunProbe.probeSocket(run.controlSocket.path), .absent)
    }

    func test_secondServerOnALiveRun_isRefused() throws {
        let (server, run) = try Fixtures.server()
        defer { server.close() }
        let second = RunServer(runDirectory: run, control: nil)
        XCTAssertThrowsError(try second.start()) { error in
            XCTAssertEqual(error as? RemoteError, .alreadyServed(socket: run.controlSocket.path))
        }
    }

    func test_connectionFromAnotherUser_isRefused() throws {
        // The server admits one uid; the test process is another, so its connection is the foreign one.
        let (server, run) = try Fixtures.server(allowedPeerUID: geteuid() &+ 4242)
        defer { server.close() }
        let client = try RemoteClient(runDirectory: run)
        XCTAssertThrowsError(try client.status(timeout: 5)) { error in
            guard case RemoteError.refused(_, let reason) = error else { return XCTFail("expected refused, got \(error)") }
            XCTAssertTrue(reason.contains("uid \(geteuid())") && reason.contains("not allowed"), reason)
        }
        XCTAssertEqual(server.stats.refusedPeers, 1)
    }

    func test_command_isRepliedOnceTheSessionAppliedOrRefusedIt() throws {
        let control = ScriptedControl()
        let (server, run) = try Fixtures.server(control: control)
        control.server = server
        defer { server.close() }
        let client = try RemoteClient(runDirectory: run)
        let applied = try client.command(.setLambda(try Lambda(0.3)))
        XCTAssertEqual(applied, CommandReply(id: 1, ok: true, command: "set-lambda 0.3", step: 7))
        control.refuseWith = "already paused"
        let refused = try client.command(.pause)
        XCTAssertEqual(refused, CommandReply(id: 2, ok: false, command: "pause", step: 7, error: "already paused"))
        XCTAssertEqual(control.received, [.setLambda(try Lambda(0.3)), .pause])
    }

    func test_commandWithoutASession_isRefused() throws {
        let (server, run) = try Fixtures.server()
        defer { server.close() }
        let reply = try RemoteClient(runDirectory: run).command(.stop)
        XCTAssertFalse(reply.ok)
        XCTAssertEqual(reply.error, "this run takes no commands")
    }

    func test_deepRunDirectory_isServedThroughItsDirectoryHandle() throws {
        var deep = try TestPaths.temporaryDirectory("xright-remote")
        while deep.path.utf8.count < 140 { deep.appendPathComponent("a-rather-long-directory-name") }
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        let run = RunDirectory(deep)
        let server = RunServer(runDirectory: run, control: nil)
        try server.start()
        defer { server.close() }
        XCTAssertEqual(try RemoteClient(runDirectory: run).status().runDirectory, deep.path)
    }
}

/// A long run's history must not live in the training process: the newest part stays in memory, the rest is
/// served from the spool file, byte for byte.
final class RunServerHistoryTests: XCTestCase {
    func test_longHistory_staysWithinItsMemoryBudget_andIsServedWholeFromTheSpool() throws {
        let budget = 4096
        let (server, run) = try Fixtures.server(limits: RunServer.Limits(historyMemoryBytes: budget))
        defer { server.close() }
        let early = try RemoteClient(runDirectory: run)
        _ = try early.subscribe(since: 0)
        server.publish(RunRecord(time: 0, event: .header(Fixtures.header())))
        for n in 1...2000 { server.publish(Fixtures.step(n)) }
        try Fixtures.eventually("2,001 records in history") { server.stats.historyRecords == 2001 }
        // A line is a few hundred bytes, so 2,000 of them (~800 KB) are far over the budget. Memory grows to twice
        // the budget before the older half is dropped, and lines not yet spooled count too: at most 3× and a line.
        XCTAssertLessThan(server.stats.historyBytesInMemory, 3 * budget + 2048)
        let late = try RemoteClient(runDirectory: run)
        _ = try late.subscribe(since: 0)
        let lastStep: (RunRecord) -> Bool = { if case .step(let s) = $0.event { return s.step == 2000 }; return false }
        for client in [late, early] {
            let seen = try client.records(until: lastStep)
            XCTAssertEqual(seen.map(\.0), Array(0...2000), "every record once, in order")
            XCTAssertEqual(seen[1].1, Fixtures.step(1), "old records come back from the spool unchanged")
            XCTAssertEqual(seen[1000].1, Fixtures.step(1000))
            XCTAssertEqual(seen.last?.1, Fixtures.step(2000))
        }
    }
}
