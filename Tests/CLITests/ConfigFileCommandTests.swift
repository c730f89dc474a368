import Foundation
import TestSupport
import Training
import XCTest

/// `--config FILE` on train, demo, sweep, optimum and score: every flag has a key of the same name, the command line
/// wins, mistakes name the file's line and key, and `--print-config` writes the settings back as YAML.
final class ConfigFileCommandTests: XCTestCase {
    private func config(_ name: String) -> String { TestPaths.fixture("CLITests", "config/\(name)").path }

    /// `key: value` lines of a printed config.
    private func settings(_ yaml: String) -> [String: String] {
        var values = [String: String]()
        for line in yaml.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return values
    }

    func test_train_runsWithTheFilesSettings_andTheCommandLineWins() throws {
        let dir = try scratchDirectory()
        let fromFile = try XRightProcess.run(["train", "--config", config("tiny-run.yaml"), "--run-dir", "a"], in: dir)
        XCTAssertEqual(fromFile.status, 0, fromFile.transcript)
        let header = try RunLogReader.read(dir.appendingPathComponent("a/run.jsonl")).header
        XCTAssertEqual(header.config.lambda.value, 0.25)
        XCTAssertEqual(header.config.strategy.rawValue, "maxright")
        XCTAssertEqual(header.config.maxSteps, 3)

        let overridden = try XRightProcess.run(["train", "--config", config("tiny-run.yaml"), "--run-dir", "b",
                                                "--lambda", "0.75", "--max-steps=2"], in: dir)
        XCTAssertEqual(overridden.status, 0, overridden.transcript)
        let header2 = try RunLogReader.read(dir.appendingPathComponent("b/run.jsonl")).header
        XCTAssertEqual(header2.config.lambda.value, 0.75)
        XCTAssertEqual(header2.config.maxSteps, 2)
        XCTAssertEqual(header2.config.strategy.rawValue, "maxright")
    }

