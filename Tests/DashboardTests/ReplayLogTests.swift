import Dashboard
import Foundation
import TestSupport
import Training
import XCTest

/// Run-log lines for replay tests, written the way RunLogWriter writes them.
enum ReplayLogs {
    static func line(_ record: RunRecord) -> String {
        String(decoding: try! RunLogCoding.makeEncoder().encode(record), as: UTF8.self)
    }

    /// Header, started, `steps` alternating SFT/DPO steps (losses falling), an eval every 5 steps, a λ change
    /// after step 4, a pause after step 6, a checkpoint at step 8, finished.
    static func finishedRun(steps: Int = 10, optima: Optima? = Optima(sft: 1, dpo: 0.1)) -> [String] {
        var lines = [line(Events.header(planned: steps, optima: optima)), line(Events.started())]
        for n in 1...steps {
            lines.append(line(n % 2 == 1 ? Events.step(n, sft: 5 - 0.1 * Double(n)) : Events.step(n, dpo: 1 - 0.05 * Double(n))))
            if n % 5 == 0 { lines.append(line(timed(Events.eval(step: n, sft: 4 - 0.1 * Double(n), dpo: 0.9 - 0.02 * Double(n)), n))) }
            if n == 4 { lines.append(line(timed(Events.lambdaChanged(step: 4, from: 0.5, to: 0.7), n))) }
            if n == 6 { lines.append(line(timed(Events.paused(step: 6), n))); lines.append(line(timed(Events.resumed(step: 6), n, 0.05))) }
            if n == 8 { lines.append(line(timed(RunRecord(time: 0, event: .checkpointSaved(CheckpointSaved(step: 8, path: "/x", seconds: 0.01))), n))) }
        }
        lines.append(line(timed(Events.finished(step: steps, reason: .maxSteps), steps, 0.09)))
        return lines
    }

    /// Events.* stamp fixed times; replay needs them in order, just after their step (steps are 0.1 s apart).
    static func timed(_ record: RunRecord, _ step: Int, _ after: Double = 0.01) -> RunRecord {
        var r = record
        r.time = Double(step) * 0.1 + after
        return r
    }

    /// A whole log read synchronously into a timeline, by the scanner the replay's background reader uses.
    static func load(_ path: String) throws -> ReplayTimeline {
        let url = try RunLogReader.logFile(for: path)
        var timeline = ReplayTimeline(name: RunSummary.displayName(of: url))
        timeline.problems = try RunLogReader.scan(url, header: { timeline.setHeader($0) }, record: { timeline.append($0) })
        return timeline
    }

    static func write(_ lines: [String], terminated: Bool = true, in directory: URL, name: String = "run.jsonl") -> URL {
        let url = directory.appendingPathComponent(name)
        try! Data((lines.joined(separator: "\n") + (terminated ? "\n" : "")).utf8).write(to: url)
        return url
    }
}

