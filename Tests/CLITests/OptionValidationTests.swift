import Foundation
import XCTest

/// Bad option values are refused before any work, with a message that says what to type instead.
final class OptionValidationTests: XCTestCase {
    func test_train_refusesLambdaAboveOne() throws {
        let r = try XRightProcess.run(["train", "--headless", "--lambda", "1.5"] + TinyRun.options, in: scratchDirectory())
        assertRefused(r, mentioning: ["--lambda must be a number in [0, 1]", "1.5"])
    }

    func test_train_refusesNegativeLambda() throws {
        let r = try XRightProcess.run(["train", "--headless", "--lambda=-0.25"] + TinyRun.options, in: scratchDirectory())
        assertRefused(r, mentioning: ["--lambda must be a number in [0, 1]", "-0.25"])
    }

    func test_train_refusesNaNLambda() throws {
        let r = try XRightProcess.run(["train", "--headless", "--lambda", "nan"] + TinyRun.options, in: scratchDirectory())
        assertRefused(r, mentioning: ["--lambda must be a number in [0, 1]", "nan"])
    }

    func test_train_refusesZeroBeta() throws {
        let r = try XRightProcess.run(["train", "--headless", "--beta", "0"] + TinyRun.options, in: scratchDirectory())
        assertRefused(r, mentioning: ["--beta must be a finite number > 0", "0.0"])
    }

    func test_train_refusesNegativeBeta() throws {
        let r = try XRightProcess.run(["train", "--headless", "--beta=-1"] + TinyRun.options, in: scratchDirectory())
        assertRefused(r, mentioning: ["--beta must be a finite number > 0", "-1.0"])
    }

    func test_train_refusesUnknownStrategy() throws {
        let r = try XRightProcess.run(["train", "--headless", "--strategy", "alrite"] + TinyRun.options, in: scratchDirectory())
        assertRefused(r, mentioning: ["'alrite'", "- alright", "- maxright", "- sft-then-dpo"])
    }

    func test_score_refusesZeroBeta() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["score", "--model", dir.path, "--sft", "x.jsonl", "--beta", "0"], in: dir)
        assertRefused(r, mentioning: ["--beta must be a finite number > 0"])
    }

    func test_sweep_refusesLambdaOutsideUnitInterval() throws {
        let r = try XRightProcess.run(["sweep", "--lambdas", "0.5", "2"] + TinyRun.options, in: scratchDirectory())
        assertRefused(r, mentioning: ["λ must lie in [0, 1]", "got 2.0"])
    }

    func test_sweep_refusesUnknownStrategy() throws {
        let r = try XRightProcess.run(["sweep", "--strategies", "alright", "zigzag"] + TinyRun.options, in: scratchDirectory())
        assertRefused(r, mentioning: ["unknown strategy 'zigzag'"])
    }

    func test_sweep_refusesRunDir() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["sweep", "--run-dir", dir.appendingPathComponent("r").path] + TinyRun.options, in: dir)
        assertRefused(r, mentioning: ["--run-dir does not apply"])
    }

    func test_benchStrategies_refusesLambdaAboveOne() throws {
        let r = try XRightProcess.run(["bench", "strategies", "--lambda", "1.01"], in: scratchDirectory())
        assertRefused(r, mentioning: ["--lambda must be a number in [0, 1]"])
    }
}
