import ConfigFile
import Foundation
import TestSupport
import XCTest

/// A YAML config file holds one key per command-line option and becomes that command line's arguments; every
/// mistake is reported with the file, the line, the key and what was expected.
final class ConfigFileTests: XCTestCase {
    /// Options shaped like `xright train`'s.
    static let options: [ConfigOption] = [
        ConfigOption(name: "strategy", kind: .option, valueType: .string, defaultValue: "alright"),
        ConfigOption(name: "lambda", kind: .option, valueType: .number, defaultValue: "0.5"),
        ConfigOption(name: "epochs", kind: .option, valueType: .integer, defaultValue: "1"),
        ConfigOption(name: "lora-rank", kind: .option, valueType: .integer, defaultValue: "0"),
        ConfigOption(name: "lr", kind: .option, valueType: .number, defaultValue: "0.001"),
        ConfigOption(name: "loss", kind: .option, valueType: .choice(["sigmoid", "ipo"]), defaultValue: "sigmoid"),
        ConfigOption(name: "cosine", kind: .flag(inversion: nil), valueType: .boolean),
        ConfigOption(name: "gpu", kind: .flag(inversion: "no-gpu"), valueType: .boolean, defaultValue: "true"),
        ConfigOption(name: "lora-targets", kind: .option, valueType: .string, isRepeating: true),
        ConfigOption(name: "run-dir", kind: .option, valueType: .string),
        ConfigOption(name: "model", kind: .option, valueType: .string),
        ConfigOption(name: "max-steps", kind: .option, valueType: .integer, otherNames: ["-n"]),
    ]

    private func load(_ name: String) throws -> ConfigFile {
        try ConfigFile(path: TestPaths.fixture("ConfigFileTests", name).path, options: Self.options,
                       forbidden: ["config": "a config file cannot name another one"])
    }

