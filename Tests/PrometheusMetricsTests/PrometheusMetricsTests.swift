import Foundation
import PrometheusMetrics
import TestSupport
import Training
import XCTest

/// A run's figures in the Prometheus text format, served on 127.0.0.1 and scraped over a real socket.
final class PrometheusMetricsTests: XCTestCase {
    private func records(_ lines: [String]) throws -> [RunRecord] {
        let dir = try TestPaths.temporaryDirectory("xright-metrics")
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("run.jsonl")
        let header = #"{"config":{"checkpointEvery":10,"checkpointOnFinish":true,"evalEvery":5,"lambda":0.5,"maxConsecutiveNonFinite":3,"maxEpochs":2,"maxEvalSteps":10,"maxSteps":12,"seed":42,"strategy":"maxright"},"createdAt":"2026-11-26T12:36:34Z","dataFingerprints":{},"modelFingerprint":"m","plannedSteps":12,"programVersion":"0.1.0","schema":"1.1","seed":42,"settings":{},"type":"header"}"#
        try ([header] + lines).joined(separator: "\n").appending("\n").write(to: log, atomically: true, encoding: .utf8)
        return try RunLogReader.read(log).records
    }

    static let events = [
        #"{"elapsedSeconds":1,"epoch":0,"gaps":{"dpo":4.75,"sft":7.25},"gapsEvaluated":true,"gradientNorm":6.125,"lambda":0.5,"learningRate":0.05,"objectives":["sft"],"sft":{"loss":1.5,"tokens":100},"step":1,"stepSeconds":0.5,"strategy":"maxright","time":1,"tokens":300,"tokensPerSecond":600,"type":"step","updateApplied":true}"#,
        #"{"dpo":{"loss":0.75,"preference":{"chosenReward":-1.5,"margin":2.5,"rejectedReward":-4,"rewardAccuracy":1},"tokens":100},"elapsedSeconds":2,"epoch":0,"gradientNorm":3.5,"lambda":0.5,"learningRate":0.05,"objectives":["dpo"],"step":2,"stepSeconds":0.5,"strategy":"maxright","time":2,"tokens":200,"tokensPerSecond":400,"type":"step","updateApplied":true}"#,
        #"{"dpo":{"loss":0.625,"tokens":1000},"idealDistance":2.25,"seconds":0.1,"sft":{"loss":1.25,"tokens":1000},"step":2,"time":2.1,"type":"eval"}"#,
        #"{"command":{"lambda":0.25,"name":"set-lambda"},"step":2,"time":2.2,"type":"command-applied"}"#,
        #"{"from":0.5,"step":2,"time":2.2,"to":0.25,"type":"lambda-changed"}"#,
        #"{"kind":"non-finite-gradient","message":"skipped","step":2,"time":2.3,"type":"warning"}"#,
    ]

    /// `name{labels} value` lines of an exposition.
    private func samples(_ text: String) -> [String: String] {
        var values = [String: String]()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            values[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return values
    }

    func test_events_becomeGaugesAndCounters_labelledWithTheRun() throws {
        let metrics = RunMetrics(run: "r1")
        for record in try records(Self.events) { metrics.observe(record) }
        let text = metrics.exposition()
        let values = samples(text)
        XCTAssertEqual(values[#"xright_step{run="r1"}"#], "2.0", text)
        XCTAssertEqual(values[#"xright_lambda{run="r1"}"#], "0.25", text)
        XCTAssertEqual(values[#"xright_loss{run="r1",objective="sft"}"#], "1.5", text)
        XCTAssertEqual(values[#"xright_loss{run="r1",objective="dpo"}"#], "0.75", text)
        XCTAssertEqual(values[#"xright_gradient_norm{run="r1"}"#], "3.5", text)
        XCTAssertEqual(values[#"xright_tokens_per_second{run="r1"}"#], "400.0", text)
        XCTAssertEqual(values[#"xright_dpo_margin{run="r1"}"#], "2.5", text)
        XCTAssertEqual(values[#"xright_maxright_gap{run="r1",objective="sft"}"#], "7.25", text)
        XCTAssertEqual(values[#"xright_eval_loss{run="r1",objective="dpo"}"#], "0.625", text)
        XCTAssertEqual(values[#"xright_eval_ideal_distance{run="r1"}"#], "2.25", text)
        XCTAssertEqual(values[#"xright_objective_steps_total{run="r1",objective="sft"}"#], "1", text)
        XCTAssertEqual(values[#"xright_objective_steps_total{run="r1",objective="dpo"}"#], "1", text)
        XCTAssertEqual(values[#"xright_tokens_total{run="r1"}"#], "500", text)
        XCTAssertEqual(values[#"xright_warnings_total{run="r1"}"#], "1", text)
        XCTAssertEqual(values[#"xright_commands_total{run="r1",result="applied"}"#], "1", text)
        XCTAssertTrue(text.contains("# TYPE xright_tokens_total counter"), text)
        XCTAssertTrue(text.contains("# TYPE xright_loss gauge"), text)
    }

    func test_server_answersAScrapeOnLoopback_andRefusesWhatItDoesNotServe() throws {
        let metrics = RunMetrics(run: "r1")
        for record in try records(Self.events) { metrics.observe(record) }
        let server = try MetricsServer(port: 0) { metrics.exposition() }
        defer { server.close() }
        XCTAssertNotEqual(server.port, 0)

        let scrape = try ScrapeClient.get("/metrics", port: server.port)
        XCTAssertEqual(scrape.status, 200, scrape.headers)
        XCTAssertTrue(scrape.headers.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"), scrape.headers)
        XCTAssertEqual(scrape.body, metrics.exposition())
        XCTAssertTrue(scrape.headers.contains("Content-Length: \(scrape.body.utf8.count)"), scrape.headers)

        XCTAssertEqual(try ScrapeClient.get("/other", port: server.port).status, 404)
        XCTAssertEqual(try ScrapeClient.send("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", port: server.port).status, 405)
        XCTAssertEqual(try ScrapeClient.send("hello\r\n\r\n", port: server.port).status, 400)
        let head = try ScrapeClient.send("HEAD /metrics HTTP/1.1\r\n\r\n", port: server.port)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, "")
        // Still serving after the odd requests.
        XCTAssertEqual(try ScrapeClient.get("/metrics", port: server.port).status, 200)

        server.close()
        XCTAssertThrowsError(try ScrapeClient.get("/metrics", port: server.port), "still listening after close")
    }

    func test_portInUse_isRefusedNamingIt() throws {
        let first = try MetricsServer(port: 0) { "" }
        defer { first.close() }
        XCTAssertThrowsError(try MetricsServer(port: first.port) { "" }) { error in
            XCTAssertEqual(String(describing: error), "127.0.0.1:\(first.port): cannot serve metrics (Address already in use)")
        }
    }
}
