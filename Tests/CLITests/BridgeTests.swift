import Foundation
import TestSupport
import Training
import XCTest

/// The PyTorch bridge (integrations/pytorch) as `xright` sees it: two ranks under torchrun (gloo, CPU) on a tiny
/// GPT-NeoX, controlled with `xright ctl`, listed by `xright ls`, watched by `xright attach`; both ranks' decisions
/// agree step by step. A stand-in pynvml (FakeNVML) gives it GPUs to sample, whose `telemetry` events the run log
/// reader, `xright replay` and `xright report` then read. Skips when python3 lacks torch/transformers
/// (scripts/setup-python installs them).
final class BridgeTests: XCTestCase {
    func test_bridge_twoRanksApplyLambdaAndPauseAtTheSameStep_andXrightReadsTheRun() throws {
        let fixture = try BridgeFixture.shared()
        let scratch = try scratchDirectory()
        let run = scratch.appendingPathComponent("runs/bridge-run")
        try FileManager.default.createDirectory(at: run.deletingLastPathComponent(), withIntermediateDirectories: true)
        let training = try BridgePython.start([
            "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", String(BridgePython.freePort()),
            "-m", "xright_bridge", "train", "--model", fixture.policy.path, "--run-dir", run.path,
            "--sft", fixture.sft.path, "--pref", fixture.pref.path, "--strategy", "alright", "--lambda", "0.5",
            "--epochs", "100000", "--batch-size", "4", "--lr", "1e-3", "--threads", "1", "--telemetry-seconds", "1"],
            in: scratch, pythonPathFirst: try FakeNVML.write(in: scratch))
        defer { if training.process.isRunning { training.process.terminate() } }

        // Live: the socket answers and steps are being taken.
        let firstSteps = try waitForStatus(run, training, timeout: 180) { ($0["step"] as? Int ?? 0) >= 5 }
        XCTAssertEqual(firstSteps["state"] as? String, "running")
        let (attach, attachOut, _) = try XRightProcess.start(["attach", run.path], in: scratch)
        defer { if attach.isRunning { attach.terminate() } }

        let lambdaStep = try appliedStep(try XRightProcess.run(["ctl", run.path, "lambda", "0.2"], in: scratch))
        let pauseStep = try appliedStep(try XRightProcess.run(["ctl", run.path, "pause"], in: scratch))
        Thread.sleep(forTimeInterval: 1.5)
        let paused = try status(run, in: scratch)
        XCTAssertEqual(paused["state"] as? String, "paused")
        XCTAssertEqual(paused["step"] as? Int, pauseStep, "a paused run takes no steps")
        XCTAssertEqual(paused["lambda"] as? Double, 0.2)

        let listed = try XRightProcess.run(["ls", "--json"], in: scratch)
        XCTAssertEqual(listed.status, 0, listed.transcript)
        let entry = try XCTUnwrap(listed.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.first { ($0["runDirectory"] as? String)?.hasSuffix("bridge-run") == true }, listed.transcript)
        XCTAssertEqual(entry["state"] as? String, "paused")
        XCTAssertEqual(entry["strategy"] as? String, "alright")

        let resumeStep = try appliedStep(try XRightProcess.run(["ctl", run.path, "resume"], in: scratch))
        XCTAssertEqual(resumeStep, pauseStep)
        _ = try waitForStatus(run, training, timeout: 60) { ($0["step"] as? Int ?? 0) >= pauseStep + 5 }
        let stopped = try XRightProcess.run(["ctl", run.path, "stop"], in: scratch, timeout: 120)
        XCTAssertEqual(stopped.status, 0, stopped.transcript)
        XCTAssertTrue(stopped.stdout.contains("stopped at step"), stopped.transcript)
        try BridgePython.waitForExit(training, timeout: 60)
        XCTAssertEqual(training.process.terminationStatus, 0, training.output())

        // Both ranks made the same choices under the same λ at every step, and applied every command at the same step.
        let trace0 = try String(contentsOf: run.appendingPathComponent("ranks/rank-0.jsonl"), encoding: .utf8)
        let trace1 = try String(contentsOf: run.appendingPathComponent("ranks/rank-1.jsonl"), encoding: .utf8)
        XCTAssertEqual(trace0.split(separator: "\n"), trace1.split(separator: "\n"), "ranks diverged")
        let rank0 = try lines(run.appendingPathComponent("ranks/rank-0.jsonl"))
        XCTAssertGreaterThan(rank0.count, pauseStep)
        let steps = rank0.filter { $0["objectives"] != nil }
        for s in steps {
            let step = s["step"] as! Int
            XCTAssertEqual(s["lambda"] as? Double, step <= lambdaStep ? 0.5 : 0.2, "λ at step \(step)")
        }
        XCTAssertEqual(steps.map { $0["step"] as! Int }, Array(1...steps.count), "steps in order, none twice")
        XCTAssertTrue(Set(steps.flatMap { $0["objectives"] as! [String] }) == ["sft", "dpo"], "ALRIGHT drew both")
        let commands = rank0.compactMap { line in (line["command"] as? String).map { ($0, line["step"] as! Int) } }
        XCTAssertEqual(commands.map(\.0), ["set-lambda 0.2", "pause", "resume", "stop"])
        XCTAssertEqual(commands.map(\.1)[0...2], [lambdaStep, pauseStep, pauseStep])

        // The run log agrees with the ranks, and xright reads it as a finished run.
        let log = try lines(run.appendingPathComponent("run.jsonl"))
        XCTAssertEqual(log.first?["type"] as? String, "header")
        let logged = log.filter { $0["type"] as? String == "step" }
        XCTAssertEqual(logged.map { $0["objectives"] as! [String] }, steps.map { $0["objectives"] as! [String] })
        XCTAssertEqual(log.filter { $0["type"] as? String == "lambda-changed" }.first?["step"] as? Int, lambdaStep)
        XCTAssertEqual(log.last?["type"] as? String, "finished")
        let final = try status(run, in: scratch)
        XCTAssertEqual(final["state"] as? String, "finished")
        XCTAssertEqual((final["finished"] as? [String: Any])?["reason"] as? String, "stopped")
        XCTAssertEqual(final["step"] as? Int, steps.count)

        // attach followed it live and left when it ended.
        let deadline = Date(timeIntervalSinceNow: 30)
        while attach.isRunning && Date() < deadline { usleep(50_000) }
        XCTAssertFalse(attach.isRunning, "attach did not leave after the run finished")
        let watched = (try? String(contentsOf: attachOut, encoding: .utf8)) ?? ""
        let firstGPU = "\(Self.hostName) r0 GPU0 Fake Tesla T4 37% 3.0/16.0G 55C 70W"
        for fragment in ["attached to", "λ 0.50 → 0.20 at step \(lambdaStep)", "paused after step \(pauseStep)",
                         "resumed after step \(pauseStep)", "the run is no longer live", "training GPUs at step", firstGPU] {
            XCTAssertTrue(watched.contains(fragment), "attach output lacks '\(fragment)':\n\(watched)")
        }

        try assertReaderDecodesTheGPUSamples(run)
        try assertReplayShowsTheFinalStepAndTheGPUs(run, finalStep: steps.count)
        try assertReportReadsTheRun(run, finalStep: steps.count, in: scratch)
    }

