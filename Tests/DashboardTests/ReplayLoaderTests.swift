import Dashboard
import Engine
import Foundation
import TestSupport
import Training
import XCTest

/// Long logs: steps kept packed must draw the same screen as the live dashboard, and the background loader must
/// fill the player, count what it skipped and stop paused at the end.
final class ReplayLoaderTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("replay-loader") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// A MAXRIGHT-then-mix run with everything the dashboard folds: gaps, both objectives in one step, a skipped
    /// (non-finite) update, evals, λ and strategy changes, a pause, and a resume whose times go back.
    private func varied(steps: Int) throws -> [RunRecord] {
        var g = SeededRandom(seed: 9)
        var records = [Events.header(strategy: .maxright, planned: steps), Events.started(strategy: .maxright)]
        var time = 0.0, strategy = StrategyName.maxright, lambda: Lambda = 0.5
        for n in 1...steps {
            time += 0.05 + 0.01 * g.nextUnitDouble()
            let both = strategy == .mix
            let dpo = both || g.next() % 2 == 0
            let nonFinite = n == steps / 2
            let sft = both || !dpo ? ObjectiveMetrics(loss: nonFinite ? .nan : 3 + g.nextUnitDouble(), tokens: 100 + n % 7) : nil
            let dpoMetrics = dpo ? ObjectiveMetrics(loss: 0.5 + g.nextUnitDouble() / 3, tokens: 200,
                                                    preference: PreferenceMetrics(chosenReward: 0.1, rejectedReward: 0, rewardAccuracy: 0.6, margin: 0.1)) : nil
            let objectives: [Objective] = both ? [.sft, .dpo] : [dpo ? .dpo : .sft]
            let event = StepEvent(step: n, epoch: n * 3 / steps, strategy: strategy, objectives: objectives, sft: sft, dpo: dpoMetrics,
                                  lambda: lambda, learningRate: 1e-3 * (1 - Double(n) / Double(steps * 2)), tokens: 300 + n % 11,
                                  tokensPerSecond: 3000 + 500 * g.nextUnitDouble(), stepSeconds: 0.05 + 0.01 * g.nextUnitDouble(),
                                  elapsedSeconds: time, updateApplied: !nonFinite, gradientNorm: g.nextUnitDouble(),
                                  gaps: strategy == .maxright ? WeightedGaps(sft: g.nextUnitDouble(), dpo: g.nextUnitDouble()) : nil,
                                  gapsEvaluated: strategy == .maxright ? n % 10 == 1 : nil)
            records.append(RunRecord(time: time, event: .step(event)))
            if n % 50 == 0 {
                time += 0.01
                records.append(RunRecord(time: time, event: .eval(EvalEvent(step: n, sft: ObjectiveMetrics(loss: 3.5, tokens: 900),
                                                                              dpo: ObjectiveMetrics(loss: 0.6, tokens: 900), seconds: 0.01))))
            }
            if n == steps / 3 {
                time += 0.01
                records.append(RunRecord(time: time, event: .lambdaChanged(LambdaChanged(step: n, from: lambda, to: 0.8))))
                lambda = 0.8
                time += 0.01
                records.append(RunRecord(time: time, event: .strategyChanged(StrategyChanged(step: n, from: strategy, to: .mix))))
                strategy = .mix
            }
            if n == steps / 4 {
                time += 0.01
                records.append(RunRecord(time: time, event: .paused(PauseChange(step: n))))
                time += 1
                records.append(RunRecord(time: time, event: .resumed(PauseChange(step: n))))
            }
            if n == steps * 3 / 4 {
                // Killed and resumed from a checkpoint 20 steps back: the re-run steps start again from its time.
                time -= 20 * 0.055
                records.append(RunRecord(time: time, event: .started(SessionStarted(step: n - 20, strategy: strategy, lambda: lambda,
                                                                                    resumedFrom: "checkpoints/step-\(n - 20)"))))
            }
        }
        records.append(RunRecord(time: time + 0.01, event: .finished(RunFinished(step: steps, reason: .maxSteps, message: "done"))))
        return records
    }

    private func screen(_ controller: DashboardController) -> String {
        let surface = TextSurface(width: 200, height: 60)
        DashboardRenderer().draw(controller, on: surface, glyphs: .unicode, colors: true)
        return surface.text
    }

    func test_packedSteps_drawTheSameScreenAsTheLiveDashboard_atAnyMoment() throws {
        let records = try varied(steps: 1200)
        var timeline = ReplayTimeline(name: "run")
        guard case .header(let header) = records[0].event else { return XCTFail("header first") }
        timeline.setHeader(header)
        let body = Array(records.dropFirst())
        timeline.append(contentsOf: body)
        XCTAssertEqual(timeline.count, body.count)
        let player = ReplayPlayer(timelines: [timeline])
        for cut in [body.count, body.count * 9 / 10, body.count / 2, 37, 1] {
            let live = DashboardController(run: nil)
            live.setSystemUnsampled("not in the run log")   // as a replay's controller: no machine is sampled
            live.apply(records[0])
            for record in body.prefix(cut) { live.apply(record) }
            player.seek(to: timeline.playTime(at: cut - 1))
            XCTAssertEqual(player.positions[0], cut)
            XCTAssertEqual(screen(player.controllers[0]), screen(live), "after \(cut) records")
            XCTAssertEqual(player.controllers[0].state.step, live.state.step)
            XCTAssertEqual(player.controllers[0].state.tokensSeen, live.state.tokensSeen)
            XCTAssertEqual(player.controllers[0].state.stepsTaken, live.state.stepsTaken)
        }
        // Steps come back with their logged time and every field the dashboard reads.
        for position in [0, 5, body.count / 2, body.count - 2] {
            let original = body[position], stored = timeline.record(at: position)
            XCTAssertEqual(stored.time, original.time, accuracy: 1e-12)
            if case .step(let a) = original.event, case .step(let b) = stored.event {
                XCTAssertEqual([a.step, a.epoch, a.tokens], [b.step, b.epoch, b.tokens])
                XCTAssertEqual(a.objectives, b.objectives)
                XCTAssertEqual(a.strategy, b.strategy)
                XCTAssertEqual(a.updateApplied, b.updateApplied)
                XCTAssertEqual(a.lambda, b.lambda)
                XCTAssertEqual(a.elapsedSeconds, b.elapsedSeconds)
                XCTAssertEqual(a.sft?.loss.bitPattern, b.sft?.loss.bitPattern, "losses are kept exactly")
                XCTAssertEqual(a.dpo?.loss.bitPattern, b.dpo?.loss.bitPattern)
                XCTAssertEqual(a.gaps?.sft ?? 0, b.gaps?.sft ?? 0, accuracy: 1e-6)
                XCTAssertEqual(a.gapsEvaluated, b.gapsEvaluated)
                XCTAssertEqual(a.learningRate, b.learningRate, accuracy: 1e-9)
            } else {
                XCTAssertEqual(stored, original)
            }
        }
    }

    private func writeLog(_ records: [RunRecord], extraLines: [(after: Int, text: String)] = [], torn: String? = nil) throws -> URL {
        let encoder = RunLogCoding.makeEncoder()
        var text = ""
        for (i, record) in records.enumerated() {
            text += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n"
            for extra in extraLines where extra.after == i { text += extra.text + "\n" }
        }
        if let torn { text += torn }
        let url = directory.appendingPathComponent("run.jsonl")
        try Data(text.utf8).write(to: url)
        return url
    }

    func test_loader_fillsThePlayer_countsWhatItSkipped_andStopsPausedAtTheEnd() throws {
        let records = try varied(steps: 20_000)
        let url = try writeLog(records, extraLines: [(after: 100, text: "{not json"), (after: 200, text: "{\"type\":\"from-the-future\",\"time\":1}")],
                               torn: "{\"type\":\"step\",\"ti")
        let (timelines, loader) = try ReplayLogLoader.open([url.path])
        XCTAssertEqual(timelines[0].header?.config.strategy, .maxright)
        let player = ReplayPlayer(timelines: timelines, loading: true)
        XCTAssertTrue(player.transport.live, "while reading, the view follows the records as they arrive")
        player.loadingStatus = loader.status
        XCTAssertNotNil(player.loadingStatus)
        XCTAssertTrue(player.isLoading)
        try loader.waitUntilRead(into: player)
        XCTAssertTrue(loader.isFinished)
        XCTAssertNil(loader.status)
        XCTAssertNil(player.loadingStatus)
        XCTAssertFalse(player.isLoading)
        XCTAssertEqual(player.timelines[0].count, records.count - 1)
        XCTAssertEqual(player.timelines[0].problems.corruptCount, 1)
        XCTAssertEqual(player.timelines[0].problems.corruptLines, [102], "after record 100, which is on line 101 (the header is line 1)")
        XCTAssertEqual(player.timelines[0].problems.skippedUnknown, 1)
        XCTAssertTrue(player.timelines[0].problems.tornLastLine)
        XCTAssertFalse(player.transport.live)
        XCTAssertFalse(player.transport.playing)
        XCTAssertTrue(player.atEnd)
        XCTAssertEqual(player.controllers[0].state.step, 20_000)
        XCTAssertTrue(player.controllers[0].state.messages.contains { $0.text.contains("1 corrupt line skipped") })
    }

    func test_loader_leavesTheViewWhereTheUserMovedIt() throws {
        let url = try writeLog(try varied(steps: 20_000))
        let (timelines, loader) = try ReplayLogLoader.open([url.path])
        let player = ReplayPlayer(timelines: timelines, loading: true)
        player.loadingStatus = loader.status
        try loader.poll(into: player)
        player.handle(.char("0"))
        try loader.waitUntilRead(into: player)
        XCTAssertEqual(player.controllers[0].state.step, 0, "seeking to the start while reading stays at the start")
        player.handle(.char("$"))
        XCTAssertEqual(player.controllers[0].state.step, 20_000)
        XCTAssertFalse(player.transport.live, "a finished log is not live")
    }

    func test_loader_unreadableLog_isAnErrorNamingTheFile() throws {
        let missing = directory.appendingPathComponent("gone.jsonl")
        let player = ReplayPlayer(timelines: [ReplayTimeline(name: "gone")], loading: true)
        let loader = ReplayLogLoader(logs: [missing])
        XCTAssertThrowsError(try loader.waitUntilRead(into: player)) { error in
            XCTAssertTrue("\(error)".contains("gone.jsonl"), "\(error)")
        }
    }

    func test_headerOf_refusesWhatIsNotARunLog_beforeTheScreenIsTaken() throws {
        let empty = directory.appendingPathComponent("empty.jsonl")
        try Data().write(to: empty)
        XCTAssertThrowsError(try RunLogReader.header(of: empty)) { XCTAssertTrue("\($0)".contains("empty"), "\($0)") }
        let notALog = directory.appendingPathComponent("data.jsonl")
        try Data("{\"instruction\":\"hi\",\"output\":\"there\"}\n".utf8).write(to: notALog)
        XCTAssertThrowsError(try RunLogReader.header(of: notALog)) { XCTAssertTrue("\($0)".contains("data.jsonl"), "\($0)") }
        let future = directory.appendingPathComponent("future.jsonl")
        var header = ReplayLogs.line(Events.header())
        header = header.replacingOccurrences(of: "\"schema\":\"\(RunLogSchema.current)\"", with: "\"schema\":\"9.0\"")
        try Data((header + "\n").utf8).write(to: future)
        XCTAssertThrowsError(try RunLogReader.header(of: future)) { XCTAssertTrue("\($0)".contains("9.0"), "\($0)") }
    }
}
