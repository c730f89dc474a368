import Engine
import Foundation
import Text
import Training
import XCTest

/// The pieces of `xright eval` and `compare-answers` that need no model files: the multiple-choice file format
/// and its errors, the harness's prompt and token conventions, accuracy and win-rate statistics.
final class MultipleChoiceFileTests: XCTestCase {
    func test_readsIndexAndLetterAnswers_skipsBlankLines_keepsLineNumbers() throws {
        let text = """
            {"question": "Q1", "choices": ["a", "b", "c"], "answer": 2, "subject": "x"}

            {"question": "Q2", "choices": ["a", "b"], "answer": "b"}
            """
        let questions = try MultipleChoiceFile.parse(text, file: "mc.jsonl")
        XCTAssertEqual(questions.map(\.answer), [2, 1])
        XCTAssertEqual(questions.map(\.line), [1, 3])
        XCTAssertEqual(questions[0].choices, ["a", "b", "c"])
    }

    /// Every bad line is named by file:line and the field, with what was expected.
    func test_badLines_nameFileLineAndField() {
        let cases: [(String, String, [String])] = [
            ("not json", "mc.jsonl:1", ["not valid JSON"]),
            ("[1, 2]", "mc.jsonl:1", ["expected a JSON object", "an array"]),
            (#"{"choices": ["a", "b"], "answer": 0}"#, #"mc.jsonl:1: field "question""#, ["missing"]),
            (#"{"question": "", "choices": ["a", "b"], "answer": 0}"#, #"field "question""#, ["an empty string"]),
            (#"{"question": 3, "choices": ["a", "b"], "answer": 0}"#, #"field "question""#, ["a number"]),
            (#"{"question": "q", "answer": 0}"#, #"field "choices""#, ["missing"]),
            (#"{"question": "q", "choices": "a b", "answer": 0}"#, #"field "choices""#, ["a string"]),
            (#"{"question": "q", "choices": ["a"], "answer": 0}"#, #"field "choices""#, ["at least 2", "found 1"]),
            (#"{"question": "q", "choices": ["a", 5], "answer": 0}"#, #"field "choices[1]""#, ["a number"]),
            (#"{"question": "q", "choices": ["a", ""], "answer": 0}"#, #"field "choices[1]""#, ["an empty string"]),
            (#"{"question": "q", "choices": ["a", "b"]}"#, #"field "answer""#, ["missing", "0…1"]),
            (#"{"question": "q", "choices": ["a", "b"], "answer": 2}"#, #"field "answer""#, ["out of range", "0…1"]),
            (#"{"question": "q", "choices": ["a", "b"], "answer": -1}"#, #"field "answer""#, ["out of range"]),
            (#"{"question": "q", "choices": ["a", "b"], "answer": "C"}"#, #"field "answer""#, ["A, B"]),
            (#"{"question": "q", "choices": ["a", "b"], "answer": 1.5}"#, #"field "answer""#, ["a number"]),
            (#"{"question": "q", "choices": ["a", "b"], "answer": null}"#, #"field "answer""#, ["null"]),
        ]
        for (line, place, words) in cases {
            let text = #"{"question": "ok", "choices": ["x", "y"], "answer": 0}"# + "\n" + line + "\n"
            XCTAssertThrowsError(try MultipleChoiceFile.parse(text, file: "mc.jsonl"), line) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(place.replacingOccurrences(of: ":1", with: ":2")), "\(line) → \(message)")
                for word in words { XCTAssertTrue(message.contains(word), "\(line) → \(message) lacks \(word)") }
            }
        }
    }

    func test_emptyFileAndMissingFile_areRefused() throws {
        XCTAssertThrowsError(try MultipleChoiceFile.parse("\n \n", file: "empty.jsonl")) {
            XCTAssertTrue("\($0)".contains("empty.jsonl") && "\($0)".contains("no questions"), "\($0)")
        }
        XCTAssertThrowsError(try MultipleChoiceFile.read("/nonexistent/mc.jsonl")) {
            XCTAssertTrue("\($0)".contains("/nonexistent/mc.jsonl: no such file"), "\($0)")
        }
    }
}

final class MultipleChoicePromptTests: XCTestCase {
    func evaluator(shots: [MultipleChoiceQuestion] = []) -> MultipleChoiceEvaluator {
        let model = ModelPreset.tiny.makeModel(vocabSize: ByteTokenizer().vocabularySize)
        return MultipleChoiceEvaluator(model: model, tokenizer: ByteTokenizer(), shots: shots)
    }

    func test_context_isHarnessStyle_withShotsSeparatedByABlankLine() {
        let shot = MultipleChoiceQuestion(question: "1+1?", choices: ["2", "3"], answer: 0)
        let q = MultipleChoiceQuestion(question: "2+2?", choices: ["4", "5"], answer: 0)
        XCTAssertEqual(evaluator().context(for: q), "Question: 2+2?\nAnswer:")
        XCTAssertEqual(evaluator(shots: [shot, shot]).context(for: q),
                       "Question: 1+1?\nAnswer: 2\n\nQuestion: 1+1?\nAnswer: 2\n\nQuestion: 2+2?\nAnswer:")
    }

    func test_encodePair_movesTrailingWhitespaceToTheContinuation() {
        let e = evaluator()
        let (head, tail) = e.encodePair(context: "Answer: ", continuation: "yes")
        XCTAssertEqual(ByteTokenizer().decode(head), "Answer:")
        XCTAssertEqual(ByteTokenizer().decode(tail), " yes")
    }

    /// A choice's log-likelihood is its continuation's alone: a longer shared context changes it, and acc_norm
    /// divides by characters (so "é" counts one).
    func test_score_sumsContinuationTokens_andNormalizesByCharacters() throws {
        let model = ModelPreset.tiny.makeModel(vocabSize: ByteTokenizer().vocabularySize)
        model.initializeRandomly(seed: 3, std: 0.3)
        let e = MultipleChoiceEvaluator(model: model, tokenizer: ByteTokenizer())
        let q = MultipleChoiceQuestion(question: "Pick", choices: ["é", "ee", "e"], answer: 0)
        let r = try e.score(q)
        XCTAssertEqual(r.logLikelihoods.count, 3)
        XCTAssertTrue(r.logLikelihoods.allSatisfy { $0 < 0 && $0.isFinite })
        let normalized = zip(r.logLikelihoods, [1.0, 2.0, 1.0]).map { $0 / $1 }
        XCTAssertEqual(r.normalizedPrediction, normalized.firstIndex(of: normalized.max()!))
        XCTAssertEqual(r.prediction, r.logLikelihoods.firstIndex(of: r.logLikelihoods.max()!))
    }

    func test_summary_accuracyAndStandardError() {
        let q = MultipleChoiceQuestion(question: "q", choices: ["a", "b"], answer: 0)
        func result(_ p: Int, _ n: Int) -> MultipleChoiceResult {
            MultipleChoiceResult(question: q, logLikelihoods: [0, 0], prediction: p, normalizedPrediction: n, contextTokens: 1)
        }
        let s = MultipleChoiceSummary([result(0, 1), result(0, 0), result(1, 1), result(0, 1)])
        XCTAssertEqual(s.questions, 4)
        XCTAssertEqual(s.accuracy, 0.75)
        XCTAssertEqual(s.normalizedAccuracy, 0.25)
        // sample std / √n of [1,1,0,1]: √(0.75·0.25/3)
        XCTAssertEqual(s.accuracyStderr, (0.75 * 0.25 / 3).squareRoot(), accuracy: 1e-12)
    }
}

final class WinRateTests: XCTestCase {
    func test_tally_strictWinsAndEqualScoresAsTies() {
        let w = WinRate(scoresA: [1, 2, 3, 0.5], scoresB: [0, 2, 4, 0.25])
        XCTAssertEqual(w, WinRate(wins: 2, losses: 1, ties: 1))
        XCTAssertEqual(w.rate, 2.5 / 4)
    }

    /// Wilson 95% intervals against the closed form evaluated in Python (z = 1.959963984540054):
    /// 5/10 → (0.236593, 0.763407); 10/10 → (0.722467, 1).
    func test_wilsonInterval_knownValues() {
        let half = WinRate(wins: 5, losses: 5, ties: 0).interval95
        XCTAssertEqual(half.low, 0.23659309, accuracy: 1e-7)
        XCTAssertEqual(half.high, 0.76340691, accuracy: 1e-7)
        let all = WinRate(wins: 10, losses: 0, ties: 0).interval95
        XCTAssertEqual(all.low, 0.72246720, accuracy: 1e-7)
        XCTAssertEqual(all.high, 1, accuracy: 1e-12)
        let none = WinRate(wins: 0, losses: 0, ties: 0)
        XCTAssertEqual(none.rate, 0)
        XCTAssertEqual(none.interval95.low, 0)
        XCTAssertEqual(none.interval95.high, 1)
    }
}
