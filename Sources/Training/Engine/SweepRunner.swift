import Foundation

/// The optimum runs and a strategies × λ grid, one run after another in this process, each in its own run
/// directory (`xright optimum`, `xright sweep`, `xright bench strategies`).
public struct SweepRunner {
    public static let defaultLambdas: [Double] = [0.01, 0.25, 0.5, 0.75, 0.99]
    public static let defaultStrategies: [StrategyName] = [.alright, .maxright, .mix, .sftThenDPO, .dpoThenSFT]

    /// Every run's options start from these; strategy, λ and optima are set per run.
    public var base: RunOptions
    public var programVersion: String
    /// A fresh directory for a run, from a label such as "sweep-alright-0.50".
    public var makeRunDirectory: (String) throws -> RunDirectory
    public var progress: (String) -> Void = { _ in }
    /// Called with each finished run (e.g. to save its final model).
    public var afterRun: (PreparedRun) throws -> Void = { _ in }

    public init(base: RunOptions, programVersion: String, makeRunDirectory: @escaping (String) throws -> RunDirectory) {
        self.base = base
        self.programVersion = programVersion
        self.makeRunDirectory = makeRunDirectory
    }

    /// Runs `strategy` at `lambda` with the base options.
    public func run(_ strategy: StrategyName, lambda: Double, optima: Optima?, label: String) throws -> StrategyRunSummary {
        var options = base
        options.training.strategy = strategy
        options.training.lambda = try Lambda(lambda)
        options.training.optima = optima
        if optima == nil { options.training.stopRule = nil }
        let directory = try makeRunDirectory(label)
        return try StrategyRunner.run(options, in: directory, programVersion: programVersion, progress: progress,
                                      afterRun: afterRun)
    }

    /// f_sft* and f_dpo*: the final held-out losses of an sft-only and a dpo-only run.
    public func optimum() throws -> (record: OptimaRecord, sftOnly: StrategyRunSummary, dpoOnly: StrategyRunSummary) {
        let sft = try run(.sftOnly, lambda: 0, optima: nil, label: "optimum-sft-only")
        let dpo = try run(.dpoOnly, lambda: 1, optima: nil, label: "optimum-dpo-only")
        guard let sftOpt = sft.finalSFTLoss, let dpoOpt = dpo.finalDPOLoss else {
            throw SessionSetupError.invalid(what: "optimum", message: "the optimum runs have no held-out evaluation; "
                                            + "set --eval-fraction above 0 so both data sets hold records out")
        }
        let record = OptimaRecord(sftOpt: sftOpt, dpoOpt: dpoOpt, sftRun: sft.runDirectory, dpoRun: dpo.runDirectory,
                                  source: OptimaSource(base))
        return (record, sft, dpo)
    }

    /// Parses "0.01 0.25,0.5": λ values separated by spaces or commas, each in [0, 1].
    public static func parseLambdas(_ texts: [String]) throws -> [Double] {
        let parts = texts.flatMap { $0.split(whereSeparator: { $0 == "," || $0 == " " }) }
        guard !parts.isEmpty else { throw LambdaError.notANumber("") }
        return try parts.map { try Lambda(parsing: String($0)).value }
    }

    public static func parseStrategies(_ texts: [String]) throws -> [StrategyName] {
        let parts = texts.flatMap { $0.split(whereSeparator: { $0 == "," || $0 == " " }) }
        guard !parts.isEmpty else { throw StrategyNameError.unknown("") }
        return try parts.map { try StrategyName(parsing: String($0)) }
    }
}
