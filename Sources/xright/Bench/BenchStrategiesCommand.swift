import ArgumentParser
import Engine
import Foundation
import Training

/// `xright bench strategies`: the paper's comparison on the built-in demo task, in one process.
struct BenchStrategiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategies",
        abstract: "Cost and end point of alright, maxright and mix against sequential training on the demo task.",
        discussion: """
            Runs sft-only and dpo-only for the epoch budget T (the smaller of their step counts becomes every other \
            run's --max-steps), then alright, maxright, mix, sft-then-dpo and dpo-then-sft at λ, all on the demo task and model with \
            the same seed, batch and learning rate. Reports each run's time in optimizer steps relative to \
            sft-then-dpo (goals: alright ≤ 1.05, maxright ≤ 1.10, mix ≈ 2 on a CPU), its final held-out losses \
            and ideal distance; whether sft-then-dpo forgets (held-out f_sft at the end of its SFT phase vs at \
            the end), and whether alright and maxright end closer to the ideal point than both sequential orders.
            """)

    @Option(help: "λ for the joint and sequential runs.")
    var lambda: Double = 0.5

    @Option(help: "Epoch budget T (sequential runs spend (1−λ)·T epochs on SFT, then DPO).")
    var epochs: Int = 2

    @Option(help: "SFT records of the demo task (the preference set gets half as many pairs, so epochs match in steps).")
    var demoExamples: Int = 520

    @Option(help: "SFT sequences per step (DPO: half as many pairs).")
    var batchSize: Int = 16

    @Option(help: "Learning rate (constant).")
    var lr: Float = 3e-3

    @Option(help: "Share of records held out for evaluation.")
    var evalFraction: Double = 0.05

    @Option(help: "Held-out evaluation every N steps.")
    var evalEvery: Int = 8

    @Option(help: "Seed for the model init, data and ALRIGHT's draws.")
    var seed: UInt64 = 0

    @Option(help: "Model preset.")
    var preset: ModelPreset = .demo

    @Option(help: "Where the runs go (default: a new bench-strategies directory under $XRIGHT_RUNS or ./runs).")
    var runsRoot: String?

    /// One thread unless told otherwise: the CPU-time ratios then equal wall-time ratios on an idle machine.
    @OptionGroup var engine: EngineThreadOptions

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    func validate() throws {
        guard lambda.isFinite, (0...1).contains(lambda) else { throw ValidationError("--lambda must be a number in [0, 1], got \(lambda)") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard demoExamples >= 2 else { throw ValidationError("--demo-examples must be at least 2, got \(demoExamples)") }
        guard batchSize >= 2 else { throw ValidationError("--batch-size must be at least 2, got \(batchSize)") }
        guard lr.isFinite, lr > 0 else { throw ValidationError("--lr must be a finite number > 0, got \(lr)") }
        guard evalFraction > 0, evalFraction < 1 else {
            throw ValidationError("--eval-fraction must be in (0, 1): the verdicts need held-out losses, got \(evalFraction)")
        }
        guard evalEvery >= 1 else { throw ValidationError("--eval-every must be at least 1, got \(evalEvery)") }
    }

    func run() throws {
        engine.configure(fallback: 1)
        let root = runsRoot.map { URL(fileURLWithPath: $0) }
            ?? RunsRoot.newRunDirectory(root: RunsRoot.resolve(nil), strategy: "bench-strategies")
        let data = try BenchStrategiesData.write(sftCount: demoExamples, seed: seed, to: root.appendingPathComponent("data"))
        var base = RunOptions(modelPreset: preset.rawValue, modelSeed: seed, sftData: data.sft.path,
                              preferenceData: data.preference.path, demoExamples: demoExamples,
                              evalFraction: evalFraction, dataSeed: seed,
                              batchSize: batchSize, learningRate: lr,
                              training: TrainingConfig(strategy: .sftOnly, lambda: try Lambda(lambda), seed: seed,
                                                       maxEpochs: epochs, evalEvery: evalEvery, checkpointOnFinish: true))
        var runner = SweepRuns.runner(base: base, root: root)

        // The optimum runs take the whole epoch budget of their objective.
        let sftOnly = try runner.run(.sftOnly, lambda: 0, optima: nil, label: "optimum-sft-only")
        SweepRuns.report(sftOnly)
        let dpoOnly = try runner.run(.dpoOnly, lambda: 1, optima: nil, label: "optimum-dpo-only")
        SweepRuns.report(dpoOnly)
        // One step budget for the compared runs: the shorter of T SFT and T DPO epochs. Every strategy reaches
        // it (a sequential run's two phases are at least half of it each), so times compare like for like.
        let budget = min(sftOnly.steps, dpoOnly.steps)
        base.training.maxSteps = budget
        runner.base = base
        guard let sftOpt = sftOnly.finalSFTLoss, let dpoOpt = dpoOnly.finalDPOLoss else {
            throw CLIError("the optimum runs have no held-out evaluation")
        }
        let optima = Optima(sft: sftOpt, dpo: dpoOpt)
        var runs = [StrategyRunSummary]()
        for strategy in StrategyBenchmark.strategies {
            let run = try runner.run(strategy, lambda: lambda, optima: optima,
                                     label: "bench-\(strategy.rawValue)-\(String(format: "%.2f", lambda))")
            SweepRuns.report(run)
            runs.append(run)
        }
        let settings = ["preset": preset.rawValue, "demo_examples": String(demoExamples), "batch_size": String(batchSize),
                        "lr": String(lr), "epochs": String(epochs), "max_steps": String(budget),
                        "eval_every": String(evalEvery), "eval_fraction": String(evalFraction), "seed": String(seed), "lambda": String(lambda),
                        "threads": String(EngineThreads.count), "runs_root": root.path]
        let report = StrategyBenchmark.report(optima: optima, runs: runs, settings: settings)
        if json {
            print(try JSONOutput.string(report))
        } else {
            print(StrategyBenchmark.text(report))
        }
    }
}
