import Foundation

/// One line of the sweep's table.
public struct SweepRow: Codable, Equatable, Sendable {
    public var strategy: StrategyName
    public var lambda: Double
    public var steps: Int
    public var sftLoss: Double?
    public var dpoLoss: Double?
    public var idealDistance: Double?
    public var trainSeconds: Double
    public var trainCPUSeconds: Double
    public var wallSeconds: Double
    /// trainCPUSeconds over sft-then-dpo's at the same λ (nil when that run is not in the sweep): CPU time,
    /// since other processes on a shared machine distort wall time.
    public var timeVsSequential: Double?
    public var runDirectory: String
}

/// The sweep's table: final held-out losses, ideal distance, time, and time relative to sequential training.
public enum SweepTable {
    public static func rows(_ runs: [StrategyRunSummary]) -> [SweepRow] {
        runs.map { run in
            let sequential = runs.first { $0.strategy == .sftThenDPO && $0.lambda == run.lambda }
            return SweepRow(strategy: run.strategy, lambda: run.lambda, steps: run.steps, sftLoss: run.finalSFTLoss,
                            dpoLoss: run.finalDPOLoss, idealDistance: run.idealDistance,
                            trainSeconds: run.trainSeconds, trainCPUSeconds: run.trainCPUSeconds, wallSeconds: run.wallSeconds,
                            timeVsSequential: sequential.flatMap { $0.trainCPUSeconds > 0 ? run.trainCPUSeconds / $0.trainCPUSeconds : nil },
                            runDirectory: run.runDirectory)
        }
    }

    static let columns = ["strategy", "lambda", "steps", "f_sft", "f_dpo", "ideal_distance", "train_s", "train_cpu_s", "wall_s",
                          "vs_sequential", "run_dir"]

    private static func cells(_ r: SweepRow, missing: String) -> [String] {
        func f(_ x: Double?, _ digits: Int) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? missing }
        return [r.strategy.rawValue, f(r.lambda, 2), String(r.steps), f(r.sftLoss, 4), f(r.dpoLoss, 4),
                f(r.idealDistance, 4), f(r.trainSeconds, 2), f(r.trainCPUSeconds, 2), f(r.wallSeconds, 2), f(r.timeVsSequential, 3),
                r.runDirectory]
    }

    /// Aligned columns; `optima` heads the table when known.
    public static func text(_ rows: [SweepRow], optima: Optima?) -> String {
        var lines = [String]()
        if let o = optima { lines.append(String(format: "optima: f_sft* = %.4f, f_dpo* = %.4f", o.sft, o.dpo)) }
        let body = [columns] + rows.map { cells($0, missing: "-") }
        let widths = columns.indices.map { c in body.map { $0[c].count }.max() ?? 0 }
        for row in body {
            lines.append(row.indices.map { c in
                c == row.count - 1 ? row[c] : row[c].padding(toLength: widths[c], withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    /// RFC 4180: a field with a comma, quote or newline is quoted, quotes doubled. Missing values are empty.
    public static func csv(_ rows: [SweepRow]) -> String {
        func quote(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        return ([columns] + rows.map { cells($0, missing: "") }).map { $0.map(quote).joined(separator: ",") }
            .joined(separator: "\n") + "\n"
    }
}
