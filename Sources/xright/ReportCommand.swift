import ArgumentParser
import Dashboard
import Foundation
import Training

/// `xright report RUN…`: the runs' figures side by side, as a text table and optionally CSV.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Final and best eval losses, ideal distance, wall time, tokens/s and DPO step share of runs (and an SVG figure).",
        discussion: """
            Every record of each log is read (a streaming pass; nothing is downsampled). Steps re-run after a \
            resume replace the earlier ones. Ideal distance needs the optima (from --sft-opt/--dpo-opt or \
            optima.json when the run was trained); MC acc and MC norm are the newest --eval-suite accuracies (acc, \
            acc_norm) of a run that scored one; '-' marks a figure the log cannot give. A run that cannot be \
            read is named on stderr with the reason, the others are still reported, and the exit status is 1.
            """)

    @Argument(help: "Run directories or run.jsonl files.")
    var runs: [String]

    @Option(help: "Also write the table as CSV to this file ('-' for stdout).")
    var csv: String?

    @Option(help: ArgumentHelp("Also draw the runs as a standalone SVG: the f_sft–f_dpo trade-off plane with each run's evaluations, the optima and the ideal point, and the training losses over steps.",
                               valueName: "out.svg"))
    var svg: String?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one run directory or run.jsonl") }
    }

    func run() throws {
        var summaries: [RunSummary] = []
        var readable: [String] = []
        var failed = false
        for path in runs {
            do {
                summaries.append(try RunSummary.read(path))
                readable.append(path)
            } catch {
                printErr("error: \(error)")
                failed = true
            }
        }
        if !summaries.isEmpty {
            print(ReportTable.text(summaries), terminator: "")
            for s in summaries {
                if let problem = s.problems.corruptSummary { printErr("\(s.name): \(problem)") }
            }
        }
        if let csv {
            let text = ReportTable.csv(summaries)
            if csv == "-" {
                print(text, terminator: "")
            } else {
                do { try Data(text.utf8).write(to: URL(fileURLWithPath: csv), options: .atomic) } catch {
                    throw CLIError("\(csv): cannot write the CSV: \((error as NSError).localizedDescription)")
                }
            }
        }
        if let svg, !readable.isEmpty {
            if !(try writeSVG(readable, to: svg)) { failed = true }
        }
        if failed { throw ExitCode(1) }
    }

    /// Draws the runs that have something to plot; false when one had nothing (named on stderr).
    private func writeSVG(_ paths: [String], to output: String) throws -> Bool {
        var curves = [ReportCurves](), complete = true
        for path in paths {
            let run = try ReportCurves.read(path)
            if run.isEmpty {
                printErr("error: \(run.name): nothing to plot (its log has no training steps and no evaluations)")
                complete = false
            } else {
                curves.append(run)
            }
        }
        guard !curves.isEmpty else { throw CLIError("\(output): not written: none of the runs has anything to plot") }
        do { try Data(ReportSVG.document(curves).utf8).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw CLIError("\(output): cannot write the SVG: \((error as NSError).localizedDescription)")
        }
        return complete
    }
}