    func test_printConfig_writesEffectiveSettings_thatReadBackToTheSame() throws {
        let dir = try scratchDirectory()
        let printed = try XRightProcess.run(["train", "--config", config("tiny-run.yaml"), "--lambda", "0.75", "--print-config"],
                                            in: dir, timeout: 30)
        XCTAssertEqual(printed.status, 0, printed.transcript)
        let values = settings(printed.stdout)
        XCTAssertEqual(values["lambda"], "0.75", printed.stdout)      // the command line over the file
        XCTAssertEqual(values["max-steps"], "3", printed.stdout)      // the file over the default
        XCTAssertEqual(values["strategy"], "'maxright'", printed.stdout)
        XCTAssertEqual(values["headless"], "true", printed.stdout)
        XCTAssertEqual(values["beta"], "0.1", printed.stdout)         // a default
        XCTAssertEqual(values["model"], "null", printed.stdout)       // unset
        XCTAssertNil(values["config"], "the file cannot name another config file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").path), "--print-config started a run")

        let file = dir.appendingPathComponent("effective.yaml")
        try printed.stdout.write(to: file, atomically: true, encoding: .utf8)
        let again = try XRightProcess.run(["train", "--config", file.path, "--print-config"], in: dir, timeout: 30)
        XCTAssertEqual(again.status, 0, again.transcript)
        XCTAssertEqual(again.stdout, printed.stdout)
    }

    func test_printConfig_withoutAFile_printsTheDefaults() throws {
        let dir = try scratchDirectory()
        let printed = try XRightProcess.run(["demo", "--print-config"], in: dir, timeout: 30)
        XCTAssertEqual(printed.status, 0, printed.transcript)
        XCTAssertEqual(settings(printed.stdout)["lambda"], "0.5", printed.stdout)
        XCTAssertEqual(settings(printed.stdout)["lora-rank"], "0", printed.stdout)
    }

    func test_sweepAndScore_takeConfigFilesToo_listsIncluded() throws {
        let dir = try scratchDirectory()
        let sweep = try XRightProcess.run(["sweep", "--config", config("sweep.yaml"), "--print-config"], in: dir, timeout: 30)
        XCTAssertEqual(sweep.status, 0, sweep.transcript)
        // --lambdas takes text (it also accepts "max"-style words), so its values print as strings.
        XCTAssertEqual(settings(sweep.stdout)["lambdas"], "['0.1', '0.9']", sweep.stdout)
        XCTAssertEqual(settings(sweep.stdout)["strategies"], "['alright', 'mix']", sweep.stdout)
        let score = try XRightProcess.run(["score", "--config", config("score.yaml"), "--print-config"], in: dir, timeout: 30)
        XCTAssertEqual(score.status, 0, score.transcript)
        XCTAssertEqual(settings(score.stdout)["model"], "'some/model-dir'", score.stdout)
        XCTAssertEqual(settings(score.stdout)["beta"], "0.2", score.stdout)
        XCTAssertEqual(settings(score.stdout)["json"], "true", score.stdout)
    }

    func test_generate_takesAConfigFile_theCommandLineWins_andAnUnknownKeyIsNamed() throws {
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("generate.yaml")
        try "model: some/model.gguf\nmax-new-tokens: 12\ntemperature: 0.7\ntop-k: 40\n".write(to: file, atomically: true, encoding: .utf8)
        let printed = try XRightProcess.run(["generate", "--config", file.path, "--top-k", "5", "--print-config"], in: dir, timeout: 30)
        XCTAssertEqual(printed.status, 0, printed.transcript)
        XCTAssertEqual(settings(printed.stdout)["model"], "'some/model.gguf'", printed.stdout)
        XCTAssertEqual(settings(printed.stdout)["max-new-tokens"], "12", printed.stdout)
        XCTAssertEqual(settings(printed.stdout)["top-k"], "5", printed.stdout)
        try "model: m.gguf\ntop_kk: 3\n".write(to: file, atomically: true, encoding: .utf8)
        let refused = try XRightProcess.run(["generate", "--config", file.path, "--prompt", "hi"], in: dir, timeout: 30)
        XCTAssertNotEqual(refused.status, 0, refused.transcript)
        XCTAssertTrue(refused.stderr.contains("generate.yaml:2") && refused.stderr.contains("top_kk"), refused.transcript)
    }

    func test_unknownKey_isRefusedWithFileLineAndKey() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--config", config("typo.yaml")], in: dir, timeout: 30)
        assertRefused(r, mentioning: ["typo.yaml:2: key 'lamda': unknown key; this command's keys are: ", "lambda"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").path))
    }

    func test_wrongType_namesTheExpectedType() throws {
        let dir = try scratchDirectory()
        let number = try XRightProcess.run(["train", "--config", config("half.yaml")], in: dir, timeout: 30)
        assertRefused(number, mentioning: ["half.yaml:2: key 'lambda': expected a number, got 'half'"])
        // The type comes from the option's declaration (Int), not from the default's spelling.
        let integer = try XRightProcess.run(["train", "--config", config("fractional-rank.yaml")], in: dir, timeout: 30)
        assertRefused(integer, mentioning: ["fractional-rank.yaml:1: key 'lora-rank': expected an integer, got '3.5'"])
    }

    func test_valueTheCommandRefuses_pointsAtTheFilesLine() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--config", config("lambda-out-of-range.yaml")], in: dir, timeout: 30)
        assertRefused(r, mentioning: ["--lambda must be a number in [0, 1], got 1.5", "lambda-out-of-range.yaml:2: set by key 'lambda'"])
    }

    func test_missingFile_isRefusedNamingIt() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--config", "nowhere.yaml"], in: dir, timeout: 30)
        assertRefused(r, mentioning: ["nowhere.yaml: cannot read the file ("])
    }

    func test_help_andCompletions_knowTheConfigOption() throws {
        let dir = try scratchDirectory()
        let help = try XRightProcess.run(["train", "--help"], in: dir, timeout: 30)
        XCTAssertTrue(help.stdout.contains("--config <file>") && help.stdout.contains("--print-config"), help.stdout)
    }
}
