import Foundation
import TestSupport
import XCTest

/// `scripts/install PREFIX` puts a working `xright` on a PATH: the program, its themes and completions for bash,
/// zsh and fish; the installed program runs from any directory by name.
final class InstallTests: XCTestCase {
    /// Installs the binary these tests run against (building again inside `swift test` would wait on its lock).
    private func install(into prefix: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = TestPaths.packageRoot.appendingPathComponent("scripts/install")
        process.arguments = [prefix.path]
        var environment = ProcessInfo.processInfo.environment
        environment["XRIGHT_INSTALL_BINARY"] = try XRightProcess.binary().path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// `xright ARGS` found through PATH (as a user types it), run in `directory`.
    private func runInstalled(_ arguments: [String], prefix: URL, in directory: URL) throws -> XRightProcess.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["xright"] + arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = prefix.appendingPathComponent("bin").path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["XRIGHT_RUNS"] = directory.appendingPathComponent("runs").path
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        let out = directory.appendingPathComponent("stdout.txt"), err = directory.appendingPathComponent("stderr.txt")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return XRightProcess.Result(status: process.terminationStatus,
                                    stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                                    stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    func test_install_putsProgramThemesAndCompletionsUnderPrefix_andItRunsFromAnotherDirectory() throws {
        let scratch = try scratchDirectory()
        let prefix = scratch.appendingPathComponent("prefix")
        let installed = try install(into: prefix)
        XCTAssertEqual(installed.status, 0, installed.output)

        let files = FileManager.default
        XCTAssertTrue(files.isExecutableFile(atPath: prefix.appendingPathComponent("bin/xright").path))
        for theme in ["default", "light", "high-contrast"] {
            XCTAssertTrue(files.fileExists(atPath: prefix.appendingPathComponent("share/xright/themes/\(theme).theme").path),
                          "theme \(theme) not installed")
        }
        let completions = ["share/bash-completion/completions/xright", "share/zsh/site-functions/_xright",
                           "share/fish/vendor_completions.d/xright.fish"]
        for path in completions {
            let script = try String(contentsOf: prefix.appendingPathComponent(path), encoding: .utf8)
            // Each script knows the subcommands and their options, not just the program name.
            XCTAssertTrue(script.contains("train") && script.contains("lambda") && script.contains("replay"),
                          "\(path) does not complete xright's subcommands and options")
        }
        let bashCheck = Process()
        bashCheck.executableURL = URL(fileURLWithPath: "/bin/bash")
        bashCheck.arguments = ["-n", prefix.appendingPathComponent(completions[0]).path]
        try bashCheck.run()
        bashCheck.waitUntilExit()
        XCTAssertEqual(bashCheck.terminationStatus, 0, "the bash completion script does not parse")

        // Somewhere with no checkout and no themes/ folder.
        let elsewhere = scratch.appendingPathComponent("elsewhere")
        try files.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let help = try runInstalled(["--help"], prefix: prefix, in: elsewhere)
        XCTAssertEqual(help.status, 0, help.transcript)
        XCTAssertTrue(help.stdout.contains("USAGE: xright"), help.transcript)

        let demo = try runInstalled(["demo", "--headless", "--max-steps", "3"] + TinyRun.options, prefix: prefix,
                                    in: elsewhere)
        XCTAssertEqual(demo.status, 0, demo.transcript)
        let runs = try files.contentsOfDirectory(atPath: elsewhere.appendingPathComponent("runs").path)
        XCTAssertEqual(runs.count, 1, "one run directory expected, found \(runs)")
        XCTAssertTrue(files.fileExists(atPath: elsewhere.appendingPathComponent("runs/\(runs[0])/run.jsonl").path))
    }

    func test_install_refusesMoreThanOnePrefix() throws {
        let process = Process()
        process.executableURL = TestPaths.packageRoot.appendingPathComponent("scripts/install")
        process.arguments = ["/tmp/a", "/tmp/b"]
        process.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 2)
        XCTAssertTrue(text.contains("usage: scripts/install [PREFIX]"), text)
    }
}
