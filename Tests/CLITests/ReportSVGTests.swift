import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import Training
import XCTest

/// `xright report RUN… --svg OUT.svg`: a well-formed standalone SVG whose plotted points are the logs' values,
/// placed by the scale each plot area declares; logs with nothing to plot are clear errors.
final class ReportSVGTests: XCTestCase {
    private static let tiny = ["--preset", "tiny", "--demo-examples", "400", "--batch-size", "4", "--threads", "1"]

    private func train(_ name: String, in dir: URL, _ extra: [String] = []) throws -> URL {
        let run = dir.appendingPathComponent(name)
        let result = try XRightProcess.run(["train", "--headless", "--max-steps", "12", "--eval-every", "4",
                                            "--epochs", "10", "--sft-opt", "2.5", "--dpo-opt", "0.6", "--run-dir", run.path]
                                           + Self.tiny + extra, in: dir)
        XCTAssertEqual(result.status, 0, result.transcript)
        return run
    }

    /// Every element of the SVG, with its attributes, in document order (XMLParser fails on malformed XML).
    private final class Elements: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String])] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append((name, attributes))
        }
    }

    private func parse(_ file: URL) throws -> [(name: String, attributes: [String: String])] {
        let parser = try XCTUnwrap(XMLParser(contentsOf: file))
        let delegate = Elements()
        parser.delegate = delegate
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))")
        return delegate.elements
    }

    private func logged(_ run: URL) throws -> (evals: [EvalEvent], steps: [StepEvent]) {
        let records = try RunLogReader.read(run.appendingPathComponent("run.jsonl")).records
        return (records.compactMap { if case .eval(let e) = $0.event { return e } else { return nil } },
                records.compactMap { if case .step(let s) = $0.event { return s } else { return nil } })
    }

    private func double(_ attributes: [String: String], _ key: String) throws -> Double {
        try XCTUnwrap(attributes[key].flatMap(Double.init), "attribute \(key) in \(attributes)")
    }

    /// The pixel a value maps to in a plot area, from the area's declared domain and bounds.
    private func pixel(_ value: Double, area: [String: String], axis: String) throws -> Double {
        let (lo, hi) = (try double(area, "data-\(axis)-min"), try double(area, "data-\(axis)-max"))
        let (from, to) = axis == "x" ? (try double(area, "data-left"), try double(area, "data-right"))
                                     : (try double(area, "data-bottom"), try double(area, "data-top"))
        return from + (value - lo) / (hi - lo) * (to - from)
    }

    func test_svg_isWellFormed_andItsPointsAreTheLogsValues() throws {
        let dir = try scratchDirectory()
        let a = try train("a", in: dir), b = try train("b&co", in: dir, ["--strategy", "mix", "--lambda", "0.25"])
        let out = dir.appendingPathComponent("report.svg")
        let result = try XRightProcess.run(["report", a.path, b.path, "--svg", out.path], in: dir)
        XCTAssertEqual(result.status, 0, result.transcript)
        let elements = try parse(out)
        XCTAssertEqual(elements.first?.name, "svg")
        XCTAssertEqual(elements.first?.attributes["xmlns"], "http://www.w3.org/2000/svg")
        XCTAssertFalse(elements.contains { $0.name == "script" || $0.name == "image" }, "a standalone figure")

        let plane = try XCTUnwrap(elements.first { $0.attributes["class"] == "tradeoff" }?.attributes)
        for (run, name) in [(a, "a"), (b, "b&co")] {
            let evals = try logged(run).evals
            XCTAssertEqual(evals.count, 4, "evaluations at steps 1, 4, 8, 12")
            let circles = elements.filter { $0.attributes["class"] == "eval" && $0.attributes["data-run"] == name }.map(\.attributes)
            XCTAssertEqual(circles.map { $0["data-step"] }, evals.map { String($0.step) })
            for (circle, eval) in zip(circles, evals) {
                XCTAssertEqual(try double(circle, "data-sft"), eval.sft?.loss)
                XCTAssertEqual(try double(circle, "data-dpo"), eval.dpo?.loss)
                XCTAssertEqual(try double(circle, "cx"), try pixel(eval.sft!.loss, area: plane, axis: "x"), accuracy: 0.01)
                XCTAssertEqual(try double(circle, "cy"), try pixel(eval.dpo!.loss, area: plane, axis: "y"), accuracy: 0.01)
            }
            // Training losses: every step that computed the objective, in order, at its place on the chart.
            for objective in ["sft", "dpo"] {
                let steps = try logged(run).steps.filter { (objective == "sft" ? $0.sft : $0.dpo) != nil }
                let line = try XCTUnwrap(elements.first {
                    $0.attributes["class"] == "loss" && $0.attributes["data-run"] == name && $0.attributes["data-objective"] == objective
                }?.attributes, "\(name) \(objective)")
                let area = try XCTUnwrap(elements.first {
                    $0.attributes["class"] == "losses" && $0.attributes["data-objective"] == objective
                }?.attributes)
                let values = steps.map { (objective == "sft" ? $0.sft : $0.dpo)!.loss }
                XCTAssertEqual(line["data-steps"], steps.map { String($0.step) }.joined(separator: " "))
                XCTAssertEqual(line["data-values"], values.map { String($0) }.joined(separator: " "))
                let points = try XCTUnwrap(line["points"]).split(separator: " ").map { $0.split(separator: ",").map { Double($0)! } }
                XCTAssertEqual(points.count, steps.count)
                for (point, (step, value)) in zip(points, zip(steps, values)) {
                    XCTAssertEqual(point[0], try pixel(Double(step.step), area: area, axis: "x"), accuracy: 0.01)
                    XCTAssertEqual(point[1], try pixel(value, area: area, axis: "y"), accuracy: 0.01)
                }
            }
        }
        // The optima both runs were given, and the ideal point where they meet.
        let ideal = try XCTUnwrap(elements.first { $0.attributes["class"] == "ideal" }?.attributes)
        XCTAssertEqual(try double(ideal, "data-sft"), 2.5)
        XCTAssertEqual(try double(ideal, "data-dpo"), 0.6)
        XCTAssertEqual(elements.filter { $0.attributes["class"] == "optimum" }.count, 2)
        // Every eval point lies inside its plot area; ticks label the axes.
        for circle in elements.filter({ $0.attributes["class"] == "eval" }).map(\.attributes) {
            XCTAssertTrue((try double(plane, "data-left")...(try double(plane, "data-right"))).contains(try double(circle, "cx")))
            XCTAssertTrue((try double(plane, "data-top")...(try double(plane, "data-bottom"))).contains(try double(circle, "cy")))
        }
        XCTAssertGreaterThanOrEqual(elements.filter { $0.attributes["class"] == "tick" }.count, 12)
        XCTAssertEqual(elements.filter { $0.attributes["class"] == "legend-entry" }.map { $0.attributes["data-run"] }, ["a", "b&co"])
    }

    func test_longRunNames_getLegendColumnsWideEnoughNotToOverlap() throws {
        let dir = try scratchDirectory()
        let source = try train("a", in: dir)
        // Run directory names as a sweep writes them are long; three in a row at a fixed 300 px overlapped.
        let names = ["20261201-063059-optimum-sft-only", "20261201-063425-optimum-dpo-only", "20261201-063926-sweep-alright-0.50"]
        let runs = try names.map { name -> URL in
            let copy = dir.appendingPathComponent(name)
            try FileManager.default.copyItem(at: source, to: copy)
            return copy
        }
        let out = dir.appendingPathComponent("long.svg")
        let result = try XRightProcess.run(["report"] + runs.map(\.path) + ["--svg", out.path], in: dir)
        XCTAssertEqual(result.status, 0, result.transcript)
        let entries = try parse(out).filter { $0.attributes["class"] == "legend-entry" }.map(\.attributes)
        XCTAssertEqual(entries.map { $0["data-run"] }, names)
        // Entries sharing a row are at least a label's estimated width apart (7 px a character at 12 px, plus the
        // " (alright, λ = 0.5)" suffix).
        let rows = Dictionary(grouping: entries) { $0["y"] ?? "" }
        for row in rows.values where row.count > 1 {
            let xs = try row.map { try double($0, "x") }.sorted()
            for (left, right) in zip(xs, xs.dropFirst()) {
                XCTAssertGreaterThanOrEqual(right - left, Double(names[0].count + 18) * 7, "legend entries overlap: \(row)")
            }
        }
        XCTAssertGreaterThan(Set(entries.map { $0["y"] }).count, 1, "three long labels do not fit one 900 px row")
    }

    func test_aLogWithNothingToPlot_isAClearError() throws {
        let dir = try scratchDirectory()
        let run = try train("a", in: dir)
        // Keep only the header: a run that stopped before its first step.
        let log = run.appendingPathComponent("run.jsonl")
        let header = try XCTUnwrap(try String(contentsOf: log, encoding: .utf8).split(separator: "\n").first)
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try (header + "\n").write(to: empty.appendingPathComponent("run.jsonl"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.svg")

        let alone = try XRightProcess.run(["report", empty.path, "--svg", out.path], in: dir)
        XCTAssertNotEqual(alone.status, 0)
        XCTAssertTrue(alone.stderr.contains("empty: nothing to plot"), alone.transcript)
        XCTAssertTrue(alone.stderr.contains("none of the runs has anything to plot"), alone.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))

        // Beside a run that has data, the figure is drawn and the empty one is named; the exit status says so.
        let mixed = try XRightProcess.run(["report", run.path, empty.path, "--svg", out.path], in: dir)
        XCTAssertEqual(mixed.status, 1, mixed.transcript)
        XCTAssertTrue(mixed.stderr.contains("empty: nothing to plot"), mixed.transcript)
        XCTAssertTrue(try parse(out).contains { $0.attributes["class"] == "eval" })
    }

    func test_notARunLog_isAClearError() throws {
        let dir = try scratchDirectory()
        let odd = dir.appendingPathComponent("odd.jsonl")
        try "{\"hello\": 1}\n".write(to: odd, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.svg")
        let result = try XRightProcess.run(["report", odd.path, "--svg", out.path], in: dir)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("odd.jsonl line 1: expected the run header"), result.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