/// Reading logs for replay and report: the run log's rules for bad input, each with its own test.
final class ReplayLogTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("replay-log") }
    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    func test_scanner_readsEveryRecordOfAFinishedRunInOrder() throws {
        let url = ReplayLogs.write(ReplayLogs.finishedRun(), in: directory)
        let timeline = try ReplayLogs.load(url.path)
        XCTAssertEqual(timeline.header?.plannedSteps, 10)
        var steps = 0
        timeline.forEachRecord(in: 0..<timeline.count) { if case .step = $0.event { steps += 1 } }
        XCTAssertEqual(steps, 10)
        XCTAssertEqual(timeline.problems, RunLogProblems())
        XCTAssertEqual(timeline.name, directory.lastPathComponent, "a run.jsonl is named after its directory")
    }

    func test_scanner_givesTheSameRecordsWhateverTheChunkSize() throws {
        let url = ReplayLogs.write(ReplayLogs.finishedRun(), in: directory)
        var small: [RunRecord] = [], large: [RunRecord] = []
        try RunLogReader.scan(url, chunkSize: 7, header: { _ in }, record: { small.append($0) })
        try RunLogReader.scan(url, header: { _ in }, record: { large.append($0) })
        XCTAssertEqual(small, large)
        XCTAssertEqual(small.count, ReplayLogs.finishedRun().count - 1)
    }

    func test_tornLastLine_isSkippedSilently() throws {
        var lines = ReplayLogs.finishedRun()
        lines.append(#"{"type":"step","step":11,"sft":{"lo"#)
        let url = ReplayLogs.write(lines, terminated: false, in: directory)
        let timeline = try ReplayLogs.load(url.path)
        XCTAssertTrue(timeline.problems.tornLastLine)
        XCTAssertEqual(timeline.problems.corruptCount, 0)
        XCTAssertNil(timeline.problems.corruptSummary, "a torn last line is expected after a kill: nothing to report")
        XCTAssertEqual(timeline.count, lines.count - 2)
    }

    func test_corruptMiddleLine_isSkippedCountedAndNamedByLine() throws {
        var lines = ReplayLogs.finishedRun()
        lines.insert("{not json", at: 3)
        lines.insert(#"{"type":"step","step":"three"}"#, at: 6)
        let url = ReplayLogs.write(lines, in: directory)
        let timeline = try ReplayLogs.load(url.path)
        XCTAssertEqual(timeline.problems.corruptLines, [4, 7])
        XCTAssertEqual(timeline.problems.corruptSummary, "2 corrupt lines skipped (lines 4, 7)")
        XCTAssertEqual(timeline.count, lines.count - 3)
        let player = ReplayPlayer(timelines: [timeline])
        XCTAssertTrue(player.controllers[0].state.messages.contains { $0.text.contains("2 corrupt lines skipped (lines 4, 7)") },
                      "the dashboard's event line shows what was skipped")
    }

    func test_unknownEventTypes_areSkippedAndCounted() throws {
        var lines = ReplayLogs.finishedRun()
        lines.insert(#"{"type":"gpu-sample","time":0.15,"watts":300}"#, at: 3)
        let url = ReplayLogs.write(lines, in: directory)
        let timeline = try ReplayLogs.load(url.path)
        XCTAssertEqual(timeline.problems.skippedUnknown, 1)
        XCTAssertEqual(timeline.problems.corruptCount, 0)
        XCTAssertEqual(timeline.count, lines.count - 2)
    }

    func test_unknownMajorSchema_isAClearError() throws {
        var lines = ReplayLogs.finishedRun()
        lines[0] = lines[0].replacingOccurrences(of: #""schema":"\#(RunLogSchema.current)""#, with: #""schema":"2.0""#)
        let url = ReplayLogs.write(lines, in: directory)
        XCTAssertThrowsError(try ReplayLogs.load(url.path)) { error in
            XCTAssertEqual(error as? RunLogError, .unsupportedSchema(file: url.path, found: "2.0", supported: "1.x"))
            XCTAssertTrue("\(error)".contains("schema 2.0 is not supported"), "\(error)")
        }
    }

    func test_newerMinorSchema_isRead() throws {
        var lines = ReplayLogs.finishedRun()
        lines[0] = lines[0].replacingOccurrences(of: #""schema":"\#(RunLogSchema.current)""#, with: #""schema":"1.7""#)
        XCTAssertEqual(try ReplayLogs.load(ReplayLogs.write(lines, in: directory).path).count, lines.count - 1)
    }

    func test_emptyLog_isAClearError() throws {
        let url = ReplayLogs.write([], terminated: false, in: directory)
        XCTAssertThrowsError(try ReplayLogs.load(url.path)) { error in
            XCTAssertEqual(error as? RunLogError, .empty(file: url.path))
        }
    }

    func test_fileThatIsNotARunLog_namesWhatItFound() throws {
        let url = ReplayLogs.write([#"{"prompt":"hi","response":"there"}"#], in: directory, name: "sft.jsonl")
        XCTAssertThrowsError(try ReplayLogs.load(url.path)) { error in
            guard case .missingHeader(let file, let found)? = error as? RunLogError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, url.path)
            XCTAssertTrue(found.contains("prompt"), found)
        }
    }

    func test_directoryWithoutRunLog_isRefusedByName_butOneWithoutCheckpointsIsFine() throws {
        let empty = directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try ReplayLogs.load(empty.path)) { error in
            XCTAssertTrue("\(error)".contains("no run.jsonl"), "\(error)")
        }
        _ = ReplayLogs.write(ReplayLogs.finishedRun(), in: directory)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("checkpoints").path))
        XCTAssertEqual(try ReplayLogs.load(directory.path).count, ReplayLogs.finishedRun().count - 1)
        XCTAssertThrowsError(try ReplayLogs.load(directory.appendingPathComponent("nowhere").path))
    }

    func test_playTime_neverGoesBack_afterAResume() {
        var timeline = ReplayTimeline(name: "r")
        timeline.append(Events.step(1, sft: 2))          // t = 0.1
        timeline.append(Events.step(2, sft: 2))          // t = 0.2
        timeline.append(ReplayLogs.timed(Events.started(step: 1), 1, 0.001)) // resumed: back to t = 0.101
        timeline.append(Events.step(2, sft: 1.5))        // t = 0.2 again
        let playTimes = (0..<timeline.count).map { timeline.playTime(at: $0) }
        XCTAssertEqual(playTimes.count, 4)
        XCTAssertEqual(playTimes, playTimes.sorted())
        XCTAssertEqual(playTimes[3] - playTimes[2], 0.099, accuracy: 1e-9, "the resumed part keeps its pace")
        // Steps are stored packed, but give back the time they were logged with, not the shifted one.
        XCTAssertEqual(timeline.record(at: 3).time, 0.2, accuracy: 1e-12)
        XCTAssertEqual(timeline.record(at: 1).time, 0.2, accuracy: 1e-12)
    }
}
