import Engine
import Foundation
import TestSupport
import Text
import Training
import XCTest

/// Multiple-choice scoring through a KV cache (the question's context run once, each choice from its end) gives
/// the sums of a full forward pass per (question, choice): GPT-NeoX and Llama, 0- and 2-shot, and a context cut
/// from the left.
final class MultipleChoicePrefixTests: XCTestCase {
    private let suite = TestPaths.fixture("CLITests", "eval").appendingPathComponent("mc.jsonl")

    private func compare(_ model: any CausalLanguageModel, shots: Int, extra: [MultipleChoiceQuestion] = [],
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let all = try MultipleChoiceFile.read(suite.path)
        var shared = MultipleChoiceEvaluator(model: model, tokenizer: ByteTokenizer(), shots: Array(all.prefix(shots)))
        var full = shared
        full.sharesPrefix = false
        shared.sharesPrefix = true
        let questions = Array(all.dropFirst(shots)) + extra
        let a = try shared.evaluate(questions), b = try full.evaluate(questions)
        XCTAssertEqual(a.count, questions.count, file: file, line: line)
        // Two different computations (the cache path was taken, not the fallback), equal to rounding.
        XCTAssertNotEqual(a.map(\.logLikelihoods), b.map(\.logLikelihoods), "bit-identical: the shared path did not run",
                          file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.logLikelihoods.count, y.logLikelihoods.count, file: file, line: line)
            for (p, q) in zip(x.logLikelihoods, y.logLikelihoods) {
                XCTAssertEqual(p, q, accuracy: 1e-5 * max(1, abs(q)), "shared \(p), full forward \(q) (\(shots)-shot)",
                               file: file, line: line)
            }
            XCTAssertEqual(x.prediction, y.prediction, file: file, line: line)
            XCTAssertEqual(x.normalizedPrediction, y.normalizedPrediction, file: file, line: line)
            XCTAssertEqual(x.contextTokens, y.contextTokens, file: file, line: line)
        }
        XCTAssertEqual(try shared.score(questions[0]).logLikelihoods.count, questions[0].choices.count, file: file, line: line)
    }

    func test_sharedPrefix_equalsAFullForwardPerChoice_gptNeoX_zeroAndTwoShot_andACutContext() throws {
        let model = ModelPreset.tiny.makeModel(vocabSize: ByteTokenizer().vocabularySize)
        model.initializeRandomly(seed: 5, std: 0.3)
        // 256 positions: this question's context is cut from the left, by the same amount for equal-length choices.
        let long = MultipleChoiceQuestion(question: String(repeating: "why ", count: 80), choices: ["yes", "non"], answer: 0)
        try compare(model, shots: 0, extra: [long])
        try compare(model, shots: 2)
    }

    func test_sharedPrefix_equalsAFullForwardPerChoice_llama() throws {
        let config = LlamaConfig(vocabSize: ByteTokenizer().vocabularySize, hiddenSize: 16, numLayers: 2, numHeads: 4,
                                 numKVHeads: 2, headDim: 4, intermediateSize: 20, ropeTheta: 500, maxPositions: 512,
                                 rmsNormEps: 1e-5, tieWordEmbeddings: false)
        let model = Llama(config: config)
        model.initializeRandomly(seed: 7, std: 0.3)
        try compare(model, shots: 0)
        try compare(model, shots: 2)
    }
}