    // MARK: the run's GPU samples, read back

    /// What python's socket.gethostname() reports, which the bridge puts in every device's `host`.
    private static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(cString: buffer)
    }

    /// Each rank reports every device it sees (on CPU it has no device of its own): both fake GPUs, twice.
    private func expectedGPUs() -> [TelemetryEvent.GPU] {
        [0, 1].flatMap { rank in
            FakeNVML.devices.enumerated().map { index, d in
                TelemetryEvent.GPU(host: Self.hostName, rank: rank, index: index, name: d.name, utilization: d.utilization,
                                   memoryUsedBytes: d.memoryUsedBytes, memoryTotalBytes: d.memoryTotalBytes,
                                   temperatureC: d.temperatureC, powerWatts: d.powerWatts)
            }
        }
    }

    private func assertReaderDecodesTheGPUSamples(_ run: URL) throws {
        let log = try RunLogReader.read(run.appendingPathComponent("run.jsonl"))
        XCTAssertEqual(log.header.schema, RunLogSchema.current)
        XCTAssertEqual(log.skippedUnknown, 0, "telemetry is a known event now")
        XCTAssertEqual(log.corruptLines, [])
        let samples = log.records.compactMap { record -> (time: Double, event: TelemetryEvent)? in
            if case .telemetry(let t) = record.event { return (record.time, t) } else { return nil }
        }
        XCTAssertGreaterThan(samples.count, 1, "sampled every second over a run of several seconds")
        for sample in samples {
            XCTAssertEqual(sample.event.gpus, expectedGPUs(), "at \(sample.time) s")
            XCTAssertNil(sample.event.note)
        }
        XCTAssertNil(samples.first?.event.gpus[1].powerWatts, "a reading the board does not report is absent")
        XCTAssertEqual(samples.map(\.event.step), samples.map(\.event.step).sorted())
    }

    private func assertReplayShowsTheFinalStepAndTheGPUs(_ run: URL, finalStep: Int) throws {
        guard TmuxPane.run("/usr/bin/env", ["tmux", "-V"]).status == 0 else { throw XCTSkip("tmux is not installed") }
        // 160×48: room in the GPU panel for four devices with their names.
        let pane = try TmuxPane(width: 160, height: 48, xright: ["replay", run.path])
        defer { pane.close() }
        let (ok, screen) = pane.waitFor { $0.contains("FINISHED") && $0.contains("Fake Tesla T4") }
        XCTAssertTrue(ok, "the replay does not show the finished run with its GPUs:\n\(screen)")
        XCTAssertTrue(screen.contains("step \(finalStep)/"), "final step \(finalStep) not on screen:\n\(screen)")
        XCTAssertTrue(screen.contains("Training GPUs · step "), screen)
        for rank in 0...1 {
            for row in ["\(Self.hostName) r\(rank) GPU0 Fake Tesla T4 37% 3.0/16.0G 55C 70W",
                        "\(Self.hostName) r\(rank) GPU1 Fake A10G 81% 20.0/24.0G 61C  "] {
                XCTAssertTrue(screen.contains(row), "'\(row)' is not in the GPU panel:\n\(screen)")
            }
        }
        pane.send("q")
        let (quit, after) = pane.waitFor { $0.contains("EXITED:0") }
        XCTAssertTrue(quit, "replay did not quit cleanly:\n\(after)")
    }

    private func assertReportReadsTheRun(_ run: URL, finalStep: Int, in directory: URL) throws {
        let report = try XRightProcess.run(["report", run.path, "--csv", "-"], in: directory)
        XCTAssertEqual(report.status, 0, report.transcript)
        XCTAssertEqual(report.stderr, "", report.transcript)
        let csv = try XCTUnwrap(report.stdout.components(separatedBy: "run,strategy,").last, report.transcript)
        let rows = ("run,strategy," + csv).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.count, 2, report.transcript)
        let value = { (name: String) in rows[1][rows[0].firstIndex(of: Substring(name))!] }
        XCTAssertEqual(value("steps"), Substring(String(finalStep)))
        XCTAssertEqual(value("strategy"), "alright")
        XCTAssertEqual(value("finished"), "stopped")
        XCTAssertEqual(value("corrupt_lines"), "0")
    }

    // MARK: helpers

    private func status(_ run: URL, in directory: URL) throws -> [String: Any] {
        let r = try XRightProcess.run(["ctl", run.path, "status", "--json"], in: directory)
        XCTAssertEqual(r.status, 0, r.transcript)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.transcript)
    }

    private func waitForStatus(_ run: URL, _ training: BridgePython.Running, timeout: TimeInterval,
                               until done: ([String: Any]) -> Bool) throws -> [String: Any] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        let socket = run.appendingPathComponent("control.sock").path
        while Date() < deadline {
            guard training.process.isRunning else {
                throw BridgeTestError("the bridge exited early:\n\(training.output())")
            }
            if FileManager.default.fileExists(atPath: socket) {
                let r = try XRightProcess.run(["ctl", run.path, "status", "--json"], in: run.deletingLastPathComponent())
                if r.status == 0, let s = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
                   done(s) { return s }
            }
            usleep(200_000)
        }
        throw BridgeTestError("the bridge did not get there in \(timeout) s:\n\(training.output())")
    }

    /// N of "… applied after step N".
    private func appliedStep(_ r: XRightProcess.Result) throws -> Int {
        XCTAssertEqual(r.status, 0, r.transcript)
        let text = try XCTUnwrap(r.stdout.components(separatedBy: "applied after step ").last, r.transcript)
        return try XCTUnwrap(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), r.transcript)
    }

    private func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "\(url.path): \($0)")
        }
    }
}

