import Foundation
import XCTest
import Engine
import TestSupport

/// Greedy generation gives transformers' `generate(do_sample=False)` ids (fixtures from
/// scripts/goldens/make_generate_goldens.py); sampling is reproducible with a seed and top-k 1 is greedy.
final class GenerationTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    static func goldens() throws -> [String: Any] {
        let url = TestPaths.fixture("EngineTests", "generate").appendingPathComponent("greedy.json")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    func generate(_ model: any CausalLanguageModel, prompt: [Int], new: Int, _ options: SamplingOptions,
                  endTokens: Set<Int> = []) throws -> GenerationResult {
        let decoder = try Decoders.make(for: model, capacity: prompt.count + new)
        var sampler = Sampler(options)
        return try Generator.run(decoder, prompt: prompt, maxNewTokens: new, sampler: &sampler, endTokens: endTokens)
    }

    func test_greedy_equalsTransformersGenerate_onRandomModels() throws {
        let goldens = try Self.goldens()
        let prompt = try XCTUnwrap(goldens["prompt"] as? [Int])
        let new = try XCTUnwrap(goldens["new_tokens"] as? Int)
        let random = try XCTUnwrap(goldens["random"] as? [String: [String: Any]])
        XCTAssertEqual(random.count, 6)
        for (name, golden) in random.sorted(by: { $0.key < $1.key }) {
            let model = try ModelDirectory.load(TestPaths.fixture("EngineTests", name))
            let result = try generate(model, prompt: prompt, new: new, .greedy)
            XCTAssertEqual(result.ids, golden["ids"] as? [Int], name)
            XCTAssertEqual(result.stopReason, .maxTokens, name)
            XCTAssertEqual(result.promptTokens, prompt.count)
        }
    }

    func test_greedy_equalsTransformersGenerate_onSmolLM2() throws {
        let url = try SmolLM2File.url()
        let golden = try XCTUnwrap(try Self.goldens()["smollm2"] as? [String: Any])
        let prompt = try XCTUnwrap(golden["prompt"] as? [Int]), expected = try XCTUnwrap(golden["ids"] as? [Int])
        let eos = try XCTUnwrap(golden["eos"] as? Int)
        let model = try ModelDirectory.load(url)
        let result = try generate(model, prompt: prompt, new: 32, .greedy, endTokens: [eos])
        // transformers keeps the end token in its output; the reply stops before it.
        XCTAssertEqual(result.ids + [eos], expected)
        XCTAssertEqual(result.stopReason, .endToken)
    }

    func test_sampling_isReproducibleWithASeed_andDependsOnIt() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("EngineTests", "llama-gqa4x2-llama3-tied"))
        let options = SamplingOptions(temperature: 1.5, topP: 0.95, seed: 11)
        let a = try generate(model, prompt: [3, 17, 5], new: 30, options)
        let b = try generate(model, prompt: [3, 17, 5], new: 30, options)
        XCTAssertEqual(a.ids, b.ids)
        var other = options
        other.seed = 12
        XCTAssertNotEqual(try generate(model, prompt: [3, 17, 5], new: 30, other).ids, a.ids)
    }

    func test_topK1_equalsGreedy() throws {
        for name in ["llama-gqa4x2-untied", "neox-rot100-sequential"] {
            let model = try ModelDirectory.load(TestPaths.fixture("EngineTests", name))
            let greedy = try generate(model, prompt: [3, 17, 5, 42], new: 20, .greedy)
            let topK = try generate(model, prompt: [3, 17, 5, 42], new: 20,
                                    SamplingOptions(temperature: 2, topK: 1, seed: 5))
            XCTAssertEqual(topK.ids, greedy.ids, name)
        }
    }

    func test_endToken_stopsAndIsNotPartOfTheReply() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("EngineTests", "llama-gqa4x2-llama3-tied"))
        let full = try generate(model, prompt: [3, 17, 5], new: 10, .greedy)
        let end = full.ids[4]
        let first = full.ids.firstIndex(of: end)!
        let stopped = try generate(model, prompt: [3, 17, 5], new: 10, .greedy, endTokens: [end])
        XCTAssertEqual(stopped.ids, Array(full.ids[..<first]))
        XCTAssertEqual(stopped.stopReason, .endToken)
    }

    func test_promptOutsideTheVocabulary_isAnError() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("EngineTests", "llama-gqa4x2-untied"))
        let V = model.config.vocabSize
        XCTAssertThrowsError(try generate(model, prompt: [1, V], new: 2, .greedy)) { error in
            XCTAssertEqual(error as? InferenceError, .tokenOutOfRange(id: V, vocab: V))
        }
    }
}

/// Each filter on hand-made distributions: probabilities 0.4, 0.3, 0.2, 0.1 for ids 2, 0, 3, 1.
final class SamplerTests: XCTestCase {
    let logits: [Float] = [0.3, 0.1, 0.4, 0.2].map { Float(Foundation.log(Double($0))) }

