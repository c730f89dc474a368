import Foundation
import TestSupport
import XCTest

/// `xright score --json` against values from Python transformers (scripts/goldens/make_score_goldens.py):
/// per-record SFT loss, policy and reference log-probs of chosen and rejected, and the DPO loss (β = 0.1).
final class ScoreGoldenTests: XCTestCase {
    static let fields = ["sft_loss", "chosen_logp", "rejected_logp", "ref_chosen_logp", "ref_rejected_logp", "dpo_loss"]

    func test_score_matchesTransformersWithinOneInTenThousand() throws {
        let fixtures = TestPaths.fixture("CLITests", "score")
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: fixtures.appendingPathComponent("expected.json"))) as? [String: Any])
        let r = try XRightProcess.run([
            "score", "--model", fixtures.appendingPathComponent("policy").path,
            "--ref-model", fixtures.appendingPathComponent("reference").path,
            "--tokenizer", TestPaths.fixture("TextTests", "tiny_bpe_tokenizer.json").path,
            "--sft", fixtures.appendingPathComponent("sft.jsonl").path,
            "--pref", fixtures.appendingPathComponent("pref.jsonl").path,
            "--beta", "0.1", "--json"], in: scratchDirectory())
        XCTAssertEqual(r.status, 0, r.transcript)
        let actual = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.transcript)
        for field in Self.fields {
            let want = try XCTUnwrap(expected[field] as? [Double], "expected.json lacks \(field)")
            let got = try XCTUnwrap(actual[field] as? [Double], "score output lacks \(field): \(r.stdout)")
            XCTAssertEqual(got.count, want.count, "\(field): one value per record")
            for (i, (g, w)) in zip(got, want).enumerated() {
                XCTAssertLessThanOrEqual(abs(g - w), 1e-4 * abs(w), "\(field)[\(i)]: xright \(g), transformers \(w)")
            }
        }
        // A different reference must show: the goldens are not all policy == reference.
        XCTAssertNotEqual(actual["chosen_logp"] as? [Double], actual["ref_chosen_logp"] as? [Double])
    }
}
