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
    /// Scores a question's choices through one KV cache: the shared context is run once, then each continuation
    /// from there, instead of a full forward pass of context + continuation per choice (the same sums to float
    /// rounding: tested). Off, for a model without an incremental decoder, or when left-truncation leaves the
    /// choices different contexts, every choice is a full forward pass.
    public var sharesPrefix = true

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
        let encoded = try sequences(for: question)
        return score(question, encoded, decoder: prefixDecoder(for: [encoded.sequences]))
    }

    /// The decoder that shares a question's context across its choices (`sharesPrefix`), sized for the longest
    /// sequence; nil when sharing is off or the model has none.
    func prefixDecoder(for sequences: [[[Int]]]) -> (any IncrementalDecoder)? {
        guard sharesPrefix else { return nil }
        let longest = sequences.lazy.flatMap { $0 }.map(\.count).max() ?? 1
        return try? Decoders.make(for: model, capacity: max(1, longest))
    }

    func score(_ question: MultipleChoiceQuestion, _ encoded: (sequences: [[Int]], starts: [Int]),
               decoder: (any IncrementalDecoder)?) -> MultipleChoiceResult {
        let (sequences, starts) = encoded
        let sums = decoder.flatMap { SharedPrefixLogLikelihood.sums($0, sequences: sequences, starts: starts) }
            ?? ContinuationLogLikelihood.sums(model, sequences: sequences, scoredFrom: starts, batchSize: batchSize)
        let lengths = question.choices.map { Double($0.unicodeScalars.count) }
        return MultipleChoiceResult(question: question, logLikelihoods: sums, prediction: Self.argmax(sums),
                                    normalizedPrediction: Self.argmax(zip(sums, lengths).map { $0 / $1 }),
                                    contextTokens: starts.max() ?? 0)
    }

    /// Scores every question; `progress(done)` after each.
    public func evaluate(_ questions: [MultipleChoiceQuestion],
                         progress: (Int) -> Void = { _ in }) throws -> [MultipleChoiceResult] {
        // Tokenized (and checked) up front: one decoder serves every question, the weights being fixed meanwhile.
        let encoded = try questions.map { try sequences(for: $0) }
        let decoder = prefixDecoder(for: encoded.map(\.sequences))
        var results = [MultipleChoiceResult]()
        results.reserveCapacity(questions.count)
        for (q, e) in zip(questions, encoded) {
            results.append(score(q, e, decoder: decoder))
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

/// Σ log p of each continuation through a KV cache: the shared context is fed once, its last position's logits
/// score each continuation's first token, and each continuation (but its last token) is fed from the context's end,
/// the cache cut back to the context before the next. nil when the sequences do not share one context.
enum SharedPrefixLogLikelihood {
    static func sums(_ decoder: any IncrementalDecoder, sequences: [[Int]], starts: [Int]) -> [Double]? {
        guard let start = starts.first, start > 0, starts.allSatisfy({ $0 == start }),
              sequences.allSatisfy({ $0.count > start && $0.count <= decoder.cache.capacity }),
              sequences.dropFirst().allSatisfy({ $0[..<start] == sequences[0][..<start] }) else { return nil }
        let vocab = decoder.vocabSize
        decoder.cache.reset()
        let last = decoder.feed(Array(sequences[0][..<start]))
        return sequences.map { sequence in
            decoder.cache.truncate(to: start)
            var sum = logProbability(of: sequence[start], logits: last, row: 0, vocab: vocab)
            if sequence.count - start > 1 {
                let logits = decoder.feed(Array(sequence[start..<(sequence.count - 1)]), allPositions: true)
                for j in 1..<(sequence.count - start) {
                    sum += logProbability(of: sequence[start + j], logits: logits, row: j - 1, vocab: vocab)
                }
            }
            return sum
        }
    }

    /// log softmax(logits[row])[token], the normaliser summed in Double.
    static func logProbability(of token: Int, logits: [Float], row: Int, vocab: Int) -> Double {
        let base = row * vocab
        var peak = -Float.infinity
        for i in base..<(base + vocab) { peak = max(peak, logits[i]) }
        var total = 0.0
        for i in base..<(base + vocab) { total += Foundation.exp(Double(logits[i] - peak)) }
        return Double(logits[base + token] - peak) - Foundation.log(total)
    }
}
