#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Dashboard
import Foundation
import Training

/// `xright bench replay`: how fast a long run log opens in the replay dashboard and how much memory it takes.
struct BenchReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Time to the first replay frame and peak memory on a long run log (1,000,000 events by default).",
        discussion: """
            Writes a synthetic ALRIGHT run log of --events events with the real log writer (or uses --log when it \
            exists), runs `xright replay` on it in a 120×40 pseudo-terminal, and reports: seconds from starting the \
            process to the first frame showing records (goal < 1 s), to the frame with the whole log read, and the \
            replay's peak resident memory (VmHWM; goal < 200 MB). Then `xright report`'s reader goes over the same \
            log to show that it still sees every step: the replay keeps steps packed for display, the report \
            drops nothing.
            """)

    @Option(help: "Events in the generated log.")
    var events: Int = 1_000_000

    @Option(help: "Use this run log; when it does not exist, generate it there and keep it.")
    var log: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard events >= 10 else { throw ValidationError("--events must be at least 10, got \(events)") }
    }

    func run() throws {
        let progress = ProgressLine()
        let temporary = log == nil ? FileManager.default.temporaryDirectory.appendingPathComponent("xright-bench-replay-\(getpid())") : nil
        defer { if let temporary { try? FileManager.default.removeItem(at: temporary) } }
        let url = log.map { URL(fileURLWithPath: $0) } ?? temporary!.appendingPathComponent("run.jsonl")
        if !FileManager.default.fileExists(atPath: url.path) {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let total = events
            try ReplayBenchLog.write(to: url, events: total) { written in
                progress.update("bench replay: writing a \(total)-event run log… \(written * 100 / total)%")
            }
        }
        // A file that is not a run log is refused here, by name, rather than by a replay nobody sees on the pty.
        _ = try RunLogReader.header(of: url)
        let fileBytes = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0

        progress.update("bench replay: xright replay in a 120×40 pty…")
        let replay = try Self.measureReplay(of: url)
        progress.update("bench replay: the report's reader over the same log…")
        let reportStart = MonotonicClock.seconds()
        let summary = try RunSummary.read(url.path)
        let reportSeconds = MonotonicClock.seconds() - reportStart
        progress.finish()

        let result = ReplayBenchResult(
            logPath: log ?? "(temporary)", logMegabytes: Double(fileBytes) / 1e6, records: replay.records,
            firstFrameSeconds: replay.firstFrameSeconds, recordsInFirstFrame: replay.firstFrameRecords,
            wholeLogSeconds: replay.loadedSeconds, peakResidentMegabytes: Double(replay.peakResidentKiB) / 1024,
            stepBackAtEndSeconds: replay.stepBackSeconds, reportSteps: summary.steps, reportSeconds: reportSeconds,
            firstFrameGoalMet: replay.firstFrameSeconds < 1, memoryGoalMet: Double(replay.peakResidentKiB) / 1024 < 200)
        if json {
            print(try JSONOutput.string(result))
        } else {
            print("""
                replay benchmark (\(Format.count(Double(replay.records))) records, \(fmt(result.logMegabytes, 0)) MB log)
                  first frame with records       \(fmt(result.firstFrameSeconds, 3)) s (\(result.recordsInFirstFrame) records on it)   (goal < 1 s)
                  whole log read and shown       \(fmt(result.wholeLogSeconds, 2)) s
                  peak resident memory           \(fmt(result.peakResidentMegabytes, 1)) MB   (goal < 200 MB)
                  ← at the end (refolds the log)  \(fmt(result.stepBackAtEndSeconds * 1000, 0)) ms to the first bytes on screen (median of 3)
                  report reader, same log        \(result.reportSteps) steps in \(fmt(reportSeconds, 2)) s (every step; nothing downsampled)
                """)
        }
    }

    struct ReplayMeasure {
        var records: Int
        var firstFrameSeconds: Double
        var firstFrameRecords: Int
        var loadedSeconds: Double
        var peakResidentKiB: Int
        var stepBackSeconds: Double
    }

    /// Starts `xright replay LOG` on a pty and waits for its probe's report (written once the whole log is shown).
    static func measureReplay(of url: URL) throws -> ReplayMeasure {
        let reportPath = FileManager.default.temporaryDirectory.appendingPathComponent("xright-replay-bench-\(getpid()).json").path
        unlink(reportPath)
        defer { unlink(reportPath) }
        let child = try PseudoTerminalChild(arguments: ["replay", url.path, "--bench-report", reportPath], rows: 40, columns: 120)
        let deadline = MonotonicClock.seconds() + 600
        while !FileManager.default.fileExists(atPath: reportPath) {
            guard child.isRunning else { throw BenchError("xright replay exited before it showed the whole log") }
            guard MonotonicClock.seconds() < deadline else { throw BenchError("xright replay did not show the whole log within 600 s") }
            usleep(20_000)
        }
        // Stepping back from the end refolds the whole log (the dashboard state is only built forwards): time it
        // from the key to the first bytes of the answer, after a quiet moment so no other frame is on its way.
        let stepBackSeconds = (0..<3).compactMap { _ in child.answerLatency(to: "\u{1B}OD", quiet: 0.2, timeout: 10) }
        child.send("q")
        child.waitForExit(seconds: 10)
        guard !stepBackSeconds.isEmpty else { throw BenchError("xright replay did not answer ← within 10 s") }
        let report = try JSONDecoder().decode(ReplayBenchProbe.Report.self, from: Data(contentsOf: URL(fileURLWithPath: reportPath)))
        return ReplayMeasure(records: report.records, firstFrameSeconds: report.firstFrame - child.spawnedAt,
                             firstFrameRecords: report.firstFrameRecords, loadedSeconds: report.loadedFrame - child.spawnedAt,
                             peakResidentKiB: report.peakResidentKiB, stepBackSeconds: stepBackSeconds.sorted()[stepBackSeconds.count / 2])
    }
}

