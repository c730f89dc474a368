import Foundation
import TestSupport
import XCTest

/// The built `xright` binary, driven as a user would: arguments in; exit status, stdout and stderr out.
enum XRightProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Both streams, for assertion messages.
        var transcript: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    /// `$XRIGHT_BIN`, else `xright` next to the test bundle (.build/<config>/), else skips the test.
    static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["XRIGHT_BIN"] { return URL(fileURLWithPath: path) }
        var candidates = [URL]()
        if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
        candidates.append(Bundle.main.bundleURL)
        candidates.append(contentsOf: Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() })
        for directory in candidates {
            let url = directory.appendingPathComponent("xright")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw XCTSkip("the xright binary is not next to the test bundle (looked in \(candidates.map(\.path))); "
                      + "run `swift build -c release` first, or set XRIGHT_BIN")
    }

    /// Starts `xright arguments` with output going to files (no pipe can fill up and block it).
    static func start(_ arguments: [String], in directory: URL,
                      environment extra: [String: String] = [:]) throws -> (Process, stdout: URL, stderr: URL) {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["XRIGHT_RUNS"] = directory.appendingPathComponent("runs").path
        environment["OPENBLAS_NUM_THREADS"] = "1"
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let id = UUID().uuidString.prefix(8)
        let out = directory.appendingPathComponent("stdout-\(id).txt"), err = directory.appendingPathComponent("stderr-\(id).txt")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, out, err)
    }

    /// Runs to the end; fails the test (and kills the process) after `timeout` seconds.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL, timeout: TimeInterval = 120,
                    environment: [String: String] = [:],
                    file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let (process, out, err) = try start(arguments, in: directory, environment: environment)
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTFail("xright \(arguments.joined(separator: " ")) did not finish in \(timeout) s", file: file, line: line)
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}

/// Options that make a training run take a second or two: the tiny preset on a small demo task.
enum TinyRun {
    static let options = ["--preset", "tiny", "--demo-examples", "60", "--batch-size", "4", "--threads", "1"]
}

extension XCTestCase {
    /// A temporary directory removed when the test ends.
    func scratchDirectory() throws -> URL {
        let url = try TestPaths.temporaryDirectory("xright-cli")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Asserts a refusal: a non-zero exit and stderr containing every fragment.
    func assertRefused(_ result: XRightProcess.Result, mentioning fragments: [String],
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, result.transcript, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(result.stderr.contains(fragment), "stderr lacks '\(fragment)':\n\(result.transcript)",
                          file: file, line: line)
        }
    }
}
