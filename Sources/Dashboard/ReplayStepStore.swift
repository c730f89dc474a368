import Foundation
import Training

/// A run's step events kept for replay in 72 bytes each instead of the ~300 a `StepEvent` takes on the heap, so a
/// million-step log stays well under 200 MB while every step can still be played back. It keeps what the
/// dashboard shows of a step: losses, λ and times exactly; learning rate, rates, gradient norm and gaps as
/// `Float` (7 significant digits, the dashboard prints at most 4). The per-objective token counts and DPO reward
/// metrics of a step are not kept: the dashboard does not draw them, and `xright report` reads the log itself,
/// losing nothing.
struct ReplayStepStore {
    private struct Packed {
        var step: Int32
        var epoch: Int32
        var tokens: Int32
        var strategy: UInt8
        var flags: Flags
        var lambda: Lambda
        var elapsedSeconds: Double
        var sftLoss: Double
        var dpoLoss: Double
        var learningRate: Float
        var tokensPerSecond: Float
        var stepSeconds: Float
        var gradientNorm: Float
        var gapSFT: Float
        var gapDPO: Float
    }

    private struct Flags: OptionSet {
        let rawValue: UInt16
        static let trainedSFT = Flags(rawValue: 1 << 0)
        static let trainedDPO = Flags(rawValue: 1 << 1)
        /// Objectives listed DPO first (the order is kept as logged).
        static let dpoFirst = Flags(rawValue: 1 << 2)
        static let updateApplied = Flags(rawValue: 1 << 3)
        static let hasSFT = Flags(rawValue: 1 << 4)
        static let hasDPO = Flags(rawValue: 1 << 5)
        static let hasGradientNorm = Flags(rawValue: 1 << 6)
        static let hasGaps = Flags(rawValue: 1 << 7)
        static let hasGapsEvaluated = Flags(rawValue: 1 << 8)
        static let gapsEvaluated = Flags(rawValue: 1 << 9)
    }

    private static let strategies = StrategyName.allCases
    private var packed = ChunkedArray<Packed>()

    var count: Int { packed.count }

    mutating func append(_ e: StepEvent) {
        var flags: Flags = []
        if e.objectives.contains(.sft) { flags.insert(.trainedSFT) }
        if e.objectives.contains(.dpo) { flags.insert(.trainedDPO) }
        if e.objectives.first == .dpo { flags.insert(.dpoFirst) }
        if e.updateApplied { flags.insert(.updateApplied) }
        if e.sft != nil { flags.insert(.hasSFT) }
        if e.dpo != nil { flags.insert(.hasDPO) }
        if e.gradientNorm != nil { flags.insert(.hasGradientNorm) }
        if e.gaps != nil { flags.insert(.hasGaps) }
        if let evaluated = e.gapsEvaluated {
            flags.insert(.hasGapsEvaluated)
            if evaluated { flags.insert(.gapsEvaluated) }
        }
        packed.append(Packed(
            step: Int32(clamping: e.step), epoch: Int32(clamping: e.epoch), tokens: Int32(clamping: e.tokens),
            strategy: UInt8(Self.strategies.firstIndex(of: e.strategy) ?? 0), flags: flags,
            lambda: e.lambda, elapsedSeconds: e.elapsedSeconds, sftLoss: e.sft?.loss ?? 0, dpoLoss: e.dpo?.loss ?? 0,
            learningRate: Float(e.learningRate),
            tokensPerSecond: Float(e.tokensPerSecond), stepSeconds: Float(e.stepSeconds),
            gradientNorm: Float(e.gradientNorm ?? 0),
            gapSFT: Float(e.gaps?.sft ?? 0), gapDPO: Float(e.gaps?.dpo ?? 0)))
    }

    /// The step as the dashboard needs it (token counts of the objectives set to the step's total).
    subscript(i: Int) -> StepEvent {
        let p = packed[i]
        let f = p.flags
        var objectives: [Objective] = []
        if f.contains(.trainedSFT) { objectives.append(.sft) }
        if f.contains(.trainedDPO) { objectives.insert(.dpo, at: f.contains(.dpoFirst) ? 0 : objectives.count) }
        return StepEvent(
            step: Int(p.step), epoch: Int(p.epoch), strategy: Self.strategies[Int(p.strategy)], objectives: objectives,
            sft: f.contains(.hasSFT) ? ObjectiveMetrics(loss: p.sftLoss, tokens: Int(p.tokens)) : nil,
            dpo: f.contains(.hasDPO) ? ObjectiveMetrics(loss: p.dpoLoss, tokens: Int(p.tokens)) : nil,
            lambda: p.lambda, learningRate: Double(p.learningRate), tokens: Int(p.tokens),
            tokensPerSecond: Double(p.tokensPerSecond), stepSeconds: Double(p.stepSeconds),
            elapsedSeconds: p.elapsedSeconds, updateApplied: f.contains(.updateApplied),
            gradientNorm: f.contains(.hasGradientNorm) ? Double(p.gradientNorm) : nil,
            gaps: f.contains(.hasGaps) ? WeightedGaps(sft: Double(p.gapSFT), dpo: Double(p.gapDPO)) : nil,
            gapsEvaluated: f.contains(.hasGapsEvaluated) ? f.contains(.gapsEvaluated) : nil)
    }
}
