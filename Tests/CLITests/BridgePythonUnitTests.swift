import Foundation
import TestSupport
import XCTest

/// The bridge's own unit tests (integrations/pytorch/tests: data readers and their errors, the run log encoding,
/// the socket protocol and its refusals, the generators against the Swift ones), run with python's unittest.
final class BridgePythonUnitTests: XCTestCase {
    func test_bridgeUnitTests_pass() throws {
        let scratch = try scratchDirectory()
        let tests = BridgePython.packageDirectory.appendingPathComponent("tests")
        let run = try BridgePython.start(["-m", "unittest", "discover", "-s", tests.path, "-t", tests.path], in: scratch)
        try BridgePython.waitForExit(run, timeout: 120)
        let output = run.output()
        XCTAssertEqual(run.process.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("OK"), output)
        XCTAssertFalse(output.contains("Ran 0 tests"), output)
    }
}
