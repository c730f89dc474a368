import Foundation
import Remote
import TestSupport
import Training
import XCTest

/// A harness step that went wrong: fails the test that threw it.
struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Drives the built `xright` binary as a user would: detached runs, ctl, ls, attach.
enum Binary {
    static func path() throws -> String {
        for configuration in ["release", "debug"] {
            let url = TestPaths.packageRoot.appendingPathComponent(".build/\(configuration)/xright")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url.path }
        }
        throw XCTSkip("the xright binary is not built (run `swift build -c release` first)")
    }

    /// Arguments of a tiny run that keeps stepping until stopped.
    static func endlessRun(_ runDir: URL) -> [String] {
        ["train", "--preset", "tiny", "--demo-examples", "64", "--batch-size", "4", "--epochs", "1000000",
         "--eval-every", "0", "--threads", "1", "--run-dir", runDir.path]
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs to completion (killed after `timeout`).
    @discardableResult
    static func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path())
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let collected = Collected(out), errors = Collected(err)
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            // A hang is a failure, never a skip.
            throw HarnessError("xright \(arguments.joined(separator: " ")) did not finish within \(timeout) s; "
                + "stderr: \(errors.finish())")
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: collected.finish(), stderr: errors.finish())
    }

    /// A process whose output is collected as it comes (attach, a foreground run).
    final class Running {
        let process = Process()
        let stdout: Collected
        let stderr: Collected

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: try Binary.path())
            process.arguments = arguments
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            stdout = Collected(out)
            stderr = Collected(err)
            try process.run()
        }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// A pipe's bytes, gathered on a background handler.
    final class Collected {
        private let lock = NSLock()
        private var data = Data()
        private let handle: FileHandle

        init(_ pipe: Pipe) {
            handle = pipe.fileHandleForReading
            handle.readabilityHandler = { [weak self] h in
                let chunk = h.availableData
                guard let self, !chunk.isEmpty else { return }
                self.lock.lock(); self.data.append(chunk); self.lock.unlock()
            }
        }

        var text: String {
            lock.lock(); defer { lock.unlock() }
            return String(decoding: data, as: UTF8.self)
        }

        func finish() -> String {
            handle.readabilityHandler = nil
            let rest = handle.readDataToEndOfFile()
            lock.lock(); data.append(rest); lock.unlock()
            return text
        }
    }

    /// Starts a detached run and waits until it serves its socket.
    static func startDetached(_ runDir: URL) throws -> RunDirectory {
        let result = try run(endlessRun(runDir) + ["--detach"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("attach:  xright attach \(runDir.path)"), result.stdout)
        let run = RunDirectory(runDir)
        XCTAssertEqual(RunProbe.probeSocket(run.controlSocket.path), .live)
        return run
    }

    static func status(_ run: RunDirectory) throws -> RunStatusReport {
        let result = try Binary.run(["ctl", run.url.path, "status", "--json"])
        guard result.status == 0 else { throw RemoteError.refused(socket: run.url.path, reason: result.stderr) }
        return try RunLogCoding.makeDecoder().decode(RunStatusReport.self, from: Data(result.stdout.utf8))
    }

    /// Stops a run this test started, whatever state the test left it in.
    static func stopQuietly(_ run: RunDirectory) {
        if let pid = RunProbe.livePid(run) {
            _ = try? Binary.run(["ctl", run.url.path, "stop", "--timeout", "30"], timeout: 40)
            if RunProbe.livePid(run) == pid { kill(pid, SIGKILL) }
        }
    }
}
