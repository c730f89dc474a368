import Foundation
import TestSupport
import Text
import XCTest

final class TokenizerLoaderTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("xright-text-loader")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func loadError(_ path: String) -> TokenizerError? {
        do {
            _ = try TokenizerLoader.load(path: path)
            XCTFail("expected an error for \(path)")
        } catch {
            return error as? TokenizerError
        }
        return nil
    }

    func test_nameByte_givesTheByteTokenizer() throws {
        XCTAssertTrue(try TokenizerLoader.load(path: "byte") is ByteTokenizer)
    }

    func test_tokenizerJSONFile_andDirectoryHoldingIt_loadTheSameTokenizer() throws {
        let fixture = TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json")
        try FileManager.default.copyItem(at: fixture, to: directory.appendingPathComponent("tokenizer.json"))
        let fromFile = try TokenizerLoader.load(path: fixture.path)
        let fromDirectory = try TokenizerLoader.load(path: directory.path)
        let text = "The quick brown fox, 12345!"
        XCTAssertEqual(fromFile.encode(text), fromDirectory.encode(text))
        XCTAssertEqual(fromDirectory.vocabularySize, 404)
    }

    func test_directoryHoldingEncoderAndMerges_loadsGPT2Style() throws {
        let encoder = ["a": 0, "b": 1, "ab": 2, "<|endoftext|>": 3]
        try JSONSerialization.data(withJSONObject: encoder).write(to: directory.appendingPathComponent("encoder.json"))
        try Data("#version: 0.2\na b\n".utf8).write(to: directory.appendingPathComponent("vocab.bpe"))
        let tokenizer = try TokenizerLoader.load(path: directory.path)
        XCTAssertEqual(tokenizer.encode("aab"), [0, 2])
        XCTAssertEqual(tokenizer.eosTokenId, 3)
    }

    func test_sharedPythiaAndGPT2_loadThroughTheLoader() throws {
        let pythia = try TestPaths.sharedFile("pythia_tokenizer.json")
        let gpt2 = try TestPaths.sharedFile("gpt2/encoder.json").deletingLastPathComponent()
        XCTAssertEqual(try TokenizerLoader.load(path: pythia.path).vocabularySize, 50_277)
        XCTAssertEqual(try TokenizerLoader.load(path: gpt2.path).eosTokenId, 50_256)
    }

    func test_missingPath_saysWhatWasExpected() {
        let path = directory.appendingPathComponent("nothing-here").path
        let error = loadError(path)
        XCTAssertEqual(error?.kind, .unreadableFile)
        XCTAssertEqual(error?.file, path)
        XCTAssertEqual(error?.got, "nothing at this path")
    }

    func test_directoryWithoutTokenizerFiles_listsWhatItHolds() throws {
        try Data().write(to: directory.appendingPathComponent("notes.txt"))
        let error = loadError(directory.path)
        XCTAssertEqual(error?.field, "(directory)")
        XCTAssertEqual(error?.got, "only notes.txt")
    }

    func test_directoryWithOnlyOneOfTheGPT2Pair_saysWhichIsMissing() throws {
        try Data("{}".utf8).write(to: directory.appendingPathComponent("encoder.json"))
        XCTAssertEqual(loadError(directory.path)?.got, "encoder.json without vocab.bpe")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("encoder.json"))
        try Data().write(to: directory.appendingPathComponent("vocab.bpe"))
        XCTAssertEqual(loadError(directory.path)?.got, "vocab.bpe without encoder.json")
    }

    func test_emptyDirectory_saysItIsEmpty() {
        XCTAssertEqual(loadError(directory.path)?.got, "an empty directory")
    }
}
