import Foundation
import Training
import XCTest

final class LambdaAndConfigTests: XCTestCase {
    func test_lambda_acceptsTheClosedUnitInterval() throws {
        XCTAssertEqual(try Lambda(0).value, 0)
        XCTAssertEqual(try Lambda(1).value, 1)
        XCTAssertEqual(try Lambda(0.25).sftWeight, 0.75)
        XCTAssertEqual(try Lambda(0.25).dpoWeight, 0.25)
    }

    func test_lambda_rejectsValuesOutsideUnitInterval_naming_theValue() {
        for bad in [-0.01, 1.0000001, 2, -1] {
            XCTAssertThrowsError(try Lambda(bad)) { error in
                XCTAssertEqual(error as? LambdaError, .outOfRange(bad))
                XCTAssertTrue("\(error)".contains("[0, 1]"), "\(error)")
                XCTAssertTrue("\(error)".contains(String(bad)), "\(error)")
            }
        }
    }

    func test_lambda_rejectsNaNAndInfinity() {
        for bad in [Double.nan, .infinity, -.infinity] {
            XCTAssertThrowsError(try Lambda(bad)) { error in
                guard case .notFinite? = error as? LambdaError else { return XCTFail("\(error)") }
                XCTAssertTrue("\(error)".contains("finite"), "\(error)")
            }
        }
    }

    func test_lambda_parsing_rejectsTextThatIsNotANumber() {
        XCTAssertEqual(try Lambda(parsing: " 0.75 ").value, 0.75)
        XCTAssertThrowsError(try Lambda(parsing: "half")) { error in
            XCTAssertEqual(error as? LambdaError, .notANumber("half"))
            XCTAssertTrue("\(error)".contains("'half'"))
        }
        XCTAssertThrowsError(try Lambda(parsing: "nan")) { XCTAssertNotNil($0 as? LambdaError) }
        XCTAssertThrowsError(try Lambda(parsing: "1.5")) { XCTAssertEqual($0 as? LambdaError, .outOfRange(1.5)) }
    }

    func test_lambda_decoding_rejectsOutOfRangeValues() {
        struct Holder: Decodable { var lambda: Lambda }
        XCTAssertEqual(try JSONDecoder().decode(Holder.self, from: Data(#"{"lambda":0.5}"#.utf8)).lambda.value, 0.5)
        XCTAssertThrowsError(try JSONDecoder().decode(Holder.self, from: Data(#"{"lambda":1.5}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("[0, 1]"), "\(error)")
        }
    }

    func test_strategyName_parsesEveryDocumentedName() throws {
        let names = ["alright", "maxright", "mix", "sft-then-dpo", "dpo-then-sft", "sft-only", "dpo-only"]
        XCTAssertEqual(try names.map { try StrategyName(parsing: $0) }, StrategyName.allCases)
        XCTAssertEqual(try StrategyName(parsing: "MaxRight"), .maxright)
    }

    func test_strategyName_rejectsUnknownName_listingTheValidOnes() {
        XCTAssertThrowsError(try StrategyName(parsing: "alrite")) { error in
            XCTAssertEqual(error as? StrategyNameError, .unknown("alrite"))
            let text = "\(error)"
            XCTAssertTrue(text.contains("'alrite'"), text)
            for name in StrategyName.allCases { XCTAssertTrue(text.contains(name.rawValue), text) }
        }
    }

    func test_config_rejectsNonPositiveCounts_namingTheField() {
        var config = TrainingConfig(strategy: .mix, lambda: lambda(0.5))
        config.maxSteps = 0
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertEqual(error as? TrainingConfigError, .invalid(field: "maxSteps", expected: "an integer ≥ 1", found: "0"))
        }
        config.maxSteps = nil
        config.maxEvalSteps = -1
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("maxEvalSteps"), "\($0)") }
        config.maxEvalSteps = 10
        config.maxEpochs = 0
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("maxEpochs"), "\($0)") }
    }

    func test_config_stopRuleNeedsOptimaAndEvaluations() {
        var config = TrainingConfig(strategy: .maxright, lambda: lambda(0.5), evalEvery: 100, stopRule: OptimalityStopRule())
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("optima"), "\($0)") }
        config.optima = Optima(sft: 1.498, dpo: 0.0647)
        XCTAssertNoThrow(try config.validate())
        config.evalEvery = nil
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("evalEvery"), "\($0)") }
    }

    func test_session_rejectsInvalidConfigBeforeStarting() {
        var config = TrainingConfig(strategy: .alright, lambda: lambda(0.5))
        config.checkpointEvery = 0
        XCTAssertThrowsError(try StandInRun(config)) { XCTAssertTrue("\($0)".contains("checkpointEvery"), "\($0)") }
    }

    func test_session_rejectsAStrategyWhoseDataIsMissing() {
        let config = TrainingConfig(strategy: .alright, lambda: lambda(0.5))
        XCTAssertThrowsError(try StandInRun(config, withDPO: false)) { error in
            XCTAssertEqual(error as? SessionError, .missingSource(.dpo))
            XCTAssertTrue("\(error)".contains("preference"), "\(error)")
        }
        XCTAssertNoThrow(try StandInRun(TrainingConfig(strategy: .sftOnly, lambda: lambda(0.5)), withDPO: false))
    }

    func test_session_rejectsAnEmptySource() {
        XCTAssertThrowsError(try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5)), sftBatches: 0)) {
            XCTAssertEqual($0 as? SessionError, .emptySource(.sft))
        }
    }

    func test_session_runsOnce() throws {
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 2))
        try run.run()
        XCTAssertThrowsError(try run.session.run()) { XCTAssertEqual($0 as? SessionError, .alreadyStarted) }
    }
}
