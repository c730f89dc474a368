import Engine
import Foundation
import Text

/// One question's scores: log p(" choice" | context) per choice, and which choice wins raw and length-normalised.
public struct MultipleChoiceResult: Equatable, Sendable {
    public var question: MultipleChoiceQuestion
    public var logLikelihoods: [Double]
    /// argmax of the log-likelihoods (the first on a tie, as numpy's argmax).
    public var prediction: Int
    /// argmax of log-likelihood / the choice's length in characters (lm-evaluation-harness `acc_norm`).
    public var normalizedPrediction: Int
    public var contextTokens: Int

    public init(question: MultipleChoiceQuestion, logLikelihoods: [Double], prediction: Int, normalizedPrediction: Int,
                contextTokens: Int) {
        self.question = question
        self.logLikelihoods = logLikelihoods
        self.prediction = prediction
        self.normalizedPrediction = normalizedPrediction
        self.contextTokens = contextTokens
    }

    public var correct: Bool { prediction == question.answer }
    public var normalizedCorrect: Bool { normalizedPrediction == question.answer }
}

/// Accuracy over a set of questions, with the standard error of each mean (sample standard deviation / √n, as
/// lm-evaluation-harness reports `acc_stderr`).
public struct MultipleChoiceSummary: Equatable, Sendable {
    public var questions: Int
    public var accuracy: Double
    public var normalizedAccuracy: Double
    public var accuracyStderr: Double
    public var normalizedAccuracyStderr: Double

    public init(_ results: [MultipleChoiceResult]) {
        let n = results.count
        questions = n
        func mean(_ hits: Int) -> Double { n == 0 ? 0 : Double(hits) / Double(n) }
        func stderr(_ p: Double) -> Double { n > 1 ? (p * (1 - p) / Double(n - 1)).squareRoot() : 0 }
        accuracy = mean(results.filter(\.correct).count)
        normalizedAccuracy = mean(results.filter(\.normalizedCorrect).count)
        accuracyStderr = stderr(accuracy)
        normalizedAccuracyStderr = stderr(normalizedAccuracy)
    }
}

/// Multiple-choice accuracy by log-likelihood, in lm-evaluation-harness's convention (docs/EVAL.md): the context
/// is k solved examples and the question, each "Question: {question}\nAnswer:" (+ " {right choice}" for the
/// examples), joined by a blank line; every choice is scored as the continuation " {choice}". Tokens as the
/// harness makes them: tok(context + continuation), the continuation being what follows tok(context).
public struct MultipleChoiceEvaluator {
    public let model: any CausalLanguageModel
    public let tokenizer: any Tokenizer
    public let shots: [MultipleChoiceQuestion]
    /// Sequences per forward pass.
    public var batchSize = 16

    public init(model: any CausalLanguageModel, tokenizer: any Tokenizer, shots: [MultipleChoiceQuestion] = []) {
        self.model = model
        self.tokenizer = tokenizer
        self.shots = shots
    }

    public static func prompt(_ question: String) -> String { "Question: \(question)\nAnswer:" }

    public func context(for question: MultipleChoiceQuestion) -> String {
        let examples = shots.map { Self.prompt($0.question) + " " + $0.choices[$0.answer] }
        return (examples + [Self.prompt(question.question)]).joined(separator: "\n\n")
    }

    /// The harness's `_encode_pair`: trailing whitespace of the context moves to the continuation, then the
    /// continuation's tokens are those of the whole text after the context's own tokens.
    public func encodePair(context: String, continuation: String) -> (context: [Int], continuation: [Int]) {
        var context = context, continuation = continuation
        let trailing = context.reversed().prefix { $0.isWhitespace }.count
        if trailing > 0 {
            continuation = String(context.suffix(trailing)) + continuation
            context = String(context.dropLast(trailing))
        }
        let whole = tokenizer.encode(context + continuation)
        let head = tokenizer.encode(context)
        return (head, Array(whole[min(head.count, whole.count)...]))
    }

    /// One question's scored sequences (context + " choice" tokens) and where each continuation starts. Too long
    /// for the model's positions: the context is cut from the left. Throws for a choice that encodes to no
    /// tokens, is longer than the model holds, or tokenizes outside the model's vocabulary.
    public func sequences(for question: MultipleChoiceQuestion) throws -> (sequences: [[Int]], starts: [Int]) {
        let context = self.context(for: question)
        let limit = model.config.maxPositions
        var sequences = [[Int]](), starts = [Int]()
        for (i, choice) in question.choices.enumerated() {
            var (head, tail) = encodePair(context: context, continuation: " " + choice)
            guard !tail.isEmpty else {
                throw EvaluationInputError(file: question.file, line: question.line, field: "choices[\(i)]",
                                           "encodes to no tokens after the context")
            }
            guard tail.count < limit else {
                throw EvaluationInputError(file: question.file, line: question.line, field: "choices[\(i)]",
                                           "is \(tail.count) tokens; the model holds \(limit) positions with the context")
            }
            if head.count + tail.count > limit { head = Array(head.suffix(limit - tail.count)) }
            for id in head + tail where id >= model.config.vocabSize {
                throw EvaluationInputError(file: question.file, line: question.line,
                                           "token id \(id) is outside the model's vocabulary of \(model.config.vocabSize) (wrong tokenizer?)")
            }
            sequences.append(head + tail)
            starts.append(head.count)
        }
        return (sequences, starts)
    }

    /// Scores one question's choices.
    public func score(_ question: MultipleChoiceQuestion) throws -> MultipleChoiceResult {
        let (sequences, starts) = try self.sequences(for: question)
        let sums = ContinuationLogLikelihood.sums(model, sequences: sequences, scoredFrom: starts, batchSize: batchSize)
        let lengths = question.choices.map { Double($0.unicodeScalars.count) }
        return MultipleChoiceResult(question: question, logLikelihoods: sums, prediction: Self.argmax(sums),
                                    normalizedPrediction: Self.argmax(zip(sums, lengths).map { $0 / $1 }),
                                    contextTokens: starts.max() ?? 0)
    }

    /// Scores every question; `progress(done)` after each.
    public func evaluate(_ questions: [MultipleChoiceQuestion],
                         progress: (Int) -> Void = { _ in }) throws -> [MultipleChoiceResult] {
        var results = [MultipleChoiceResult]()
        results.reserveCapacity(questions.count)
        for q in questions {
            results.append(try score(q))
            progress(results.count)
        }
        return results
    }

    static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}

/// Σ log p of each sequence's tokens from `scoredFrom[b]` on, in forward passes of at most `batchSize` sequences.
enum ContinuationLogLikelihood {
    static func sums(_ model: any CausalLanguageModel, sequences: [[Int]], scoredFrom: [Int], batchSize: Int) -> [Double] {
        var out = [Double]()
        let size = max(1, batchSize)
        for start in stride(from: 0, to: sequences.count, by: size) {
            let end = min(sequences.count, start + size)
            let batch = TokenBatch(sequences: Array(sequences[start..<end]), scoredFrom: Array(scoredFrom[start..<end]))
            let lp = model.forward(batch)
            for (b, s) in batch.sequences.starts.enumerated() {
                var sum = 0.0
                for t in s..<(s + batch.sequences.lengths[b]) where batch.targets[t] >= 0 { sum += Double(lp[t]) }
                out.append(sum)
            }
        }
        return out
    }
}
