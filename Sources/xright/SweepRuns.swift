import Foundation
import Training

/// What `xright optimum`, `xright sweep` and `xright bench strategies` share: run directories under a runs root,
/// progress on stderr, a final model per run.
enum SweepRuns {
    static func runner(base: RunOptions, root: URL) -> SweepRunner {
        var runner = SweepRunner(base: base, programVersion: XRightVersion.string) { label in
            let directory = RunDirectory(RunsRoot.newRunDirectory(root: root, strategy: label))
            try directory.create()
            printErr("run directory: \(directory.url.path)")
            return directory
        }
        let progress = ProgressLine()
        runner.progress = { progress.update($0) }
        runner.afterRun = { prepared in
            progress.finish()
            guard let directory = prepared.session.runDirectory else { return }
            try TrainRunner.saveFinalModel(prepared, directory)
        }
        return runner
    }

    static func report(_ run: StrategyRunSummary) {
        func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "-" }
        printErr("  \(run.strategy) λ=\(run.lambda): \(run.steps) steps in \(String(format: "%.1f", run.trainSeconds)) s; "
                 + "f_sft \(f(run.finalSFTLoss)), f_dpo \(f(run.finalDPOLoss)), ideal distance \(f(run.idealDistance))")
    }
}
