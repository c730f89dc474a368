import ArgumentParser
import Engine
import Foundation
import Training

/// `xright sweep`: the optimum runs, then strategies × λ, and a table of where each run ended and what it cost.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Train every strategy at every λ and tabulate final eval losses, ideal distance and time.",
        discussion: """
            First the optimum runs (sft-only, dpo-only; skipped when --sft-opt and --dpo-opt are given), whose \
            optima are written to <runs-root>/optima.json; then each λ × each strategy with the given train \
            options (--strategy and --lambda are set per run). Each run is a normal run directory under \
            --runs-root. The table goes to stdout, progress to stderr. Time is the seconds spent in optimizer \
            steps; "vs_sequential" divides it by sft-then-dpo's at the same λ.
            """)

    @OptionGroup var options: TrainArguments

    @OptionGroup var configFile: ConfigFileArguments

    @Option(parsing: .upToNextOption, help: "λ values in [0, 1] (default: 0.01 0.25 0.5 0.75 0.99).")
    var lambdas: [String] = []

    @Option(parsing: .upToNextOption, help: "Strategies (default: alright maxright mix sft-then-dpo dpo-then-sft).")
    var strategies: [String] = []

    @Option(help: "Also write the table as CSV to this file.")
    var csv: String?

    func validate() throws {
        if options.runDir != nil {
            throw ValidationError("sweep makes one run directory per run under --runs-root; --run-dir does not apply")
        }
        do {
            _ = try plannedLambdas()
            _ = try plannedStrategies()
        } catch {
            throw ValidationError(String(describing: error))
        }
    }

    func plannedLambdas() throws -> [Double] {
        lambdas.isEmpty ? SweepRunner.defaultLambdas : try SweepRunner.parseLambdas(lambdas)
    }

    func plannedStrategies() throws -> [StrategyName] {
        strategies.isEmpty ? SweepRunner.defaultStrategies : try SweepRunner.parseStrategies(strategies)
    }

    func run() throws {
        options.engine.configure()
        let root = RunsRoot.resolve(options.runsRoot)
        let base = try options.runOptions()
        let runner = SweepRuns.runner(base: base, root: root)
        var optima = base.training.optima
        if optima == nil {
            let (record, sft, dpo) = try runner.optimum()
            SweepRuns.report(sft)
            SweepRuns.report(dpo)
            let file = OptimaRecord.defaultFile(runsRoot: root)
            try record.write(to: file)
            printErr("optima written to \(file.path)")
            optima = record.optima
        }
        for lambda in try plannedLambdas() {
            for strategy in try plannedStrategies() {
                let note = SequentialSchedule.emptyPhaseNote(strategy: strategy, lambda: try Lambda(lambda),
                                                             epochBudget: base.training.maxEpochs)
                if let note { printErr("warning: \(note)") }
            }
        }
        var runs = [StrategyRunSummary]()
        for lambda in try plannedLambdas() {
            for strategy in try plannedStrategies() {
                let run = try runner.run(strategy, lambda: lambda, optima: optima,
                                         label: "sweep-\(strategy.rawValue)-\(String(format: "%.2f", lambda))")
                SweepRuns.report(run)
                runs.append(run)
            }
        }
        let rows = SweepTable.rows(runs)
        print(SweepTable.text(rows, optima: optima))
        if let csv {
            do { try SweepTable.csv(rows).write(toFile: csv, atomically: true, encoding: .utf8) } catch {
                throw CLIError("\(csv): cannot write the CSV table: \(error.localizedDescription)")
            }
            printErr("table written to \(csv)")
        }
    }
}
