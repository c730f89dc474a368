import Foundation
import TestSupport
import Text
import XCTest

/// The tokenizers under test, each loaded once per test process.
enum Tokenizers {
    private static let lock = NSLock()
    private static var loaded: [String: BPETokenizer] = [:]

    private static func cached(_ key: String, _ make: () throws -> BPETokenizer) throws -> BPETokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let tokenizer = loaded[key] { return tokenizer }
        let tokenizer = try make()
        loaded[key] = tokenizer
        return tokenizer
    }

    /// Pythia's tokenizer.json from ../shared/data (skips when absent).
    static func pythia() throws -> BPETokenizer {
        let url = try TestPaths.sharedFile("pythia_tokenizer.json")
        return try cached("pythia") { try BPETokenizer(tokenizerJSON: url) }
    }

    /// GPT-2 from ../shared/data/gpt2/encoder.json + vocab.bpe (skips when absent).
    static func gpt2() throws -> BPETokenizer {
        let encoder = try TestPaths.sharedFile("gpt2/encoder.json")
        let merges = try TestPaths.sharedFile("gpt2/vocab.bpe")
        return try cached("gpt2") { try BPETokenizer(encoderJSON: encoder, merges: merges) }
    }

    /// The committed tiny byte-level BPE (scripts/goldens/tokenizer_goldens.py); never skips.
    static func tiny() throws -> BPETokenizer {
        try cached("tiny") { try BPETokenizer(tokenizerJSON: TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json")) }
    }

    static func named(_ name: String) throws -> BPETokenizer {
        switch name {
        case "pythia": return try pythia()
        case "gpt2": return try gpt2()
        default: return try tiny()
        }
    }
}

/// Scalars of a string as hex, for readable failure messages about invisible characters.
func scalarsDescription(_ text: String) -> String {
    text.unicodeScalars.map { $0.value < 0x80 && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }
        .joined()
}

/// A JSON fixture of TextTests read with Foundation.
func jsonFixture(_ name: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.fixture("TextTests", name)))
}
