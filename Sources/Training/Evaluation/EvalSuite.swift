import Engine
import Foundation
import Text

/// `train --eval-suite FILE [--eval-shots K]`: a multiple-choice file scored at every held-out evaluation
/// (docs/EVAL.md, "During training"). Recorded in the run header with the other run options.
public struct EvalSuiteOptions: Codable, Equatable, Sendable {
    /// JSONL of {question, choices, answer} (MultipleChoiceFile).
    public var file: String
    /// Solved examples before each question: the file's first `shots` questions, which are then not scored.
    public var shots: Int

    public init(file: String, shots: Int = 0) {
        self.file = file
        self.shots = shots
    }

    /// The questions to score and the k-shot examples, read and checked: a bad line names file:line and the
    /// field; too few questions for the shots says so.
    public func read() throws -> (questions: [MultipleChoiceQuestion], shots: [MultipleChoiceQuestion]) {
        guard shots >= 0 else { throw EvaluationInputError(file: file, "--eval-shots must be ≥ 0, got \(shots)") }
        let all = try MultipleChoiceFile.read(file)
        guard all.count > shots else {
            throw EvaluationInputError(file: file, "\(all.count) question\(all.count == 1 ? "" : "s"); --eval-shots \(shots) "
                + "takes the first \(shots) as examples and leaves none to score")
        }
        return (Array(all.dropFirst(shots)), Array(all.prefix(shots)))
    }
}

/// The `multipleChoice` figures of an `eval` event (docs/RUNLOG.md, schema 1.3): accuracy by log-likelihood on
/// the run's suite with the weights at that step, as `xright eval --mc` computes it, plus the mean
/// log-likelihood of the right answers (a smooth figure: accuracy on a small suite moves in jumps).
public struct MultipleChoiceFigures: Codable, Equatable, Sendable {
    public var questions: Int
    public var shots: Int
    public var acc: Double
    public var accStderr: Double
    public var accNorm: Double
    public var accNormStderr: Double
    /// Mean over questions of log p(" right choice" | context).
    public var answerLogLikelihood: Double

    public init(questions: Int, shots: Int, acc: Double, accStderr: Double, accNorm: Double, accNormStderr: Double,
                answerLogLikelihood: Double) {
        self.questions = questions
        self.shots = shots
        self.acc = acc
        self.accStderr = accStderr
        self.accNorm = accNorm
        self.accNormStderr = accNormStderr
        self.answerLogLikelihood = answerLogLikelihood
    }

    public init(_ results: [MultipleChoiceResult], shots: Int) {
        let summary = MultipleChoiceSummary(results)
        let answers = results.map { $0.logLikelihoods[$0.question.answer] }
        self.init(questions: summary.questions, shots: shots, acc: summary.accuracy, accStderr: summary.accuracyStderr,
                  accNorm: summary.normalizedAccuracy, accNormStderr: summary.normalizedAccuracyStderr,
                  answerLogLikelihood: answers.isEmpty ? 0 : answers.reduce(0, +) / Double(answers.count))
    }
}

/// Scores the run's suite with the weights as they are now; the session calls it at each held-out evaluation.
/// Calls come from the training thread only.
public protocol SuiteEvaluator: AnyObject {
    var questionCount: Int { get }
    /// `progress(done)` after each question.
    func evaluate(progress: (Int) -> Void) throws -> MultipleChoiceFigures
}

/// The engine's suite evaluator: `MultipleChoiceEvaluator` over the training model (LoRA adapters included).
public final class EngineSuiteEvaluator: SuiteEvaluator {
    let evaluator: MultipleChoiceEvaluator
    let questions: [MultipleChoiceQuestion]

    public init(model: any CausalLanguageModel, tokenizer: any Tokenizer, questions: [MultipleChoiceQuestion],
                shots: [MultipleChoiceQuestion], batchSize: Int) {
        var evaluator = MultipleChoiceEvaluator(model: model, tokenizer: tokenizer, shots: shots)
        evaluator.batchSize = max(1, batchSize)
        self.evaluator = evaluator
        self.questions = questions
    }

    public var questionCount: Int { questions.count }

    /// Checks every question against the model before the run starts (no forward pass): a choice that encodes to
    /// no tokens, one longer than the model's positions, or ids outside its vocabulary.
    public func check() throws {
        for q in questions { _ = try evaluator.sequences(for: q) }
    }

    public func evaluate(progress: (Int) -> Void) throws -> MultipleChoiceFigures {
        MultipleChoiceFigures(try evaluator.evaluate(questions, progress: progress), shots: evaluator.shots.count)
    }
}

/// Turns a run's `--eval-suite` on: reads and checks the file, and on resume refuses a file whose content
/// changed (the figures before and after would measure different things).
public enum EvalSuiteSetup {
    /// The run header key of the suite file's content fingerprint.
    public static let headerKey = "eval_suite_fingerprint"

    public static func evaluator(_ options: EvalSuiteOptions, model: any CausalLanguageModel, tokenizer: any Tokenizer,
                                 batchSize: Int) throws -> (evaluator: EngineSuiteEvaluator, fingerprint: String, note: String) {
        let (questions, shots) = try options.read()
        let fingerprint = try ContentFingerprint.of(file: URL(fileURLWithPath: options.file))
        let evaluator = EngineSuiteEvaluator(model: model, tokenizer: tokenizer, questions: questions, shots: shots,
                                             batchSize: batchSize)
        try evaluator.check()
        let note = "eval suite: \(questions.count) questions, \(options.shots)-shot, at each held-out evaluation (\(options.file))"
        return (evaluator, fingerprint, note)
    }

    /// A resumed run scores the same questions it started with.
    public static func checkResume(_ options: EvalSuiteOptions, fingerprint: String, recorded: String?, log: String) throws {
        guard let recorded, recorded != fingerprint else { return }
        throw SessionSetupError.invalid(what: options.file, message: "the eval suite changed since the run started "
            + "(content \(recorded) in \(log), now \(fingerprint)): its accuracies before and after would not be "
            + "comparable; restore the file, or start a new run with `xright train --like`")
    }
}
