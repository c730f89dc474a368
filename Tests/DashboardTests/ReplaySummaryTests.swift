import Dashboard
import Foundation
import TestSupport
import Training
import XCTest

/// `xright report`'s figures, folded from every record.
final class ReplaySummaryTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("replay-summary") }
    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    func test_summary_givesFinalAndBestEvals_idealDistance_share_throughput() throws {
        _ = ReplayLogs.write(ReplayLogs.finishedRun(), in: directory)
        let s = try RunSummary.read(directory.path)
        XCTAssertEqual(s.steps, 10)
        XCTAssertEqual(s.finalEval?.step, 10)
        XCTAssertEqual(s.finalEval?.sft ?? 0, 3.0, accuracy: 1e-12)
        XCTAssertEqual(s.finalEval?.dpo ?? 0, 0.7, accuracy: 1e-12)
        XCTAssertEqual(s.bestSFT ?? 0, 3.0, accuracy: 1e-12)
        // Computed from the header's optima (1, 0.1) when the eval does not carry it: ‖(2, 0.6)‖.
        XCTAssertEqual(s.finalEval?.idealDistance ?? 0, (4 + 0.36).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(s.bestIdealDistance ?? 0, (4 + 0.36).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(s.dpoStepShare ?? 0, 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.tokensPerSecond ?? 0, 3000, accuracy: 1e-9, "300 tokens per 0.1 s step")
        XCTAssertEqual(s.wallSeconds, 1.09, accuracy: 1e-12)
        XCTAssertEqual(s.finished?.reason, .maxSteps)
        XCTAssertEqual(s.lambda, 0.5, "λ of the last step")
    }

    func test_summary_withoutOptima_hasNoIdealDistance() throws {
        _ = ReplayLogs.write(ReplayLogs.finishedRun(optima: nil), in: directory)
        let s = try RunSummary.read(directory.path)
        XCTAssertNil(s.finalEval?.idealDistance)
        XCTAssertNil(s.bestIdealDistance)
    }

    func test_resumedSteps_supersedeTheEarlierOnes() throws {
        var lines = ReplayLogs.finishedRun(steps: 6)
        lines.removeLast()   // killed before finishing
        // Resumed from the checkpoint at step 4: steps 5 and 6 again, both SFT this time.
        lines.append(ReplayLogs.line(ReplayLogs.timed(Events.started(step: 4), 4)))
        lines.append(ReplayLogs.line(Events.step(5, sft: 2)))
        lines.append(ReplayLogs.line(Events.step(6, sft: 1.9)))
        _ = ReplayLogs.write(lines, in: directory)
        let s = try RunSummary.read(directory.path)
        XCTAssertEqual(s.steps, 6)
        // Steps 1..4 alternate (2 DPO), 5 and 6 are SFT: 2 of 6.
        XCTAssertEqual(s.dpoStepShare ?? 0, 2.0 / 6.0, accuracy: 1e-12)
        XCTAssertEqual(s.finalEval?.step, nil, "the eval at step 5 belonged to the superseded steps")
        XCTAssertNil(s.finished)
    }

    func test_corruptLines_areCountedInTheSummary() throws {
        var lines = ReplayLogs.finishedRun()
        lines.insert("garbage", at: 5)
        _ = ReplayLogs.write(lines, in: directory)
        let s = try RunSummary.read(directory.path)
        XCTAssertEqual(s.problems.corruptLines, [6])
        XCTAssertEqual(s.steps, 10)
    }

    /// Issue #18 finding 3: one step line edited to a huge number grew the fold's per-step arrays to that length
    /// (8.5 GB in 15 s). The fold keeps one entry per record, so the edited line costs one entry.
    func test_aHugeStepNumber_costsOneRecord_notMemoryUpToIt() throws {
        var lines = ReplayLogs.finishedRun(steps: 4)
        let stepLine = try XCTUnwrap(lines.firstIndex { $0.contains("\"step\":3,") && $0.contains("\"type\":\"step\"") })
        lines[stepLine] = lines[stepLine].replacingOccurrences(of: "\"step\":3,", with: "\"step\":1000000000000,")
        _ = ReplayLogs.write(lines, in: directory)
        let s = try RunSummary.read(directory.path)
        // Steps 1, 2, 10¹²; then step 4 supersedes everything after step 3, as a resume would.
        XCTAssertEqual(s.steps, 3)
        XCTAssertEqual(s.finished?.reason, .maxSteps)
    }
}