struct ReplayBenchResult: Encodable {
    var logPath: String
    var logMegabytes: Double
    var records: Int
    var firstFrameSeconds: Double
    var recordsInFirstFrame: Int
    var wholeLogSeconds: Double
    var peakResidentMegabytes: Double
    var stepBackAtEndSeconds: Double
    var reportSteps: Int
    var reportSeconds: Double
    var firstFrameGoalMet: Bool
    var memoryGoalMet: Bool
}

/// Inside the replay process: notes the first frame showing records and the first frame with every log read,
/// then writes them with the peak resident memory, for `xright bench replay` (hidden `--bench-report`).
final class ReplayBenchProbe {
    struct Report: Codable {
        /// Monotonic seconds (CLOCK_MONOTONIC, shared by all processes of the machine).
        var firstFrame: Double
        var firstFrameRecords: Int
        var loadedFrame: Double
        var records: Int
        var peakResidentKiB: Int
    }

    private let reportPath: String
    private var firstFrame: (time: Double, records: Int)?
    private var written = false

    init(reportPath: String) { self.reportPath = reportPath }

    func frameDrawn(player: ReplayPlayer, loaded: Bool) {
        guard !written else { return }
        let records = player.timelines.reduce(0) { $0 + $1.count }
        if firstFrame == nil, records > 0 { firstFrame = (MonotonicClock.seconds(), records) }
        guard loaded, let firstFrame else { return }
        written = true
        let report = Report(firstFrame: firstFrame.time, firstFrameRecords: firstFrame.records, loadedFrame: MonotonicClock.seconds(),
                            records: records, peakResidentKiB: ProcessStatus.kibibytes("VmHWM") ?? 0)
        // Written whole, then renamed: the bench polls for the file and must never read half of it.
        let temporary = reportPath + ".tmp"
        if let data = try? JSONEncoder().encode(report), (try? data.write(to: URL(fileURLWithPath: temporary))) != nil {
            rename(temporary, reportPath)
        }
    }
}

/// CLOCK_MONOTONIC in seconds: comparable between processes, which the replay benchmark needs.
enum MonotonicClock {
    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
