import ArgumentParser
import Engine
import Foundation
import Training

/// `xright optimum`: f_sft* and f_dpo* from an sft-only and a dpo-only run with the given train options.
struct OptimumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimum",
        abstract: "Measure the optima f_sft* and f_dpo* (final held-out losses of sft-only and dpo-only runs).",
        discussion: """
            Runs sft-only, then dpo-only, each with the given train options (--strategy and --lambda are set per \
            run), in run directories under --runs-root. Prints the optima and writes them to --output (default \
            <runs-root>/optima.json), which `xright train` and `xright sweep` read when --sft-opt/--dpo-opt are \
            not given and the model and data match.
            """)

    @OptionGroup var options: TrainArguments

    @OptionGroup var configFile: ConfigFileArguments

    @Option(help: "Where to write the optima JSON (default: <runs-root>/optima.json).")
    var output: String?

    func validate() throws {
        if options.runDir != nil {
            throw ValidationError("optimum makes one run directory per run under --runs-root; --run-dir does not apply")
        }
    }

    func run() throws {
        options.engine.configure()
        let root = RunsRoot.resolve(options.runsRoot)
        let runner = SweepRuns.runner(base: try options.runOptions(), root: root)
        let (record, sft, dpo) = try runner.optimum()
        SweepRuns.report(sft)
        SweepRuns.report(dpo)
        let file = output.map { URL(fileURLWithPath: $0) } ?? OptimaRecord.defaultFile(runsRoot: root)
        try record.write(to: file)
        printErr("optima written to \(file.path)")
        print(String(format: "f_sft* = %.6f\nf_dpo* = %.6f", record.sftOpt, record.dpoOpt))
    }
}
