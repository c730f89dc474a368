import Foundation
import TestSupport
import Training
import XCTest

/// The options `xright train` was started with are part of the run header as an object (`runOptions`), not a JSON
/// string inside `settings`; logs written before that still resume and serve `--like`.
final class RunHeaderOptionsTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = try TestPaths.temporaryDirectory("xright-header-options")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func options() throws -> RunOptions {
        var options = RunOptions(modelPreset: "tiny", demoExamples: 64, batchSize: 4,
                                 training: TrainingConfig(strategy: .maxright, lambda: try Lambda(0.25), maxSteps: 9))
        options.gradientAccumulation = 2
        return options
    }

    private func directory(withLine1 line: String) throws -> RunDirectory {
        let dir = RunDirectory(root.appendingPathComponent(UUID().uuidString))
        try FileManager.default.createDirectory(at: dir.url, withIntermediateDirectories: true)
        try Data((line + "\n").utf8).write(to: dir.log)
        return dir
    }

    func test_newHeader_holdsTheOptionsAsAnObject_andTheyReadBackEqual() throws {
        let options = try options()
        let header = RunHeader(programVersion: "test", createdAt: "2026-01-01T00:00:00Z", seed: 1, config: options.training,
                               modelFingerprint: "m", dataFingerprints: [:], settings: ["beta": "0.1"], runOptions: options)
        let line = String(decoding: try RunLogCoding.makeEncoder().encode(RunRecord(time: 0, event: .header(header))), as: UTF8.self)
        XCTAssertTrue(line.contains(#""runOptions":{"batchSize":4,"#), line)
        XCTAssertTrue(line.contains(#""gradientAccumulation":2"#), line)
        XCTAssertFalse(line.contains("run_options"), line)
        XCTAssertFalse(line.contains(#"\""#), "no JSON escaped inside a string:\n\(line)")
        XCTAssertEqual(try RunSetup.options(fromRun: try directory(withLine1: line)), options)
    }

    func test_oldHeader_withTheOptionsAsAJSONString_stillReads() throws {
        // Line 1 of a run written before the options were typed (xright 0.1.0, schema 1.2).
        let fixture = TestPaths.fixture("TrainingTests", "run-options-as-string.header.jsonl")
        let line = try String(contentsOf: fixture, encoding: .utf8).trimmingCharacters(in: .newlines)
        XCTAssertTrue(line.contains(#""run_options":"{\"preference\""#), "the fixture is of the old format")
        let dir = try directory(withLine1: line)
        XCTAssertNil(try RunLogReader.header(of: dir.log).runOptions)
        let options = try RunSetup.options(fromRun: dir)
        XCTAssertEqual(options.modelPreset, "tiny")
        XCTAssertEqual(options.batchSize, 4)
        XCTAssertEqual(options.demoExamples, 64)
        XCTAssertEqual(options.training.strategy, .alright)
        XCTAssertEqual(options.training.lambda, try Lambda(0.5))
        XCTAssertEqual(options.training.maxEpochs, 1_000_000)
        XCTAssertEqual(options.preference.beta, 0.1)
    }

    func test_headerWithoutOptions_isRefusedNamingTheLine() throws {
        let header = RunHeader(programVersion: "bridge", createdAt: "2026-01-01T00:00:00Z", seed: 1,
                               config: try options().training, modelFingerprint: "m", dataFingerprints: [:])
        let line = String(decoding: try RunLogCoding.makeEncoder().encode(RunRecord(time: 0, event: .header(header))), as: UTF8.self)
        let dir = try directory(withLine1: line)
        XCTAssertThrowsError(try RunSetup.options(fromRun: dir)) { error in
            XCTAssertTrue("\(error)".contains(dir.log.path + " line 1"), "\(error)")
            XCTAssertTrue("\(error)".contains("no run header with run options"), "\(error)")
        }
    }

    func test_oldHeaderWithUnreadableOptions_isRefusedNamingTheField() throws {
        let fixture = TestPaths.fixture("TrainingTests", "run-options-as-string.header.jsonl")
        let line = try String(contentsOf: fixture, encoding: .utf8).trimmingCharacters(in: .newlines)
            .replacingOccurrences(of: #"\"batchSize\":4"#, with: #"\"batchSize\":\"four\""#)
        let dir = try directory(withLine1: line)
        XCTAssertThrowsError(try RunSetup.options(fromRun: dir)) { error in
            XCTAssertTrue("\(error)".contains(dir.log.path + " line 1"), "\(error)")
            XCTAssertTrue("\(error)".contains("batchSize"), "\(error)")
        }
    }
}
