import Foundation
import Remote
import TestSupport
import Training
import XCTest

/// `xright ls` on logs it cannot read (issue #18, finding 9): it says what the log is, instead of calling the run
/// "crashed" as though it had been seen training.
final class RunListingTests: XCTestCase {
    func test_emptyGarbageAndUnknownSchemaLogs_areListedAsWhatTheyAre() throws {
        let root = try TestPaths.temporaryDirectory("xright-ls")
        defer { try? FileManager.default.removeItem(at: root) }
        func run(_ name: String, log: String) throws {
            let dir = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data(log.utf8).write(to: dir.appendingPathComponent("run.jsonl"))
        }
        try run("empty", log: "")
        try run("garbage", log: "\u{1}\u{2}not json at all\n")
        try run("future", log: #"{"type":"header","schema":"9.0","createdAt":"2026-01-01T00:00:00Z"}"# + "\n")

        let listed = Dictionary(uniqueKeysWithValues: try RunCatalog.list(root: root).map { ($0.name, $0.report) })
        XCTAssertEqual(listed["empty"]?.state, .unreadable)
        XCTAssertEqual(listed["empty"]?.problem, "empty log")
        XCTAssertEqual(listed["garbage"]?.state, .unreadable)
        XCTAssertEqual(listed["garbage"]?.problem, "not a run log")
        XCTAssertEqual(listed["future"]?.state, .unreadable)
        XCTAssertEqual(listed["future"]?.problem, "schema 9.0, unsupported")

        let ls = try Binary.run(["ls", "--runs-root", root.path])
        XCTAssertEqual(ls.status, 0, ls.stderr)
        XCTAssertFalse(ls.stdout.contains("crashed"), ls.stdout)
        for expected in ["empty log", "not a run log", "schema 9.0, unsupported"] {
            XCTAssertTrue(ls.stdout.contains(expected), "ls should say '\(expected)':\n\(ls.stdout)")
        }
    }
}
