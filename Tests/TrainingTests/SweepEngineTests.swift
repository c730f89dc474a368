import Engine
import Foundation
import TestSupport
import Training
import XCTest

/// The sweep on the real engine: a run's summary matches its log, the final step and a sequential run's phase end
/// are evaluated, optima round-trip through optima.json, and the table relates each run to sequential training.
final class SweepEngineTests: XCTestCase {
    override func setUp() { EngineThreads.configure(1) }

    private func tinyOptions(_ strategy: StrategyName, lambda: Double = 0.5, maxSteps: Int? = 7,
                             epochs: Int = 1) throws -> RunOptions {
        // 20% held out, so both held-out sets have records (a run without them is not evaluated).
        RunOptions(modelPreset: "tiny", demoExamples: 60, evalFraction: 0.2, batchSize: 4,
                   training: TrainingConfig(strategy: strategy, lambda: try Lambda(lambda), seed: 1, maxEpochs: epochs,
                                            maxSteps: maxSteps, evalEvery: 3))
    }

    private func scratch() throws -> URL {
        let url = try TestPaths.temporaryDirectory("xright-sweep")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func test_strategyRun_evaluatesTheFinalStepThroughTheSessionLog() throws {
        let dir = RunDirectory(try scratch().appendingPathComponent("run"))
        let summary = try StrategyRunner.run(try tinyOptions(.alright), in: dir, programVersion: "test")
        XCTAssertEqual(summary.steps, 7)
        XCTAssertEqual(summary.evaluations.map(\.step), [1, 3, 6, 7], "every 3 steps, at step 1, and the last step")
        XCTAssertEqual(summary.sftSteps + summary.dpoSteps, 7, "alright trains one objective per step")
        XCTAssertGreaterThan(summary.trainSeconds, 0)
        XCTAssertGreaterThan(summary.trainCPUSeconds, 0)
        XCTAssertNil(summary.idealDistance, "no optima given")

        let log = try RunLogReader.read(dir.log)
        let logged = log.records.compactMap { r -> EvalEvent? in if case .eval(let e) = r.event { return e } else { return nil } }
        XCTAssertEqual(logged.map(\.step), [1, 3, 6, 7])
        XCTAssertEqual(logged.last?.sft?.loss, summary.finalSFTLoss)
        XCTAssertEqual(logged.last?.dpo?.loss, summary.finalDPOLoss)
    }

    func test_strategyRun_evaluatesSequentialRunAtItsPhaseEnd() throws {
        // T = 2 at λ = 0.5: one SFT epoch (about 12 steps of 4 of the ~48 training records), then one DPO epoch.
        let options = try tinyOptions(.sftThenDPO, maxSteps: nil, epochs: 2)
        let dir = RunDirectory(try scratch().appendingPathComponent("run"))
        let summary = try StrategyRunner.run(options, in: dir, programVersion: "test")
        let end = try XCTUnwrap(summary.phaseEndStep)
        XCTAssertEqual(summary.sftSteps, end, "the SFT phase ends where the summary says")
        XCTAssertEqual(summary.evaluation(atOrBefore: end)?.step, end, "evaluated exactly at the phase end")
        XCTAssertEqual(summary.evaluations.last?.step, summary.steps)
    }

    func test_strategyRun_reportsIdealDistanceFromTheGivenOptima() throws {
        var options = try tinyOptions(.mix)
        options.training.optima = Optima(sft: 1, dpo: 0.5)
        let summary = try StrategyRunner.run(options, in: RunDirectory(try scratch().appendingPathComponent("run")),
                                             programVersion: "test")
        let sft = try XCTUnwrap(summary.finalSFTLoss), dpo = try XCTUnwrap(summary.finalDPOLoss)
        XCTAssertEqual(try XCTUnwrap(summary.idealDistance), ((sft - 1) * (sft - 1) + (dpo - 0.5) * (dpo - 0.5)).squareRoot(),
                       accuracy: 1e-12)
        XCTAssertEqual(summary.sftSteps, 7, "mix trains both objectives every step")
        XCTAssertEqual(summary.dpoSteps, 7)
    }

    func test_optimum_takesFinalHeldOutLossesOfSingleObjectiveRuns() throws {
        let root = try scratch()
        var made = 0
        let runner = SweepRunner(base: try tinyOptions(.alright), programVersion: "test") { label in
            made += 1
            return RunDirectory(root.appendingPathComponent("\(made)-\(label)"))
        }
        let (record, sft, dpo) = try runner.optimum()
        XCTAssertEqual(sft.strategy, .sftOnly)
        XCTAssertEqual(dpo.strategy, .dpoOnly)
        XCTAssertEqual(record.sftOpt, sft.finalSFTLoss)
        XCTAssertEqual(record.dpoOpt, dpo.finalDPOLoss)
        XCTAssertEqual(sft.dpoSteps, 0)
        XCTAssertEqual(dpo.sftSteps, 0)

        let file = OptimaRecord.defaultFile(runsRoot: root)
        try record.write(to: file)
        XCTAssertEqual(try OptimaRecord.read(file), record)
        XCTAssertNil(record.source.firstDifference(from: OptimaSource(try tinyOptions(.mix))), "strategy does not matter")
        var other = try tinyOptions(.alright)
        other.demoExamples = 61
        XCTAssertEqual(record.source.firstDifference(from: OptimaSource(other)), "demo-examples: 60 vs 61")
    }

    func test_optimaFile_reportsMissingFieldWrongTypeAndAbsentFile() throws {
        let root = try scratch()
        let file = root.appendingPathComponent("optima.json")
        try Data("{\"dpo_opt\": 1}".utf8).write(to: file)
        XCTAssertThrowsError(try OptimaRecord.read(file)) { error in
            XCTAssertTrue("\(error)".contains(file.path), "\(error)")
            XCTAssertTrue("\(error)".contains("field 'sft_opt' missing"), "\(error)")
        }
        XCTAssertThrowsError(try OptimaRecord.read(root.appendingPathComponent("absent.json"))) { error in
            XCTAssertTrue("\(error)".contains("absent.json: cannot read"), "\(error)")
        }
        try Data("{\"sft_opt\": \"low\", \"dpo_opt\": 1}".utf8).write(to: file)
        XCTAssertThrowsError(try OptimaRecord.read(file)) { error in
            XCTAssertTrue("\(error)".contains("not an optima file written by xright optimum"), "\(error)")
        }
    }

    private func summary(_ strategy: StrategyName, cpu: Double, sft: Double, dpo: Double, distance: Double,
                         evaluations: [EvalPoint] = [], phaseEnd: Int? = nil) -> StrategyRunSummary {
        StrategyRunSummary(strategy: strategy, lambda: 0.5, runDirectory: "/runs/\(strategy)", steps: 10,
                           finishReason: .maxSteps, trainSeconds: cpu * 1.5, trainCPUSeconds: cpu, wallSeconds: cpu * 2,
                           sftSteps: 5, dpoSteps: 5,
                           evaluations: evaluations + [EvalPoint(step: 10, sftLoss: sft, dpoLoss: dpo)],
                           idealDistance: distance, phaseEndStep: phaseEnd)
    }

    func test_sweepTable_relatesEachRunToSequentialAtTheSameLambda() throws {
        var other = summary(.alright, cpu: 3, sft: 1, dpo: 2, distance: 0.5)
        other.lambda = 0.25
        let rows = SweepTable.rows([summary(.alright, cpu: 2, sft: 1, dpo: 2, distance: 0.5),
                                    summary(.sftThenDPO, cpu: 4, sft: 1, dpo: 2, distance: 0.5), other])
        XCTAssertEqual(rows.map(\.timeVsSequential), [0.5, 1, nil])
        let csv = SweepTable.csv(rows).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(csv.count, 5, "header, three rows, final newline")
        XCTAssertEqual(csv[1], "alright,0.50,10,1.0000,2.0000,0.5000,3.00,2.00,4.00,0.500,/runs/alright")
        XCTAssertEqual(csv[3].split(separator: ",", omittingEmptySubsequences: false)[9], "", "no sequential run at λ 0.25")
        let text = SweepTable.text(rows, optima: Optima(sft: 0.5, dpo: 0.25))
        XCTAssertTrue(text.hasPrefix("optima: f_sft* = 0.5000, f_dpo* = 0.2500"), text)
    }

    func test_sweepTable_quotesFieldsWithCommas() {
        var s = summary(.mix, cpu: 1, sft: 1, dpo: 1, distance: 1)
        s.runDirectory = "/runs/a,\"b\""
        XCTAssertTrue(SweepTable.csv(SweepTable.rows([s])).contains(",\"/runs/a,\"\"b\"\"\"\n"))
    }

    func test_benchmarkReport_findsForgettingAndComparesWithBothSequentialOrders() {
        let sequential = summary(.sftThenDPO, cpu: 10, sft: 3, dpo: 0.5, distance: 2.5,
                                 evaluations: [EvalPoint(step: 4, sftLoss: 0.9, dpoLoss: 1), EvalPoint(step: 5, sftLoss: 0.8, dpoLoss: 1)],
                                 phaseEnd: 5)
        let runs = [summary(.alright, cpu: 10.4, sft: 1, dpo: 1, distance: 0.6),
                    summary(.maxright, cpu: 11.2, sft: 1, dpo: 1, distance: 0.4),
                    summary(.mix, cpu: 19, sft: 1, dpo: 1, distance: 0.3),
                    sequential,
                    summary(.dpoThenSFT, cpu: 10, sft: 1, dpo: 1.2, distance: 0.7)]
        let r = StrategyBenchmark.report(optima: Optima(sft: 0.5, dpo: 0.2), runs: runs, settings: [:])
        XCTAssertEqual(r.entries.map(\.timeGoalMet), [true, false, true, nil, nil], "1.04 ≤ 1.05, 1.12 > 1.10, 1.9 ≈ 2")
        XCTAssertEqual(r.forgetting, .init(phaseEndStep: 5, sftLossAtPhaseEnd: 0.8, finalStep: 10, finalSFTLoss: 3, forgets: true))
        XCTAssertEqual(r.closerThanSequential, ["alright": true, "maxright": true])

        var worse = runs
        worse[0].idealDistance = 0.7   // ties dpo-then-sft: not closer
        XCTAssertEqual(StrategyBenchmark.report(optima: r.optima, runs: worse, settings: [:]).closerThanSequential["alright"], false)
        XCTAssertTrue(StrategyBenchmark.text(r).contains("rises (forgets)"))
    }

    func test_parsing_acceptsSpacesAndCommasAndRejectsBadValues() throws {
        XCTAssertEqual(try SweepRunner.parseLambdas(["0.01,0.5", "1"]), [0.01, 0.5, 1])
        XCTAssertEqual(try SweepRunner.parseStrategies(["alright", "sft-then-dpo,mix"]), [.alright, .sftThenDPO, .mix])
        XCTAssertThrowsError(try SweepRunner.parseLambdas(["0.5", "nan"]))
        XCTAssertThrowsError(try SweepRunner.parseLambdas(["1.5"]))
        XCTAssertThrowsError(try SweepRunner.parseLambdas([]))
        XCTAssertThrowsError(try SweepRunner.parseStrategies(["alright", "best"])) { error in
            XCTAssertTrue("\(error)".contains("unknown strategy 'best'"))
        }
    }
}
