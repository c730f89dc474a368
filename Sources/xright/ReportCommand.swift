import ArgumentParser
import Dashboard
import Foundation
import Training

/// `xright report RUN…`: the runs' figures side by side, as a text table and optionally CSV.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Final and best eval losses, ideal distance, wall time, tokens/s and DPO step share of runs.",
        discussion: """
            Every record of each log is read (a streaming pass; nothing is downsampled). Steps re-run after a \
            resume replace the earlier ones. Ideal distance needs the optima (from --sft-opt/--dpo-opt or \
            optima.json when the run was trained); '-' marks a figure the log cannot give. A run that cannot be \
            read is named on stderr with the reason, the others are still reported, and the exit status is 1.
            """)

    @Argument(help: "Run directories or run.jsonl files.")
    var runs: [String]

    @Option(help: "Also write the table as CSV to this file ('-' for stdout).")
    var csv: String?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one run directory or run.jsonl") }
    }

    func run() throws {
        var summaries: [RunSummary] = []
        var failed = false
        for path in runs {
            do {
                summaries.append(try RunSummary.read(path))
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
        if failed { throw ExitCode(1) }
    }
}
