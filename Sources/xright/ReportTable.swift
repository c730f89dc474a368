import Dashboard
import Foundation

/// `xright report`'s output: one row per run, as an aligned text table or as CSV (RFC 4180 quoting).
enum ReportTable {
    static let columns = ["run", "strategy", "lambda", "steps", "final_eval_sft", "final_eval_dpo", "best_eval_sft",
                          "best_eval_dpo", "final_ideal_distance", "best_ideal_distance", "final_mc_acc",
                          "final_mc_acc_norm", "wall_seconds", "tokens_per_second", "dpo_step_share", "finished",
                          "corrupt_lines"]
    static let textHeaders = ["run", "strategy", "λ", "steps", "eval SFT", "eval DPO", "best SFT", "best DPO",
                              "ideal dist", "best dist", "MC acc", "MC norm", "wall", "tok/s", "DPO steps", "end", "corrupt"]
    /// Text columns aligned left (names and words); the others are numbers, aligned right.
    static let leftAligned: Set<String> = ["run", "strategy", "end"]

    /// Machine-readable values: full precision, empty when unknown.
    static func values(_ s: RunSummary) -> [String] {
        func number(_ v: Double?) -> String { v.map { String($0) } ?? "" }
        return [s.name, s.strategy.rawValue, number(s.lambda), String(s.steps), number(s.finalEval?.sft),
                number(s.finalEval?.dpo), number(s.bestSFT), number(s.bestDPO), number(s.finalEval?.idealDistance),
                number(s.bestIdealDistance), number(s.finalMultipleChoice?.acc), number(s.finalMultipleChoice?.accNorm),
                number(s.wallSeconds), number(s.tokensPerSecond), number(s.dpoStepShare),
                s.finished?.reason.rawValue ?? "", String(s.problems.corruptCount)]
    }

    /// Readable values: 4 significant digits, '-' when unknown.
    static func cells(_ s: RunSummary) -> [String] {
        func loss(_ v: Double?) -> String { v.map(Format.loss) ?? "-" }
        func percent(_ v: Double?) -> String { v.map { Format.fixed(100 * $0, 1) + "%" } ?? "-" }
        return [s.name, s.strategy.rawValue, Format.fixed(s.lambda, 2), String(s.steps), loss(s.finalEval?.sft),
                loss(s.finalEval?.dpo), loss(s.bestSFT), loss(s.bestDPO), loss(s.finalEval?.idealDistance),
                loss(s.bestIdealDistance), percent(s.finalMultipleChoice?.acc), percent(s.finalMultipleChoice?.accNorm),
                Format.duration(s.wallSeconds), s.tokensPerSecond.map(Format.count) ?? "-",
                s.dpoStepShare.map { Format.fixed(100 * $0, 1) + "%" } ?? "-", s.finished?.reason.rawValue ?? "running?",
                String(s.problems.corruptCount)]
    }

    static func text(_ summaries: [RunSummary]) -> String {
        let rows = [textHeaders] + summaries.map(cells)
        var widths = Array(repeating: 0, count: textHeaders.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                // Names and words left, numbers right.
                leftAligned.contains(textHeaders[i]) ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ").replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression)
        }.joined(separator: "\n") + "\n"
    }

    static func csv(_ summaries: [RunSummary]) -> String {
        func quote(_ field: String) -> String {
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return ([columns] + summaries.map(values)).map { $0.map(quote).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }
}
