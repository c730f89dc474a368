import Foundation
import TestSupport
import Text
import XCTest

/// Every text of the shared corpus (28,835 texts, 10.8 MB) gives the ids Python `tokenizers` gives, and decodes
/// back to itself. Goldens: Fixtures/tokenizer_digests_*.bin and tokenizer_full_ids.txt, made by
/// scripts/goldens/tokenizer_goldens.py.
final class CorpusParityTests: XCTestCase {
    private static let corpusLock = NSLock()
    private static var corpus: [GoldenCorpus.Source]?

    private func sources() throws -> [GoldenCorpus.Source] {
        Self.corpusLock.lock()
        defer { Self.corpusLock.unlock() }
        if let corpus = Self.corpus { return corpus }
        let loaded = try GoldenCorpus.load()
        Self.corpus = loaded
        return loaded
    }

    private func checkEveryText(_ name: String) throws {
        let tokenizer = try Tokenizers.named(name)
        let sources = try sources()
        let golden = try DigestFile(TestPaths.fixture("TextTests", "tokenizer_digests_\(name).bin"))
        XCTAssertEqual(golden.sources.map(\.name), sources.map(\.name), "golden sources differ from the corpus")
        var checked = 0
        var idMismatches: [String] = []
        var roundTripFailures: [String] = []
        for (source, expected) in zip(sources, golden.sources) {
            XCTAssertEqual(source.texts.count, expected.digests.count, "\(source.name): text count")
            for (index, (text, digest)) in zip(source.texts, expected.digests).enumerated() {
                let ids = tokenizer.encode(text)
                if ids.count != digest.count || fnv1a(ids) != digest.hash {
                    idMismatches.append("\(source.name)[\(index)]: \(ids.count) ids, expected \(digest.count)")
                }
                if !tokenizer.decode(ids).utf8.elementsEqual(text.utf8) {
                    roundTripFailures.append("\(source.name)[\(index)]")
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, 28_835, "the corpus should hold 28,835 texts")
        XCTAssertTrue(idMismatches.isEmpty,
                      "\(idMismatches.count) texts differ from Python tokenizers: \(idMismatches.prefix(5))")
        XCTAssertTrue(roundTripFailures.isEmpty,
                      "\(roundTripFailures.count) texts do not decode back exactly: \(roundTripFailures.prefix(5))")
    }

    func test_pythia_givesPythonIdsForEveryCorpusText_andDecodesEachBackExactly() throws {
        try checkEveryText("pythia")
    }

    func test_gpt2_givesPythonIdsForEveryCorpusText_andDecodesEachBackExactly() throws {
        try checkEveryText("gpt2")
    }

    /// Complete id lists (not just digests) for a few dozen texts, so a failure shows the first differing id.
    func test_fullIdLists_matchPythonTokenizersIdForId() throws {
        let sources = Dictionary(uniqueKeysWithValues: try sources().map { ($0.name, $0.texts) })
        let lines = try String(contentsOf: TestPaths.fixture("TextTests", "tokenizer_full_ids.txt"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertGreaterThanOrEqual(lines.count, 24)
        for line in lines {
            let fields = line.split(separator: " ")
            let name = String(fields[0])
            let source = String(fields[1])
            let index = Int(fields[2])!
            let expected = fields[3...].map { Int($0)! }
            let text = try XCTUnwrap(sources[source]?[index], "\(source)[\(index)] missing from the corpus")
            let ids = try Tokenizers.named(name).encode(text)
            let common = min(ids.count, expected.count)
            let differing = (0..<common).first { ids[$0] != expected[$0] }
            if let first = differing ?? (ids.count != expected.count ? common : nil) {
                XCTFail("\(name) \(source)[\(index)]: first difference at position \(first): got \(ids[first...].prefix(5)), expected \(expected[first...].prefix(5))")
            }
        }
    }
}