struct BridgeTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// python3 with the bridge on its path (the checked-out integrations/pytorch, not an installed copy).
enum BridgePython {
    struct Running {
        var process: Process
        var log: URL
        func output() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    }

    static let packageDirectory = TestPaths.packageRoot.appendingPathComponent("integrations/pytorch")
    static var python: String { ProcessInfo.processInfo.environment["XRIGHT_PYTHON"] ?? "python3" }

    private static var torchProbe: String??

    /// Skips unless python3 imports torch, transformers, tokenizers and safetensors (asked once per process).
    static func requireTorch() throws {
        if torchProbe == nil { torchProbe = .some(try probeTorch()) }
        if let problem = torchProbe! { throw XCTSkip(problem) }
    }

    private static func probeTorch() throws -> String? {
        let probe = try start(["-c", "import torch, transformers, tokenizers, safetensors"],
                              in: FileManager.default.temporaryDirectory)
        try waitForExit(probe, timeout: 120)
        guard probe.process.terminationStatus == 0 else {
            return "\(python) cannot import torch, transformers, tokenizers and safetensors (run "
                + "scripts/setup-python): \(probe.output().suffix(300))"
        }
        return nil
    }

    /// `pythonPathFirst`: a directory searched before everything else (a stand-in module).
    static func start(_ arguments: [String], in directory: URL, pythonPathFirst: URL? = nil) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python] + arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = ([pythonPathFirst?.path, packageDirectory.path, environment["PYTHONPATH"]].compactMap { $0 })
            .joined(separator: ":")
        environment["OMP_NUM_THREADS"] = "1"
        environment["TOKENIZERS_PARALLELISM"] = "false"
        process.environment = environment
        let log = directory.appendingPathComponent("python-\(UUID().uuidString.prefix(8)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw XCTSkip("cannot start \(python): \(error)") }
        return Running(process: process, log: log)
    }

    static func waitForExit(_ running: Running, timeout: TimeInterval) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while running.process.isRunning && Date() < deadline { usleep(50_000) }
        if running.process.isRunning {
            running.process.terminate()
            running.process.waitUntilExit()
            XCTFail("\(python) \(running.process.arguments?.joined(separator: " ") ?? "") did not finish in \(timeout) s:\n\(running.output())")
        }
    }

    /// Runs to the end; fails with the output unless it exits 0.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL, timeout: TimeInterval = 240) throws -> String {
        let running = try start(arguments, in: directory)
        try waitForExit(running, timeout: timeout)
        guard running.process.terminationStatus == 0 else {
            throw BridgeTestError("\(python) \(arguments.joined(separator: " ")) exited \(running.process.terminationStatus):\n\(running.output())")
        }
        return running.output()
    }

    /// A TCP port nobody listens on now, for torchrun's rendezvous (a fixed one may be taken by a parallel run).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Made once per test process: two tiny seeded GPT-NeoX directories (policy, reference) with the tiny BPE
