import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import XCTest

/// `scripts/experiments/real-data` (docs/RESULTS.md, "Real data"): in `--smoke` mode it runs every stage end to
/// end and writes results.json, results.md and tradeoff.svg whose figures agree with each other and with the
/// runs' logs; bad inputs stop it with a message naming what is wrong.
final class RealDataExperimentTests: XCTestCase {
    private static let script = TestPaths.packageRoot.appendingPathComponent("scripts/experiments/real-data")
    private static let strategies = ["sft-only", "dpo-only", "alright", "maxright", "mix", "sft-then-dpo", "dpo-then-sft"]

    /// Runs the script with `arguments`, the test's xright binary as XRIGHT_BIN; fails after `timeout` seconds.
    private func runScript(_ arguments: [String], in dir: URL, timeout: TimeInterval = 600) throws -> XRightProcess.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.script.path] + arguments
        process.currentDirectoryURL = dir
        var environment = ProcessInfo.processInfo.environment
        environment["XRIGHT_BIN"] = try XRightProcess.binary().path
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        let out = dir.appendingPathComponent("script-stdout.txt"), err = dir.appendingPathComponent("script-stderr.txt")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            kill(-process.processIdentifier, SIGKILL)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTFail("real-data \(arguments.joined(separator: " ")) did not finish in \(timeout) s")
        }
        process.waitUntilExit()
        return XRightProcess.Result(status: process.terminationStatus,
                                    stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                                    stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    private func object(_ value: Any?, _ what: String) throws -> [String: Any] {
        try XCTUnwrap(value as? [String: Any], "\(what) is not a JSON object")
    }

    private func finite(_ value: Any?, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let number = try XCTUnwrap((value as? NSNumber)?.doubleValue, "\(what) is not a number: \(String(describing: value))",
                                   file: file, line: line)
        XCTAssertTrue(number.isFinite, "\(what) = \(number)", file: file, line: line)
        return number
    }

    /// Every element of an SVG with its attributes (XMLParser fails on malformed XML).
    private final class Elements: NSObject, XMLParserDelegate {
        var elements: [[String: String]] = []
        var names: [String] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            names.append(name)
            elements.append(attributes)
        }
    }

    func test_smoke_runsEveryStage_andItsTablesAndFigureAgree() throws {
        guard let data = TestPaths.sharedData else {
            throw XCTSkip("../shared/data is absent (set XRIGHT_SHARED_DATA to run this test)")
        }
        let dir = try scratchDirectory()
        let out = dir.appendingPathComponent("out")
        let result = try runScript(["--smoke", "--out", out.path, "--data-dir", data.path], in: dir)
        XCTAssertEqual(result.status, 0, result.transcript)

        let results = try object(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("results.json"))),
                                 "results.json")
        let optima = try object(results["optima"], "optima")
        let sftOpt = try finite(optima["f_sft"], "f_sft*"), dpoOpt = try finite(optima["f_dpo"], "f_dpo*")
        let runs = try XCTUnwrap(results["runs"] as? [[String: Any]], "results.json has no runs")

        // The reference stage, the optimum runs and every strategy at λ = 0.5, each evaluated once.
        XCTAssertEqual(runs.filter { $0["role"] as? String == "reference" }.count, 1)
        XCTAssertEqual(Set(runs.compactMap { $0["strategy"] as? String }), Set(Self.strategies))
        for strategy in Self.strategies.dropFirst(2) {
            let matching = runs.filter { $0["strategy"] as? String == strategy && $0["role"] as? String == "strategy" }
            XCTAssertEqual(matching.count, 1, "one \(strategy) run")
            XCTAssertEqual(try finite(matching.first?["lambda"], "\(strategy) λ"), 0.5)
        }

        let table = try String(contentsOf: out.appendingPathComponent("results.md"), encoding: .utf8)
        for run in runs {
            let name = try XCTUnwrap(run["name"] as? String)
            let sft = try finite(run["f_sft"], "\(name) f_sft"), dpo = try finite(run["f_dpo"], "\(name) f_dpo")
            let distance = try finite(run["ideal_distance"], "\(name) ideal distance")
            XCTAssertEqual(distance, ((sft - sftOpt) * (sft - sftOpt) + (dpo - dpoOpt) * (dpo - dpoOpt)).squareRoot(), accuracy: 1e-9)
            let accuracy = try finite(run["pref_accuracy"], "\(name) preference accuracy")
            XCTAssertTrue((0...1).contains(accuracy), "\(name) accuracy \(accuracy)")
            XCTAssertGreaterThan(try finite(run["train_wall_s"], "\(name) train wall s"), 0)
            XCTAssertEqual((run["probes"] as? [[String: Any]])?.count, 3, "\(name): a reply to each of the 3 probe prompts")
            XCTAssertTrue(table.contains(String(format: "%.4f", sft)), "results.md lacks \(name)'s f_sft")
            if run["role"] as? String == "strategy" {
                XCTAssertGreaterThan(try finite(run["train_cpu_s"], "\(name) CPU s"), 0)
                _ = try finite(run["cpu_vs_sft_then_dpo"], "\(name) CPU ratio")
                _ = try finite(run["wall_vs_sft_then_dpo"], "\(name) wall ratio")
            }
            if run["strategy"] as? String == "sft-then-dpo" {
                XCTAssertEqual(try finite(run["cpu_vs_sft_then_dpo"], "ratio"), 1, accuracy: 1e-12)
                XCTAssertNotNil(run["first_phase_end"] as? [String: Any], "where the SFT phase ended")
            }
        }
        // The optima are the optimum runs' own figures.
        let optimumRuns = runs.filter { $0["role"] as? String == "optimum" }
        let sftOnly = try XCTUnwrap(optimumRuns.first { $0["strategy"] as? String == "sft-only" })
        let dpoOnly = try XCTUnwrap(optimumRuns.first { $0["strategy"] as? String == "dpo-only" })
        XCTAssertEqual(try finite(sftOnly["f_sft"], "sft-only f_sft"), sftOpt)
        XCTAssertEqual(try finite(dpoOnly["f_dpo"], "dpo-only f_dpo"), dpoOpt)

        // The figure plots exactly the evaluations results.json lists for each run, and nothing else.
        let parser = try XCTUnwrap(XMLParser(contentsOf: out.appendingPathComponent("tradeoff.svg")))
        let svg = Elements()
        parser.delegate = svg
        XCTAssertTrue(parser.parse(), "tradeoff.svg is not well-formed XML: \(String(describing: parser.parserError))")
        XCTAssertEqual(svg.names.first, "svg")
        let circles = svg.elements.filter { $0["class"] == "eval" }
        var plotted = 0
        for run in runs where run["role"] as? String != "reference" {
            let name = try XCTUnwrap(run["name"] as? String)
            let trajectory = try XCTUnwrap(run["trajectory"] as? [[String: Any]])
            let points = circles.filter { $0["data-run"] == name }
            XCTAssertFalse(trajectory.isEmpty, "\(name) has evaluations")
            XCTAssertEqual(points.map { $0["data-step"] }, trajectory.map { ($0["step"] as? NSNumber).map { "\($0.intValue)" } },
                           "\(name): the plotted steps")
            // The same numbers, read by two JSON parsers (Foundation's and Python's may round the last bit apart).
            for (point, evaluation) in zip(points, trajectory) {
                for (attribute, key) in [("data-sft", "f_sft"), ("data-dpo", "f_dpo")] {
                    let plottedValue = try XCTUnwrap(point[attribute].flatMap(Double.init), "\(name) \(attribute)")
                    let listed = try finite(evaluation[key], "\(name) trajectory \(key)")
                    XCTAssertEqual(plottedValue, listed, accuracy: 1e-12 * max(1, abs(listed)), "\(name) \(key)")
                }
            }
            plotted += points.count
        }
        XCTAssertEqual(plotted, circles.count, "every plotted evaluation belongs to a run of results.json")
    }

    func test_aMissingDataFile_isNamed_andNothingRuns() throws {
        let dir = try scratchDirectory()
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data("[]".utf8).write(to: data.appendingPathComponent("alpaca_5000.json"))
        let out = dir.appendingPathComponent("out")
        let result = try runScript(["--smoke", "--out", out.path, "--data-dir", data.path], in: dir, timeout: 60)
        assertRefused(result, mentioning: ["missing data file", data.appendingPathComponent("hh_helpful_test.jsonl.gz").path])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing is written before the inputs are checked")
    }

    func test_aMissingDataDirectory_isNamed() throws {
        let dir = try scratchDirectory()
        let missing = dir.appendingPathComponent("no-such-data")
        let result = try runScript(["--smoke", "--data-dir", missing.path], in: dir, timeout: 60)
        assertRefused(result, mentioning: [missing.path, "does not exist"])
    }

    func test_aNonEmptyOutputDirectory_isRefused() throws {
        guard let data = TestPaths.sharedData else {
            throw XCTSkip("../shared/data is absent (set XRIGHT_SHARED_DATA to run this test)")
        }
        let dir = try scratchDirectory()
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("earlier results".utf8).write(to: out.appendingPathComponent("results.json"))
        let result = try runScript(["--smoke", "--out", out.path, "--data-dir", data.path], in: dir, timeout: 60)
        assertRefused(result, mentioning: [out.path, "not empty"])
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("results.json"), encoding: .utf8), "earlier results")
    }

    func test_badArguments_areRefused() throws {
        let dir = try scratchDirectory()
        assertRefused(try runScript(["--extra-lambdas", "0.25 1.5"], in: dir, timeout: 60), mentioning: ["'1.5'", "[0, 1]"])
        assertRefused(try runScript(["--epochs", "3"], in: dir, timeout: 60), mentioning: ["unknown argument '--epochs'"])
        assertRefused(try runScript(["--out"], in: dir, timeout: 60), mentioning: ["--out needs a directory"])
    }
}
