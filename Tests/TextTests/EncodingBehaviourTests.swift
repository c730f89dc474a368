import Foundation
import TestSupport
import Text
import XCTest

/// Properties of encoding that the goldens do not pin down directly: thread safety, the word cache being
/// invisible, normalization, and the benchmark's bookkeeping.
final class EncodingBehaviourTests: XCTestCase {
    func test_concurrentEncoding_givesTheSameIdsAsSerialEncoding() throws {
        let tiny = try Tokenizers.tiny()
        let texts = (0..<64).map { "Text \($0): the quick brown fox jumps over \($0 * 7919) lazy dogs. émigré 日本" }
        let serial = texts.map(tiny.encode)
        let results = UnsafeMutableBufferPointer<[Int]>.allocate(capacity: texts.count)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: texts.count) { i in
            results[i] = tiny.encode(texts[i])
        }
        XCTAssertEqual(Array(results), serial)
    }

    /// Far more distinct words than the cache holds (it empties and refills twice): the first pass computes
    /// every word by BPE, the second takes the words inserted since the last refill from the cache.
    func test_wordCacheOverflow_doesNotChangeIds() throws {
        let tokenizer = try BPETokenizer(tokenizerJSON: TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json"))
        let text = (0..<40_000).map { "w\($0 * 7)q" }.joined(separator: " ")
        let first = tokenizer.encode(text)
        let second = tokenizer.encode(text)
        XCTAssertEqual(first, second)
        XCTAssertEqual(tokenizer.decode(second), text)
    }

    /// Pythia's normalizer is NFC: a decomposed "é" encodes as the composed one, and decodes composed.
    func test_pythia_normalizesToNFC_gpt2_doesNot() throws {
        let pythia = try Tokenizers.pythia()
        XCTAssertEqual(pythia.encode("Cafe\u{301}"), pythia.encode("Caf\u{e9}"))
        XCTAssertTrue(pythia.decode(pythia.encode("Cafe\u{301}")).utf8.elementsEqual("Caf\u{e9}".utf8))
        let gpt2 = try Tokenizers.gpt2()
        XCTAssertNotEqual(gpt2.encode("Cafe\u{301}"), gpt2.encode("Caf\u{e9}"))
        XCTAssertTrue(gpt2.decode(gpt2.encode("Cafe\u{301}")).utf8.elementsEqual("Cafe\u{301}".utf8))
    }

    func test_benchmark_countsBytesTokensAndPasses() {
        let texts = ["hello", "wörld", ""]
        let result = TokenizerBenchmark.measure(ByteTokenizer(), texts: texts, passes: 2)
        XCTAssertEqual(result.bytes, 11)
        XCTAssertEqual(result.tokens, 11)
        XCTAssertEqual(result.texts, 3)
        XCTAssertEqual(result.passSeconds.count, 2)
        XCTAssertGreaterThan(result.megabytesPerSecond, 0)
        XCTAssertGreaterThanOrEqual(result.megabytesPerSecond, result.firstPassMegabytesPerSecond)
    }

    func test_throughput_isBytesOverTheFastestPass() {
        let result = TokenizerThroughput(bytes: 4_000_000, texts: 1, tokens: 1, passSeconds: [2, 1, 4])
        XCTAssertEqual(result.megabytesPerSecond, 4, accuracy: 1e-12)
        XCTAssertEqual(result.firstPassMegabytesPerSecond, 2, accuracy: 1e-12)
    }
}
