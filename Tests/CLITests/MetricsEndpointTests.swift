import Foundation
import TestSupport
import XCTest

/// `xright train --metrics-port N`: a Prometheus scrape of the live run on 127.0.0.1.
final class MetricsEndpointTests: XCTestCase {
    func test_liveRun_servesItsFiguresToAScrape() throws {
        let dir = try scratchDirectory()
        let (process, _, stderr) = try XRightProcess.start(["train", "--run-dir", "live", "--metrics-port", "0", "--lambda", "0.25",
                                                            "--headless", "--epochs", "10000"] + TinyRun.options, in: dir)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        // The port the system chose, from the line the run prints, then a scrape once steps are counted.
        var port: UInt16?
        var body = ""
        let deadline = Date(timeIntervalSinceNow: 120)
        while Date() < deadline && process.isRunning {
            let text = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
            if port == nil, let range = text.range(of: "metrics: http://127.0.0.1:") {
                port = UInt16(text[range.upperBound...].prefix { $0.isNumber })
            }
            if let port {
                let scrape = try ScrapeClient.get("/metrics", port: port)
                XCTAssertEqual(scrape.status, 200, scrape.headers)
                body = scrape.body
                if body.contains(#"xright_objective_steps_total{run="live",objective="sft"}"#) && body.contains("xright_tokens_total{run=\"live\"} ")
                    && !body.contains("xright_tokens_total{run=\"live\"} 0\n") { break }
            }
            usleep(200_000)
        }
        XCTAssertNotNil(port, "the run printed no metrics address")
        XCTAssertTrue(body.contains(#"xright_lambda{run="live"} 0.25"#), body)
        XCTAssertTrue(body.contains("# TYPE xright_step gauge"), body)
        let step = body.split(separator: "\n").first { $0.hasPrefix(#"xright_step{run="live"} "#) }
        XCTAssertGreaterThan(Double(step?.split(separator: " ").last ?? "") ?? 0, 0, body)

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 143, "a run stopped by SIGTERM exits as shells expect")
    }

    func test_badPort_isRefused() throws {
        let dir = try scratchDirectory()
        let r = try XRightProcess.run(["train", "--metrics-port", "70000"] + TinyRun.options, in: dir, timeout: 30)
        assertRefused(r, mentioning: ["--metrics-port must be a TCP port in 0…65535"])
    }
}
