import Foundation
import Remote
import TestSupport
import Training
import XCTest

/// A session stand-in: records commands and answers each with `command-applied` through the server, as the real
/// session does between steps.
final class ScriptedControl: SessionControl {
    private let lock = NSLock()
    private var commands: [SessionCommand] = []
    weak var server: RunServer?
    var refuseWith: String?
    var step = 7

    var received: [SessionCommand] {
        lock.lock(); defer { lock.unlock() }
        return commands
    }

    func send(_ command: SessionCommand) {
        lock.lock()
        commands.append(command)
        lock.unlock()
        let event: RunEvent = refuseWith.map { .commandRefused(CommandRefused(step: step, command: command, reason: $0)) }
            ?? .commandApplied(CommandApplied(step: step, command: command))
        server?.publish(RunRecord(time: 1, event: event))
    }

    /// The server is handed records by the test (`publish`), not by subscribing.
    func subscribe(_ observer: @escaping (RunRecord) -> Void) -> Int { 0 }
    func unsubscribe(_ token: Int) {}

    var liveStatus: LiveStatus {
        LiveStatus(step: step, epoch: 0, lambda: 0.5, strategy: .alright, paused: false, finished: nil)
    }
}

enum Fixtures {
    static func header(plannedSteps: Int = 100) -> RunHeader {
        RunHeader(programVersion: "test", createdAt: "2026-01-01T00:00:00Z", seed: 1,
                  config: TrainingConfig(strategy: .alright, lambda: try! Lambda(0.5)), modelFingerprint: "test",
                  dataFingerprints: [:], plannedSteps: plannedSteps)
    }

    static func step(_ n: Int, sft: Double = 1.5, dpo: Double = 0.7) -> RunRecord {
        RunRecord(time: Double(n), event: .step(StepEvent(
            step: n, epoch: 0, strategy: .alright, objectives: [.sft], sft: ObjectiveMetrics(loss: sft, tokens: 10),
            dpo: ObjectiveMetrics(loss: dpo, tokens: 10), lambda: 0.5, learningRate: 1e-3, tokens: 20,
            tokensPerSecond: 100, stepSeconds: 0.01, elapsedSeconds: Double(n), updateApplied: true)))
    }

    /// A fresh run directory with a server started on it.
    static func server(limits: RunServer.Limits = RunServer.Limits(), allowedPeerUID: uid_t = geteuid(),
                       control: SessionControl? = nil) throws -> (RunServer, RunDirectory) {
        let run = RunDirectory(try TestPaths.temporaryDirectory("xright-remote"))
        let server = RunServer(runDirectory: run, control: control, limits: limits, allowedPeerUID: allowedPeerUID)
        try server.start()
        return (server, run)
    }

    /// Raw socket for sending what a well-behaved client never would.
    static func rawConnection(_ run: RunDirectory) throws -> FileHandle {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = run.controlSocket.path
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw RemoteError.system(path: path, operation: "connect", code: errno) }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Waits until `condition` holds (polling), failing after `seconds`.
    static func eventually(_ what: String, within seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line,
                           _ condition: () throws -> Bool) rethrows {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if try condition() { return }
            usleep(10_000)
        }
        XCTFail("timed out after \(seconds) s waiting for \(what)", file: file, line: line)
    }
}

extension RemoteClient {
    /// Records the run holds now (a fresh subscription's `next`).
    static func historyCount(_ run: RunDirectory) throws -> Int {
        try RemoteClient(runDirectory: run).subscribe(since: nil).next
    }

    /// Records until one matches, failing on timeout.
    func records(until matches: (RunRecord) -> Bool, timeout: TimeInterval = 20) throws -> [(Int, RunRecord)] {
        var seen: [(Int, RunRecord)] = []
        let deadline = Date(timeIntervalSinceNow: timeout)
        while deadline.timeIntervalSinceNow > 0 {
            guard let message = try next(timeout: deadline.timeIntervalSinceNow) else { break }
            if case let .record(seq, record) = message {
                seen.append((seq, record))
                if matches(record) { return seen }
            }
        }
        throw RemoteError.timedOut(socket: socketPath, waitingFor: "a matching record", seconds: timeout)
    }
}
