import Foundation
import TestSupport
import XCTest

/// The bridge's own unit tests (integrations/pytorch/tests: data readers and their errors, the run log encoding,
/// the socket protocol and its refusals, the generators against the Swift ones, chat templates against the shared
/// goldens, bf16-mixed precision, FSDP sharding on two processes), run with python's unittest.
final class BridgePythonUnitTests: XCTestCase {
    func test_bridgeUnitTests_pass() throws {
        let scratch = try scratchDirectory()
        let tests = BridgePython.packageDirectory.appendingPathComponent("tests")
        let run = try BridgePython.start(["-m", "unittest", "discover", "-s", tests.path, "-t", tests.path], in: scratch)
        // Includes two-process FSDP runs (test_sharding.py), slow on a busy 2-core machine; each rank there gives
        // up after 600 s of its own.
        try BridgePython.waitForExit(run, timeout: 900)
        let output = run.output()
        XCTAssertEqual(run.process.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("OK"), output)
        XCTAssertFalse(output.contains("Ran 0 tests"), output)
    }
}
