import Foundation
import XCTest

/// Every subcommand documents itself: `--help` prints its usage and exits 0.
final class HelpTests: XCTestCase {
    static let commands: [[String]] = [
        [], ["demo"], ["train"], ["optimum"], ["sweep"], ["score"], ["data"], ["data", "check"],
        ["bench"], ["bench", "engine"], ["bench", "tokenizer"], ["bench", "strategies"],
    ]

    func test_help_exitsZeroWithUsageOnEverySubcommand() throws {
        let dir = try scratchDirectory()
        for command in Self.commands {
            let r = try XRightProcess.run(command + ["--help"], in: dir, timeout: 30)
            let name = (["xright"] + command).joined(separator: " ")
            XCTAssertEqual(r.status, 0, "\(name) --help\n\(r.transcript)")
            XCTAssertTrue(r.stdout.contains("USAGE: \(name)"), "\(name) --help prints no usage line:\n\(r.transcript)")
        }
    }
}