/// tokenizer, and small prompt/response and prompt/chosen/rejected files.
final class BridgeFixture {
    let directory: URL
    let policy: URL
    let reference: URL
    let sft: URL
    let pref: URL
    let tokenizer = TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json")

    private static var made: Result<BridgeFixture, Error>?

    static func shared() throws -> BridgeFixture {
        try BridgePython.requireTorch()
        if made == nil { made = Result { try BridgeFixture() } }
        return try made!.get()
    }

    private init() throws {
        directory = try TestPaths.temporaryDirectory("xright-bridge")
        policy = directory.appendingPathComponent("policy")
        reference = directory.appendingPathComponent("reference")
        sft = directory.appendingPathComponent("sft.jsonl")
        pref = directory.appendingPathComponent("pref.jsonl")
        let words = ["the", "cat", "sat", "on", "a", "mat", "and", "ran", "to", "see", "blue", "sky", "over", "green",
                     "hills", "while", "birds", "sang", "songs", "café"]
        var state: UInt64 = 7
        func word() -> String {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return words[Int(state >> 33) % words.count]
        }
        func phrase(_ n: Int) -> String { (0..<n).map { _ in word() }.joined(separator: " ") }
        func json(_ object: [String: String]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        try (0..<48).map { try json(["prompt": "say \($0): \(phrase(3))", "response": phrase(6)]) }
            .joined(separator: "\n").appending("\n").write(to: sft, atomically: true, encoding: .utf8)
        try (0..<48).map { try json(["prompt": "pick \($0): \(phrase(3))", "chosen": phrase(5), "rejected": phrase(4)]) }
            .joined(separator: "\n").appending("\n").write(to: pref, atomically: true, encoding: .utf8)
        // Both models at once: each python start pays for importing torch and transformers.
        let makers = try [(policy, 1), (reference, 2)].map { dir, seed in
            try BridgePython.start(["-m", "xright_bridge", "tiny-model", dir.path, "--tokenizer", tokenizer.path,
                                    "--seed", String(seed)], in: directory)
        }
        for maker in makers {
            try BridgePython.waitForExit(maker, timeout: 240)
            guard maker.process.terminationStatus == 0 else {
                throw BridgeTestError("could not make the tiny model:\n\(maker.output())")
            }
        }
    }
}
