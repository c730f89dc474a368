import Engine
import Foundation
import Training
import XCTest

/// The fast step decoder must agree with JSONDecoder on everything it accepts, and hand everything else back.
final class StepLineDecoderTests: XCTestCase {
    private let encoder = RunLogCoding.makeEncoder()
    private let decoder = RunLogCoding.makeDecoder()

    /// Records compare by their encoding: NaN is not equal to itself, but it encodes to the same line.
    private func line(_ record: RunRecord) throws -> String { String(decoding: try encoder.encode(record), as: UTF8.self) }

    private func randomDouble(_ g: inout SeededRandom) -> Double {
        switch g.next() % 10 {
        case 0: return .nan
        case 1: return .infinity
        case 2: return -.infinity
        case 3: return 0
        case 4: return -Double(g.next() % 1000)
        case 5: return Double(g.next() % 1_000_000) * 1e-12
        case 6: return Double(bitPattern: (g.next() & 0x7FEF_FFFF_FFFF_FFFF))   // any finite magnitude
        default: return (g.nextUnitDouble() - 0.5) * pow(10, Double(Int(g.next() % 20) - 10))
        }
    }

    private func randomStep(_ g: inout SeededRandom) throws -> RunRecord {
        func maybe<T>(_ make: () -> T) -> T? { g.next() % 3 == 0 ? nil : make() }
        let objectives: [[Objective]] = [[], [.sft], [.dpo], [.sft, .dpo], [.dpo, .sft]]
        let preference = g.next() % 2 == 0 ? nil : PreferenceMetrics(chosenReward: randomDouble(&g), rejectedReward: randomDouble(&g),
                                                                       rewardAccuracy: randomDouble(&g), margin: randomDouble(&g))
        let sftMetrics = ObjectiveMetrics(loss: randomDouble(&g), tokens: Int(g.next() % 100_000))
        let dpoMetrics = ObjectiveMetrics(loss: randomDouble(&g), tokens: Int(g.next() % 100_000), preference: preference)
        let gaps = WeightedGaps(sft: randomDouble(&g), dpo: randomDouble(&g))
        let event = StepEvent(
            step: Int(g.next() % 10_000_000), epoch: Int(g.next() % 50),
            strategy: StrategyName.allCases[Int(g.next() % UInt64(StrategyName.allCases.count))],
            objectives: objectives[Int(g.next() % 5)], sft: maybe { sftMetrics }, dpo: maybe { dpoMetrics },
            lambda: try Lambda(g.nextUnitDouble()), learningRate: randomDouble(&g), tokens: Int(g.next() % 1_000_000) - 10,
            tokensPerSecond: randomDouble(&g), stepSeconds: randomDouble(&g), elapsedSeconds: randomDouble(&g),
            updateApplied: g.next() % 2 == 0, gradientNorm: maybe { randomDouble(&g) }, gaps: maybe { gaps },
            gapsEvaluated: maybe { g.next() % 2 == 0 })
        return RunRecord(time: randomDouble(&g), event: .step(event))
    }

    /// `record` with numbers a writer produces (no negative token count or durations), which the reader keeps.
    private func plausible(_ record: RunRecord) -> RunRecord {
        guard case .step(var e) = record.event else { return record }
        e.tokens = abs(e.tokens)
        e.stepSeconds = 0.25
        e.elapsedSeconds = 3
        return RunRecord(time: record.time, event: .step(e))
    }

    func test_fastPath_decodesExactlyWhatJSONDecoderDoes_onManyGeneratedSteps() throws {
        var g = SeededRandom(seed: 2410)
        for _ in 0..<3000 {
            let record = try randomStep(&g)
            let bytes = try encoder.encode(record)
            let fast = try XCTUnwrap(StepLineDecoder.decode(bytes), "a line the writer wrote: \(String(decoding: bytes, as: UTF8.self))")
            let reference = try decoder.decode(RunRecord.self, from: bytes)
            XCTAssertEqual(try line(fast), try line(reference))
            XCTAssertEqual(try line(fast), try line(record))
        }
    }

    func test_fastPath_readsAnyKeyOrderWhitespaceAndNulls() throws {
        let text = """
             { "updateApplied" : true , "type":"step","tokensPerSecond":1e3, "stepSeconds": 0.25,"strategy":"maxright",
              "step":12,"objectives":[ "dpo" ],"lambda":0.5,"learningRate":5E-5,"tokens":250,"elapsedSeconds":3,
              "epoch":0,"time":3.5,"gaps":null,"gradientNorm":null,"sft":null,
              "dpo":{"tokens":250,"loss":"NaN","preference":null}}
            """
        let bytes = Data(text.utf8)
        let fast = try XCTUnwrap(StepLineDecoder.decode(bytes))
        XCTAssertEqual(try line(fast), try line(try decoder.decode(RunRecord.self, from: bytes)))
        guard case .step(let e) = fast.event else { return XCTFail("a step") }
        XCTAssertEqual(e.step, 12)
        XCTAssertEqual(e.tokensPerSecond, 1000)
        XCTAssertTrue(e.dpo?.loss.isNaN ?? false)
        XCTAssertNil(e.gaps)
        XCTAssertEqual(fast.time, 3.5)
    }

    /// Everything outside the fast path's sure ground goes back to JSONDecoder, which then decides.
    func test_fastPath_handsBackWhatItIsNotSureOf_andTheReaderStillDecidesLikeJSONDecoder() throws {
        var g = SeededRandom(seed: 1)
        let good = try line(plausible(try randomStep(&g)))
        let variants: [String] = [
            good.replacingOccurrences(of: "\"type\":\"step\"", with: "\"type\":\"eval\""),            // another type
            good.replacingOccurrences(of: "\"strategy\":\"", with: "\"comment\":\"a\\nb\",\"strategy\":\""), // unknown key, escape
            good.replacingOccurrences(of: "\"type\":\"step\"", with: "\"type\":\"step\",\"type\":\"step\""), // repeated key
            good.replacingOccurrences(of: "\"epoch\":", with: "\"epoch\":0"),                          // leading zero
            good.replacingOccurrences(of: "\"epoch\":", with: "\"epoch\":+"),                          // plus sign
            good.replacingOccurrences(of: "\"epoch\":", with: "\"epoch\":1.5,\"x\":"),                 // fraction for an Int
            good.replacingOccurrences(of: "\"lambda\":", with: "\"lambda\":null,\"y\":"),               // null for a required Double
            String(good.dropLast()),                                                                  // torn
            good + "x",                                                                               // trailing bytes
            "{\"type\":\"step\",\"step\":99999999999999999999999}",                                    // overflow
            "[]", "", "null",
        ]
        for text in variants {
            let bytes = Data(text.utf8)
            XCTAssertNil(StepLineDecoder.decode(bytes), text)
            let reference = try? decoder.decode(RunRecord.self, from: bytes)
            switch RunLogReader.decodeRecord(bytes, decoder: decoder) {
            case .record(let r)?: XCTAssertEqual(try line(r), try reference.map(line), text)
            case .unknown?: XCTFail("no unknown types here: \(text)")
            case nil: XCTAssertNil(reference, "JSONDecoder reads \(text), so the reader must too")
            }
        }
    }
}