    func probabilities(_ o: SamplingOptions) -> [Int: Float] {
        Dictionary(uniqueKeysWithValues: Sampler.distribution(logits, o).map { ($0.id, $0.probability) })
    }

    func assertClose(_ got: [Int: Float], _ expected: [Int: Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(got.keys), Set(expected.keys), file: file, line: line)
        for (id, p) in expected { XCTAssertEqual(got[id] ?? -1, p, accuracy: 1e-6, "id \(id)", file: file, line: line) }
    }

    func test_temperature_sharpensOrFlattens() {
        assertClose(probabilities(SamplingOptions(temperature: 1)), [2: 0.4, 0: 0.3, 3: 0.2, 1: 0.1])
        // p^(1/T) renormalised: T = 0.5 squares the probabilities.
        assertClose(probabilities(SamplingOptions(temperature: 0.5)), [2: 0.16 / 0.3, 0: 0.09 / 0.3, 3: 0.04 / 0.3, 1: 0.01 / 0.3])
        XCTAssertEqual(Sampler.distribution(logits, SamplingOptions(temperature: 1)).map(\.id), [2, 0, 3, 1])
    }

    func test_topK_keepsTheKMostLikely() {
        assertClose(probabilities(SamplingOptions(temperature: 1, topK: 2)), [2: 0.4 / 0.7, 0: 0.3 / 0.7])
        assertClose(probabilities(SamplingOptions(temperature: 1, topK: 10)), [2: 0.4, 0: 0.3, 3: 0.2, 1: 0.1])
    }

    func test_topP_keepsTheSmallestHeadReachingP() {
        assertClose(probabilities(SamplingOptions(temperature: 1, topP: 0.6)), [2: 0.4 / 0.7, 0: 0.3 / 0.7])
        assertClose(probabilities(SamplingOptions(temperature: 1, topP: 0.3)), [2: 1])
        assertClose(probabilities(SamplingOptions(temperature: 1, topP: 1)), [2: 0.4, 0: 0.3, 3: 0.2, 1: 0.1])
    }

    func test_minP_dropsTokensBelowAFractionOfTheTop() {
        // threshold 0.6 · 0.4 = 0.24: 0.2 and 0.1 go.
        assertClose(probabilities(SamplingOptions(temperature: 1, minP: 0.6)), [2: 0.4 / 0.7, 0: 0.3 / 0.7])
        assertClose(probabilities(SamplingOptions(temperature: 1, minP: 0)), [2: 0.4, 0: 0.3, 3: 0.2, 1: 0.1])
    }

    func test_filtersApplyInOrder_temperatureTopKTopPMinP() {
        // T = 0.5 → 16/30, 9/30, 4/30, 1/30; top-k 3 → 16/29, 9/29, 4/29; top-p 0.5 → only id 2 (16/29 ≥ 0.5).
        assertClose(probabilities(SamplingOptions(temperature: 0.5, topK: 3, topP: 0.5)), [2: 1])
        // top-k 3 then min-p 0.3: threshold 0.3 · 16/29 ≈ 0.166 drops 4/29 ≈ 0.138.
        assertClose(probabilities(SamplingOptions(temperature: 0.5, topK: 3, minP: 0.3)), [2: 16 / 25, 0: 9 / 25])
    }

    func test_draws_followTheFilteredDistribution() {
        var sampler = Sampler(SamplingOptions(temperature: 1, topK: 2, seed: 1))
        var counts = [Int: Int]()
        for _ in 0..<20_000 { counts[sampler.next(logits), default: 0] += 1 }
        XCTAssertEqual(Set(counts.keys), [0, 2])
        XCTAssertEqual(Double(counts[2]!) / 20_000, 0.4 / 0.7, accuracy: 0.015)
    }

    func test_greedy_takesTheFirstLargest() {
        var sampler = Sampler(.greedy)
        XCTAssertEqual(sampler.next([0.5, 2, 2, 1]), 1)
    }

    func test_badValues_nameTheirFlag() {
        let cases: [(SamplingOptions, String)] = [
            (SamplingOptions(temperature: -1), "--temperature"), (SamplingOptions(temperature: .nan), "--temperature"),
            (SamplingOptions(temperature: 1, topK: 0), "--top-k"), (SamplingOptions(temperature: 1, topP: 0), "--top-p"),
            (SamplingOptions(temperature: 1, topP: 1.5), "--top-p"), (SamplingOptions(temperature: 1, minP: 1), "--min-p"),
            (SamplingOptions(temperature: 1, minP: -0.1), "--min-p"),
        ]
        for (options, flag) in cases {
            XCTAssertThrowsError(try options.validate()) { error in
                XCTAssertTrue("\(error)".hasPrefix(flag), "\(error)")
            }
        }
        XCTAssertNoThrow(try SamplingOptions(temperature: 0.7, topK: 40, topP: 0.9, minP: 0.05).validate())
    }
}
