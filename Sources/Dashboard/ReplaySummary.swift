import Foundation
import Training

/// A run's figures for `xright report`, folded from every record of its log (never from the display's
/// downsampled copy): final and best held-out losses, ideal distance, wall time, throughput, DPO step share.
///
/// A resumed run re-runs the steps after its checkpoint (docs/RUNLOG.md); those supersede the earlier ones, so
/// per-step figures are kept as running totals, one per step record, and cut back on a `started` at an earlier step.
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

    public struct EvalFigures: Equatable, Sendable {
        public var step: Int
        public var sft: Double?
        public var dpo: Double?
        public var idealDistance: Double?
    }

    /// Reads the log at `path` (a run directory or its run.jsonl) in one streaming pass.
    public static func read(_ path: String, name: String? = nil) throws -> RunSummary {
        let url = try ReplayLogScanner.logFile(for: path)
        var fold: Fold?
        let problems = try ReplayLogScanner.scan(url, header: { fold = Fold(header: $0) }, record: { fold?.apply($0) })
        // The scanner throws before returning when there was no header.
        return fold!.summary(name: name ?? Self.displayName(of: url), problems: problems)
    }

    /// A run's short name: its directory, or the file name when the log is not called run.jsonl.
    public static func displayName(of log: URL) -> String {
        log.lastPathComponent == "run.jsonl" ? log.deletingLastPathComponent().lastPathComponent : log.lastPathComponent
    }

    /// ‖(f_sft − f_sft*, f_dpo − f_dpo*)‖₂ (DESIGN §1).
    public static func idealDistance(sft: Double, dpo: Double, optima: Optima) -> Double {
        ((sft - optima.sft) * (sft - optima.sft) + (dpo - optima.dpo) * (dpo - optima.dpo)).squareRoot()
    }

    /// The running fold; public so a caller streaming records itself (the replay loader) can reuse it.
    public struct Fold {
        let header: RunHeader
        var strategy: StrategyName
        var lambda: Double
        var optima: Optima?
        var lastStep = 0
        /// Running totals after each step record, in step order: memory follows the number of records, never
        /// the step numbers they carry (a log edited to say step 10¹² costs one entry).
        var totals: [Totals] = []
        var evals: [EvalFigures] = []
        var lastTime = 0.0
        var finished: RunFinished?

        struct Totals {
            var step: Int
            var steps: Int
            var dpoSteps: Int
            var tokens: Int64
            var stepSeconds: Double
        }

        public init(header: RunHeader) {
            self.header = header
            strategy = header.config.strategy
            lambda = header.config.lambda.value
            optima = header.config.optima
        }

        public mutating func apply(_ record: RunRecord) {
            lastTime = max(lastTime, record.time)
            switch record.event {
            case .started(let s):
                strategy = s.strategy
                lambda = s.lambda
                finished = nil
                if s.step < lastStep { cut(after: s.step) }
            case .step(let e):
                if e.step <= lastStep { cut(after: e.step - 1) }
                let last = totals.last ?? Totals(step: 0, steps: 0, dpoSteps: 0, tokens: 0, stepSeconds: 0)
                totals.append(Totals(step: e.step, steps: last.steps + 1,
                                     dpoSteps: last.dpoSteps + (e.objectives.contains(.dpo) ? 1 : 0),
                                     tokens: last.tokens + Int64(e.tokens),
                                     stepSeconds: last.stepSeconds + (e.stepSeconds.isFinite ? max(0, e.stepSeconds) : 0)))
                lastStep = e.step
                strategy = e.strategy
                lambda = e.lambda
            case .eval(let e):
                var distance = e.idealDistance
                if distance == nil, let optima, let s = e.sft?.loss, let d = e.dpo?.loss {
                    distance = RunSummary.idealDistance(sft: s, dpo: d, optima: optima)
                }
                evals.append(EvalFigures(step: e.step, sft: e.sft?.loss, dpo: e.dpo?.loss, idealDistance: distance))
            case .lambdaChanged(let c): lambda = c.to
            case .strategyChanged(let c): strategy = c.to
            case .finished(let f): finished = f
            default: break
            }
        }

        private mutating func cut(after step: Int) {
            // Steps only grow between cuts, so the superseded ones are a suffix.
            while let last = totals.last, last.step > step { totals.removeLast() }
            evals.removeAll { $0.step > step }
            lastStep = min(lastStep, max(0, step))
        }

        public func summary(name: String, problems: RunLogProblems) -> RunSummary {
            let end = totals.last
            let n = end?.steps ?? 0
            let seconds = end?.stepSeconds ?? 0
            func best(_ values: [Double?]) -> Double? { values.compactMap { $0 }.filter(\.isFinite).min() }
            return RunSummary(
                name: name, header: header, strategy: strategy, lambda: lambda, steps: n,
                finalEval: evals.last, bestSFT: best(evals.map(\.sft)), bestDPO: best(evals.map(\.dpo)),
                bestIdealDistance: best(evals.map(\.idealDistance)), wallSeconds: lastTime,
                tokensPerSecond: seconds > 0 ? Double(end?.tokens ?? 0) / seconds : nil,
                dpoStepShare: n > 0 ? Double(end?.dpoSteps ?? 0) / Double(n) : nil,
                finished: finished, problems: problems)
        }
    }
}
