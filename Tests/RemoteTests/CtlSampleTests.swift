import Foundation
import Remote
import TestSupport
import Training
import XCTest

/// `xright ctl RUN sample`: a live run answers its probe prompts now (the dashboard's `r`), through the socket.
final class CtlSampleTests: XCTestCase {
    private func startDetached(_ runDir: URL, _ extra: [String]) throws -> RunDirectory {
        let result = try Binary.run(Binary.endlessRun(runDir) + extra + ["--detach"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        let run = RunDirectory(runDir)
        try Fixtures.eventually("the run serves its socket", within: 60) { RunProbe.probeSocket(run.controlSocket.path) == .live }
        return run
    }

    func test_sample_printsEveryProbesReply_andTheRunLogsThemAsCommanded() throws {
        let root = try TestPaths.temporaryDirectory("xright-runs")
        let prompts = root.appendingPathComponent("probes.txt")
        try Data("Name a colour.\nSay hi.\n".utf8).write(to: prompts)
        let run = try startDetached(root.appendingPathComponent("sampling"),
                                    ["--probe-prompts", prompts.path, "--sample-every", "1000000", "--sample-tokens", "4"])
        defer { Binary.stopQuietly(run) }

        let result = try Binary.run(["ctl", run.url.path, "sample"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("sample-now: applied after step ") ?? false, result.stdout)
        XCTAssertTrue(result.stdout.contains("probe 1/2: Name a colour.\n  → "), result.stdout)
        XCTAssertTrue(result.stdout.contains("probe 2/2: Say hi.\n  → "), "ctl waits for the whole round:\n\(result.stdout)")

        XCTAssertEqual(try Binary.run(["ctl", run.url.path, "stop"], timeout: 120).status, 0)
        let samples = try RunLogReader.read(run.log).records.compactMap { r -> SampleEvent? in
            if case .sample(let s) = r.event { return s } else { return nil }
        }
        XCTAssertEqual(samples.filter { $0.reason == .command }.map(\.prompt), ["Name a colour.", "Say hi."])
        XCTAssertEqual(samples.filter { $0.reason == .command }.map(\.probes), [2, 2])
    }

    func test_sample_onARunWithoutSamples_isRefusedWithTheReason() throws {
        let root = try TestPaths.temporaryDirectory("xright-runs")
        let run = try startDetached(root.appendingPathComponent("silent"), ["--sample-every", "0"])
        defer { Binary.stopQuietly(run) }
        let result = try Binary.run(["ctl", run.url.path, "sample"], timeout: 120)
        XCTAssertNotEqual(result.status, 0, result.stdout)
        XCTAssertTrue(result.stderr.contains("sample-now: refused by the run"), result.stderr)
        XCTAssertTrue(result.stderr.contains("this run samples no replies (no probe prompts, or --sample-every 0)"), result.stderr)

        let extra = try Binary.run(["ctl", run.url.path, "sample", "now"])
        XCTAssertNotEqual(extra.status, 0)
        XCTAssertTrue(extra.stderr.contains("`sample` takes no value; got 'now'"), extra.stderr)
    }
}
