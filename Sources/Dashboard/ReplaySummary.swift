import Foundation
import Training

/// A run's figures for `xright report`, folded from every record of its log (never from the display's
/// downsampled copy): final and best held-out losses, ideal distance, wall time, throughput, DPO step share.
///
/// The figures are read from `RunProgress`, the one fold of run records (a resume's re-run steps supersede the
/// earlier ones there).
public struct RunSummary: Equatable, Sendable {
    public var name: String
    public var header: RunHeader
    public var strategy: StrategyName
    /// λ at the end of the run (it may have been changed while it ran).
    public var lambda: Double
    public var steps: Int
    public var finalEval: EvalFigures?
    public var bestSFT: Double?
    public var bestDPO: Double?
    public var bestIdealDistance: Double?
    /// Seconds since the run began at its last record.
    public var wallSeconds: Double
    /// Tokens of all steps over the steps' own seconds (evaluations and pauses excluded).
    public var tokensPerSecond: Double?
    /// Steps whose update included DPO (mix steps count), over all steps.
    public var dpoStepShare: Double?
    public var finished: RunFinished?
    public var problems: RunLogProblems
    /// The newest evaluation's `--eval-suite` figures (the latest eval that scored the suite); nil without one.
    public var finalMultipleChoice: MultipleChoiceFigures? = nil

    public struct EvalFigures: Equatable, Sendable {
        public var step: Int
        public var sft: Double?
        public var dpo: Double?
        public var idealDistance: Double?
    }

    /// Reads the log at `path` (a run directory or its run.jsonl) in one streaming pass.
    public static func read(_ path: String, name: String? = nil) throws -> RunSummary {
        let url = try RunLogReader.logFile(for: path)
        var progress = RunProgress()
        let problems = try RunLogReader.scan(url, header: { progress.apply(RunRecord(time: 0, event: .header($0))) },
                                             record: { progress.apply($0) })
        return try summary(of: progress, name: name ?? Self.displayName(of: url), problems: problems)
    }

    /// The figures of a run folded so far; throws when no header was folded (the scanner refuses such logs first).
    public static func summary(of progress: RunProgress, name: String, problems: RunLogProblems) throws -> RunSummary {
        guard let header = progress.header else { throw RunLogError.missingHeader(file: name, found: "no header") }
        let optima = header.config.optima
        let evals = progress.evals.map { e -> EvalFigures in
            var distance = e.idealDistance
            if distance == nil, let optima, let s = e.sft?.loss, let d = e.dpo?.loss {
                distance = idealDistance(sft: s, dpo: d, optima: optima)
            }
            return EvalFigures(step: e.step, sft: e.sft?.loss, dpo: e.dpo?.loss, idealDistance: distance)
        }
        func best(_ values: [Double?]) -> Double? { values.compactMap { $0 }.filter(\.isFinite).min() }
        let n = progress.stepsTaken
        let seconds = progress.stepSeconds
        var summary = RunSummary(
            name: name, header: header, strategy: progress.strategy ?? header.config.strategy,
            lambda: (progress.lambda ?? header.config.lambda).value, steps: n,
            finalEval: evals.last, bestSFT: best(evals.map(\.sft)), bestDPO: best(evals.map(\.dpo)),
            bestIdealDistance: best(evals.map(\.idealDistance)), wallSeconds: progress.lastTime,
            tokensPerSecond: seconds > 0 ? Double(progress.tokensSeen) / seconds : nil,
            dpoStepShare: n > 0 ? Double(progress.dpoStepsTaken) / Double(n) : nil,
            finished: progress.finished, problems: problems)
        summary.finalMultipleChoice = progress.evals.last { $0.multipleChoice != nil }?.multipleChoice
        return summary
    }

    /// A run's short name: its directory, or the file name when the log is not called run.jsonl.
    public static func displayName(of log: URL) -> String {
        log.lastPathComponent == "run.jsonl" ? log.deletingLastPathComponent().lastPathComponent : log.lastPathComponent
    }

    /// ‖(f_sft − f_sft*, f_dpo − f_dpo*)‖₂ (docs/DESIGN.md §1).
    public static func idealDistance(sft: Double, dpo: Double, optima: Optima) -> Double {
        ((sft - optima.sft) * (sft - optima.sft) + (dpo - optima.dpo) * (dpo - optima.dpo)).squareRoot()
    }
}
