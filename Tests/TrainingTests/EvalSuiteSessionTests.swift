import Foundation
import TestSupport
import Training
import XCTest

/// A suite whose figures count the evaluations that scored it, so a test can tell them apart.
private final class CountingSuite: SuiteEvaluator {
    private(set) var evaluations = 0
    var failOnEvaluation: Int?
    let questionCount = 4

    func evaluate(progress: (Int) -> Void) throws -> MultipleChoiceFigures {
        evaluations += 1
        if evaluations == failOnEvaluation { throw StandInError(description: "suite exploded") }
        for done in 1...questionCount { progress(done) }
        return MultipleChoiceFigures(questions: questionCount, shots: 0, acc: Double(evaluations) / 10, accStderr: 0,
                                     accNorm: Double(evaluations) / 20, accNormStderr: 0, answerLogLikelihood: -1)
    }
}

/// `--eval-suite` in the session: every held-out evaluation (scheduled or `evaluate-now`) carries the suite's
/// figures in its `eval` event, through the run log; a failing suite is a warning and the run goes on.
final class EvalSuiteSessionTests: XCTestCase {
    func test_everyEvaluation_carriesTheSuitesFigures_andTheRunLogKeepsThem() throws {
        let dir = RunDirectory(try TestPaths.temporaryDirectory("xright-suite"))
        defer { try? FileManager.default.removeItem(at: dir.url) }
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 4, evalEvery: 2),
                                 runDirectory: dir)
        let suite = CountingSuite()
        try run.session.enableEvalSuite(suite)
        run.session.send(.evaluateNow)
        try run.run()

        XCTAssertEqual(run.evals.map(\.step), [0, 1, 2, 4], "evaluate-now before the first step, then step 1 and every 2nd")
        XCTAssertEqual(run.evals.map { $0.multipleChoice?.acc }, [0.1, 0.2, 0.3, 0.4], "scored once per evaluation, in order")
        XCTAssertEqual(suite.evaluations, 4)
        let logged = try RunLogReader.read(dir.log).records.compactMap { r -> EvalEvent? in
            if case .eval(let e) = r.event { return e } else { return nil }
        }
        XCTAssertEqual(logged, run.evals, "the figures round-trip through run.jsonl")
        let text = try String(contentsOf: dir.log, encoding: .utf8)
        XCTAssertTrue(text.contains(#""multipleChoice":{"acc":0.4,"accNorm":0.2,"accNormStderr":0,"accStderr":0,"answerLogLikelihood":-1,"questions":4,"shots":0}"#),
                      "the documented field names (docs/RUNLOG.md):\n\(text)")
    }

    func test_aFailingSuite_isAWarning_theEvaluationKeepsItsLosses_andTheNextOneScoresAgain() throws {
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 4, evalEvery: 2))
        let suite = CountingSuite()
        suite.failOnEvaluation = 2
        try run.session.enableEvalSuite(suite)
        try run.run()
        XCTAssertEqual(run.evals.map(\.step), [1, 2, 4])
        XCTAssertNotNil(run.evals[1].sft, "the held-out losses are still reported")
        XCTAssertNil(run.evals[1].multipleChoice)
        XCTAssertEqual(run.evals.map { $0.multipleChoice?.acc }, [0.1, nil, 0.3])
        let warning = try XCTUnwrap(run.warnings.first)
        XCTAssertEqual(warning.kind, .evaluationFailed)
        XCTAssertEqual(warning.step, 2)
        XCTAssertTrue(warning.message.contains("eval suite not scored: suite exploded"), warning.message)
    }

    func test_withoutASuite_evalEventsHaveNoFigures_andOldLinesStillDecode() throws {
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 2, evalEvery: 2))
        try run.run()
        XCTAssertFalse(run.evals.isEmpty)
        XCTAssertTrue(run.evals.allSatisfy { $0.multipleChoice == nil })
        // A 1.2 line (no multipleChoice) reads as before.
        let old = #"{"dpo":{"loss":8.4,"tokens":1000},"seconds":0.1,"sft":{"loss":12.8,"tokens":1000},"step":1,"time":0.5,"type":"eval"}"#
        let record = try RunLogCoding.makeDecoder().decode(RunRecord.self, from: Data(old.utf8))
        guard case .eval(let e) = record.event else { return XCTFail("not an eval event: \(record.event.type)") }
        XCTAssertNil(e.multipleChoice)
        XCTAssertEqual(e.sft?.loss, 12.8)
    }

    func test_enablingAfterStart_isRefused() throws {
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 1))
        try run.run()
        XCTAssertThrowsError(try run.session.enableEvalSuite(CountingSuite()))
    }
}
