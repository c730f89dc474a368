import Foundation
import TestSupport
import XCTest

/// The bridge's losses are the Swift engine's: `xright-bridge score` (the PyTorch loss functions training uses)
/// and `xright score` agree per record within 1e-4 relative on the same model directories and data.
final class BridgeScoreTests: XCTestCase {
    static let fields = ["sft_loss", "chosen_logp", "rejected_logp", "ref_chosen_logp", "ref_rejected_logp", "dpo_loss"]

    func test_bridgeScore_equalsXrightScore_withinOneInTenThousand() throws {
        let fixture = try BridgeFixture.shared()
        let scratch = try scratchDirectory()
        let common = ["--model", fixture.policy.path, "--ref-model", fixture.reference.path,
                      "--tokenizer", fixture.tokenizer.path, "--sft", fixture.sft.path, "--pref", fixture.pref.path,
                      "--beta", "0.1", "--json"]
        let swift = try XRightProcess.run(["score"] + common, in: scratch)
        XCTAssertEqual(swift.status, 0, swift.transcript)
        let python = try BridgePython.start(["-m", "xright_bridge", "score"] + common, in: scratch)
        try BridgePython.waitForExit(python, timeout: 240)
        XCTAssertEqual(python.process.terminationStatus, 0, python.output())
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(swift.stdout.utf8)) as? [String: Any])
        let jsonLine = try XCTUnwrap(python.output().split(separator: "\n").last { $0.hasPrefix("{") }, python.output())
        let actual = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: Any])
        for field in Self.fields {
            let want = try XCTUnwrap(expected[field] as? [Double], "xright score lacks \(field)")
            let got = try XCTUnwrap(actual[field] as? [Double], "bridge score lacks \(field)")
            XCTAssertEqual(got.count, 48, "\(field): one value per record")
            XCTAssertEqual(got.count, want.count)
            for (i, (g, w)) in zip(got, want).enumerated() {
                XCTAssertLessThanOrEqual(abs(g - w), 1e-4 * abs(w), "\(field)[\(i)]: bridge \(g), xright \(w)")
            }
        }
        // Policy and reference differ, so the DPO losses are not all log 2 and the check has teeth.
        let losses = try XCTUnwrap(actual["dpo_loss"] as? [Double])
        XCTAssertGreaterThan(losses.map { abs($0 - log(2)) }.max() ?? 0, 0.01)
    }
}
