import Foundation
import TestSupport
import XCTest

/// `xright data check` on a multi-turn conversation file prints its turns and the masked share.
final class DataCheckConversationTests: XCTestCase {
    func test_dataCheck_onConversations_printsTurnsAndMaskedShare() throws {
        let dir = try scratchDirectory()
        let file = TestPaths.fixture("DataTests", "conversations.jsonl").path
        let r = try XRightProcess.run(["data", "check", file, "--tokenizer", "byte"], in: dir, timeout: 30)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.stdout.contains("format sharegpt-sft, SFT examples"), r.transcript)
        XCTAssertTrue(r.stdout.contains("turns: 11 messages in 3 conversations  trained replies: 5"), r.transcript)
        XCTAssertTrue(r.stdout.contains("masked share: "), r.transcript)
    }
}