    private func refusal(_ name: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigFileError? {
        do {
            _ = try load(name)
            XCTFail("\(name) was accepted", file: file, line: line)
        } catch let error as ConfigFileError {
            return error
        } catch {
            XCTFail("\(name): unexpected error \(error)", file: file, line: line)
        }
        return nil
    }

    func test_keysBecomeTheirOptions_inFileOrder() throws {
        let config = try load("run.yaml")
        XCTAssertEqual(config.arguments(yieldingTo: []), [
            "--strategy=maxright", "--lambda=0.25", "--lora-rank=32", "--lr=5.0e-5", "--cosine",
            "--lora-targets=query_key_value", "--lora-targets=dense", "--run-dir=2026",
        ])
    }

    func test_commandLineOptions_replaceTheFilesKeys_inAnySpelling() throws {
        let config = try load("run.yaml")
        let arguments = config.arguments(yieldingTo: ["--lambda", "0.9", "--lora-targets=dense", "--cosine"])
        XCTAssertFalse(arguments.contains { $0.hasPrefix("--lambda") || $0.hasPrefix("--lora-targets") || $0 == "--cosine" },
                       "\(arguments)")
        XCTAssertTrue(arguments.contains("--lora-rank=32"))
    }

    func test_falseFlag_isTheDefault_orItsInversion() throws {
        let text = "cosine: false\ngpu: false\n"
        let config = try ConfigFile(path: "inline.yaml", text: text, options: Self.options)
        XCTAssertEqual(config.arguments(yieldingTo: []), ["--no-gpu"])
        XCTAssertEqual(config.arguments(yieldingTo: ["--gpu"]), [])
    }

    func test_aValueStartingWithADash_staysAValue() throws {
        let config = try ConfigFile(path: "inline.yaml", text: "run-dir: -odd\n", options: Self.options)
        XCTAssertEqual(config.arguments(yieldingTo: []), ["--run-dir=-odd"])
    }

    func test_emptyFile_setsNothing() throws {
        XCTAssertEqual(try load("empty.yaml").arguments(yieldingTo: []), [])
    }

    func test_unknownKey_isRefusedWithItsLineAndTheKnownKeys() throws {
        let error = try XCTUnwrap(refusal("unknown-key.yaml"))
        XCTAssertEqual(error.line, 2)
        XCTAssertEqual(error.key, "lamda")
        XCTAssertTrue(error.description.hasSuffix("unknown-key.yaml:2: key 'lamda': unknown key; this command's keys are: strategy, lambda, epochs, lora-rank, lr, loss, cosine, gpu, lora-targets, run-dir, model, max-steps"),
                      error.description)
    }

    func test_wrongTypes_nameTheExpectedType() throws {
        let cases: [(String, Int, String, String)] = [
            ("wrong-number.yaml", 3, "lambda", "expected a number, got 'half'"),
            ("wrong-integer.yaml", 1, "lora-rank", "expected an integer, got '3.5'"),
            ("wrong-choice.yaml", 1, "loss", "expected one of sigmoid, ipo, got 'hinge'"),
            ("wrong-flag.yaml", 2, "cosine", "expected true or false, got the string 'true' (write it without quotes)"),
            ("flag-not-boolean.yaml", 1, "cosine", "expected true or false, got 'sometimes'"),
            ("nested.yaml", 2, "lambda", "expected a number, got a mapping"),
            ("list-for-single.yaml", 1, "epochs", "expected an integer, got a list"),
            ("null-in-list.yaml", 1, "lora-targets", "expected a string or a list of them, got null in a list"),
        ]
        for (file, line, key, message) in cases {
            let error = try XCTUnwrap(refusal(file), file)
            XCTAssertEqual(error.line, line, file)
            XCTAssertEqual(error.key, key, file)
            XCTAssertEqual(error.message, message, file)
        }
    }

    func test_notAMapping_isRefused() throws {
        let error = try XCTUnwrap(refusal("not-a-mapping.yaml"))
        XCTAssertEqual(error.line, 1)
        XCTAssertTrue(error.message.hasPrefix("expected a mapping of option names to values"), error.message)
    }

    func test_brokenYAML_isRefusedWithTheParsersLine() throws {
        let error = try XCTUnwrap(refusal("bad-syntax.yaml"))
        XCTAssertNotNil(error.line)
        XCTAssertTrue(error.message.hasPrefix("not valid YAML ("), error.message)
        XCTAssertTrue((2...3).contains(error.line ?? 0), "line \(String(describing: error.line))")
    }

    func test_keySetTwice_isRefused() throws {
        let error = try XCTUnwrap(refusal("duplicate.yaml"))
        XCTAssertEqual(error.key, "lambda")
        XCTAssertTrue(error.message.hasPrefix("set twice"), error.message)
    }

    func test_forbiddenKey_isRefusedWithTheReason() throws {
        let error = try XCTUnwrap(refusal("names-config.yaml"))
        XCTAssertEqual(error.description.components(separatedBy: "/").last,
                       "names-config.yaml:1: key 'config': a config file cannot name another one")
    }

    func test_missingFile_isRefusedNamingIt() throws {
        XCTAssertThrowsError(try ConfigFile(path: "/nonexistent/run.yaml", options: Self.options)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.hasPrefix("/nonexistent/run.yaml: cannot read the file ("), text)
        }
    }

    // MARK: Effective settings

    func test_effectiveSettings_lastValueWins_listsCollect_defaultsFillIn() throws {
        let settings = EffectiveSettings(options: Self.options, arguments: [
            "--lambda=0.25", "--lora-targets=a", "--lora-targets", "b", "--cosine", "--lambda", "0.75", "--no-gpu", "-n", "7",
        ])
        let values = Dictionary(uniqueKeysWithValues: settings.entries.map { ($0.option.name, $0.values) })
        XCTAssertEqual(values["lambda"], ["0.75"])
        XCTAssertEqual(values["lora-targets"], ["a", "b"])
        XCTAssertEqual(values["cosine"], ["true"])
        XCTAssertEqual(values["gpu"], ["false"])
        XCTAssertEqual(values["max-steps"], ["7"])
        XCTAssertEqual(values["strategy"], ["alright"])
        XCTAssertEqual(values["model"], [])
    }

    func test_effectiveSettingsYAML_readsBackToTheSameArguments() throws {
        let original = try load("run.yaml")
        let arguments = original.arguments(yieldingTo: [])
        let yaml = try EffectiveSettings(options: Self.options, arguments: arguments).yaml(header: "test")
        XCTAssertTrue(yaml.hasPrefix("# test\nstrategy: 'maxright'\nlambda: 0.25\n"), yaml)
        XCTAssertTrue(yaml.contains("model: null"), yaml)
        let reread = try ConfigFile(path: "printed.yaml", text: yaml, options: Self.options)
        let again = EffectiveSettings(options: Self.options, arguments: reread.arguments(yieldingTo: []))
        XCTAssertEqual(again.entries, EffectiveSettings(options: Self.options, arguments: arguments).entries)
    }
}
