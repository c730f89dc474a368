import Foundation

/// What `xright bench strategies` reports: each strategy's cost against sequential SFT→DPO and its end point
/// against the ideal point, and the two claims of the paper checked on this run.
public struct StrategyBenchmarkReport: Codable, Equatable, Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        public var strategy: StrategyName
        public var lambda: Double
        public var steps: Int
        public var trainSeconds: Double
        public var trainCPUSeconds: Double
        public var wallSeconds: Double
        /// trainCPUSeconds / sft-then-dpo's (CPU time: robust to other processes on the machine).
        public var timeVsSequential: Double?
        /// trainSeconds / sft-then-dpo's (wall time of the steps).
        public var wallTimeVsSequential: Double?
        /// The goal for this ratio (alright ≤ 1.05, maxright ≤ 1.10, mix about 2), when there is one.
        public var timeGoal: String?
        public var timeGoalMet: Bool?
        public var sftLoss: Double?
        public var dpoLoss: Double?
        public var idealDistance: Double?
        public var runDirectory: String
    }

    /// Sequential SFT→DPO: its held-out SFT loss at the end of the SFT phase and at the end of the run.
    public struct Forgetting: Codable, Equatable, Sendable {
        public var phaseEndStep: Int
        public var sftLossAtPhaseEnd: Double
        public var finalStep: Int
        public var finalSFTLoss: Double
        /// The SFT loss rose during the DPO phase.
        public var forgets: Bool

        public init(phaseEndStep: Int, sftLossAtPhaseEnd: Double, finalStep: Int, finalSFTLoss: Double, forgets: Bool) {
            self.phaseEndStep = phaseEndStep
            self.sftLossAtPhaseEnd = sftLossAtPhaseEnd
            self.finalStep = finalStep
            self.finalSFTLoss = finalSFTLoss
            self.forgets = forgets
        }
    }

    public var optima: Optima
    public var entries: [Entry]
    public var forgetting: Forgetting?
    /// alright and maxright: ending closer to the ideal point than both sft-then-dpo and dpo-then-sft.
    public var closerThanSequential: [String: Bool]
    public var settings: [String: String]
}

public enum StrategyBenchmark {
    /// The strategies the benchmark compares, in the order it runs them.
    public static let strategies: [StrategyName] = [.alright, .maxright, .mix, .sftThenDPO, .dpoThenSFT]

    static func goal(_ strategy: StrategyName) -> (text: String, met: (Double) -> Bool)? {
        switch strategy {
        case .alright: return ("≤ 1.05", { $0 <= 1.05 })
        case .maxright: return ("≤ 1.10", { $0 <= 1.10 })
        // On a CPU both objectives cost their full price (docs/DESIGN.md §1): about 2, taken as 1.6–2.4.
        case .mix: return ("≈ 2", { $0 >= 1.6 && $0 <= 2.4 })
        default: return nil
        }
    }

    public static func report(optima: Optima, runs: [StrategyRunSummary], settings: [String: String]) -> StrategyBenchmarkReport {
        let sequential = runs.first { $0.strategy == .sftThenDPO }
        let entries = runs.map { run -> StrategyBenchmarkReport.Entry in
            let ratio = sequential.flatMap { $0.trainCPUSeconds > 0 ? run.trainCPUSeconds / $0.trainCPUSeconds : nil }
            let wallRatio = sequential.flatMap { $0.trainSeconds > 0 ? run.trainSeconds / $0.trainSeconds : nil }
            let g = goal(run.strategy)
            return .init(strategy: run.strategy, lambda: run.lambda, steps: run.steps, trainSeconds: run.trainSeconds,
                         trainCPUSeconds: run.trainCPUSeconds, wallSeconds: run.wallSeconds, timeVsSequential: ratio,
                         wallTimeVsSequential: wallRatio, timeGoal: g?.text,
                         timeGoalMet: g.flatMap { g in ratio.map(g.met) }, sftLoss: run.finalSFTLoss,
                         dpoLoss: run.finalDPOLoss, idealDistance: run.idealDistance, runDirectory: run.runDirectory)
        }
        var forgetting: StrategyBenchmarkReport.Forgetting?
        if let s = sequential, let end = s.phaseEndStep, let atEnd = s.evaluation(atOrBefore: end)?.sftLoss,
           let last = s.evaluations.last, let final = last.sftLoss {
            forgetting = .init(phaseEndStep: end, sftLossAtPhaseEnd: atEnd, finalStep: last.step, finalSFTLoss: final,
                               forgets: final > atEnd)
        }
        var closer = [String: Bool]()
        let sequentialDistances = runs.filter { $0.strategy == .sftThenDPO || $0.strategy == .dpoThenSFT }
            .compactMap(\.idealDistance)
        for joint in [StrategyName.alright, .maxright] {
            guard let d = runs.first(where: { $0.strategy == joint })?.idealDistance, sequentialDistances.count == 2 else { continue }
            closer[joint.rawValue] = sequentialDistances.allSatisfy { d < $0 }
        }
        return StrategyBenchmarkReport(optima: optima, entries: entries, forgetting: forgetting,
                                       closerThanSequential: closer, settings: settings)
    }

    /// The report as a Markdown table and verdict lines (what docs/RESULTS.md shows).
    public static func text(_ r: StrategyBenchmarkReport) -> String {
        func f(_ x: Double?, _ digits: Int) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "-" }
        var lines = [String(format: "optima (sft-only, dpo-only): f_sft* = %.4f, f_dpo* = %.4f", r.optima.sft, r.optima.dpo), "",
                     "| strategy | λ | steps | CPU s | × sft-then-dpo (CPU) | goal | wall s | × (wall) | f_sft | f_dpo | ideal distance |",
                     "|---|---|---|---|---|---|---|---|---|---|---|"]
        for e in r.entries {
            let goal = e.timeGoal.map { "\($0) \(e.timeGoalMet == true ? "met" : "missed")" } ?? ""
            lines.append("| \(e.strategy) | \(f(e.lambda, 2)) | \(e.steps) | \(f(e.trainCPUSeconds, 1)) | \(f(e.timeVsSequential, 3)) "
                         + "| \(goal) | \(f(e.trainSeconds, 1)) | \(f(e.wallTimeVsSequential, 3)) "
                         + "| \(f(e.sftLoss, 4)) | \(f(e.dpoLoss, 4)) | \(f(e.idealDistance, 4)) |")
        }
        lines.append("")
        if let g = r.forgetting {
            lines.append("sft-then-dpo forgetting: held-out f_sft \(f(g.sftLossAtPhaseEnd, 4)) at step \(g.phaseEndStep) "
                         + "(end of SFT) → \(f(g.finalSFTLoss, 4)) at step \(g.finalStep): "
                         + (g.forgets ? "rises (forgets)" : "does not rise"))
        } else {
            lines.append("sft-then-dpo forgetting: not measured (no evaluation at the end of its SFT phase)")
        }
        for name in ["alright", "maxright"] {
            guard let c = r.closerThanSequential[name] else { continue }
            lines.append("\(name) ends closer to the ideal point than both sequential orders: \(c ? "yes" : "no")")
        }
        return lines.joined(separator: "\n")
    }
}
