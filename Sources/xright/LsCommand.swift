import ArgumentParser
import Foundation
import Remote
import Training

/// `xright ls`: the runs under the runs root and how each is doing.
struct LsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List runs with their state (live, finished, crashed, or what is wrong with the log), strategy, λ, step, last losses and age.",
        discussion: "Live runs answer over their socket; the others are read from run.jsonl. Stale sockets are removed.")

    @Option(help: "Where runs are (default: $XRIGHT_RUNS or ./runs).")
    var runsRoot: String?

    @Flag(help: "One JSON object per run, one per line.")
    var json = false

    func run() throws {
        let root = RunsRoot.resolve(runsRoot)
        let runs = try RunCatalog.list(root: root)
        if json {
            let encoder = RunLogCoding.makeEncoder()
            for run in runs { print(String(decoding: try encoder.encode(run.report), as: UTF8.self)) }
            return
        }
        guard !runs.isEmpty else {
            print("no runs under \(root.path)")
            return
        }
        let now = Date()
        let iso = ISO8601DateFormatter()
        var rows = [["RUN", "STATE", "STRATEGY", "λ", "STEP", "F_SFT", "F_DPO", "AGE"]]
        for run in runs {
            let r = run.report
            let state = r.state.isLive ? (r.state == .paused ? "live (paused)" : "live") : r.problem ?? r.state.rawValue
            let age = r.createdAt.flatMap(iso.date(from:)).map { HeadlessProgress.duration(now.timeIntervalSince($0)) } ?? "-"
            rows.append([run.name, state, r.strategy ?? "-", r.lambda.map { String(format: "%.2f", $0) } ?? "-",
                         "\(r.step)" + (r.plannedSteps.map { "/\($0)" } ?? ""), Self.loss(r.losses.sft), Self.loss(r.losses.dpo), age])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces))
        }
    }

    static func loss(_ value: Double?) -> String {
        value.map { $0.isFinite ? String(format: "%.4f", $0) : String($0) } ?? "-"
    }
}
