import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A held-out evaluation as the sweep and the strategy benchmark keep it.
public struct EvalPoint: Codable, Equatable, Sendable {
    public var step: Int
    public var sftLoss: Double?
    public var dpoLoss: Double?

    public init(step: Int, sftLoss: Double?, dpoLoss: Double?) {
        self.step = step
        self.sftLoss = sftLoss
        self.dpoLoss = dpoLoss
    }
}

/// One finished run, reduced to what `xright optimum`, `xright sweep` and `xright bench strategies` report.
public struct StrategyRunSummary: Codable, Equatable, Sendable {
    public var strategy: StrategyName
    public var lambda: Double
    public var runDirectory: String
    public var steps: Int
    public var finishReason: FinishReason
    /// Seconds spent in optimizer steps (forward, backward, update, MAXRIGHT's gap evaluations): the training
    /// cost compared across strategies. Held-out evaluations and checkpoints are measurement, not training.
    public var trainSeconds: Double
    /// CPU seconds of this process in optimizer steps: the cost figure that other processes on a shared
    /// machine do not distort (with one engine thread it equals the steps' wall time on an idle machine).
    public var trainCPUSeconds: Double
    /// The whole session, evaluations and checkpoints included.
    public var wallSeconds: Double
    /// Steps whose update used each objective (a mix step counts for both).
    public var sftSteps: Int
    public var dpoSteps: Int
    /// Every held-out evaluation in order; the last one is at the final step.
    public var evaluations: [EvalPoint]
    /// ‖(f_sft − f_sft*, f_dpo − f_dpo*)‖₂ at the final evaluation, when the optima are known.
    public var idealDistance: Double?
    /// Sequential strategies: the last step of the first phase (evaluated, to see forgetting in the second).
    public var phaseEndStep: Int?

    public init(strategy: StrategyName, lambda: Double, runDirectory: String, steps: Int, finishReason: FinishReason,
                trainSeconds: Double, trainCPUSeconds: Double, wallSeconds: Double, sftSteps: Int, dpoSteps: Int,
                evaluations: [EvalPoint], idealDistance: Double?, phaseEndStep: Int?) {
        self.strategy = strategy
        self.lambda = lambda
        self.runDirectory = runDirectory
        self.steps = steps
        self.finishReason = finishReason
        self.trainSeconds = trainSeconds
        self.trainCPUSeconds = trainCPUSeconds
        self.wallSeconds = wallSeconds
        self.sftSteps = sftSteps
        self.dpoSteps = dpoSteps
        self.evaluations = evaluations
        self.idealDistance = idealDistance
        self.phaseEndStep = phaseEndStep
    }

    public var finalSFTLoss: Double? { evaluations.last?.sftLoss }
    public var finalDPOLoss: Double? { evaluations.last?.dpoLoss }

    /// The last evaluation at or before `step`.
    public func evaluation(atOrBefore step: Int) -> EvalPoint? {
        evaluations.last { $0.step <= step }
    }
}

/// Runs one configuration to its end in this process and summarizes it. The session runs on the calling
/// thread; the run directory is a normal one (run.jsonl, checkpoints/), so every figure can be traced to its log.
public enum StrategyRunner {
    /// `extraEvaluations`: steps after which to evaluate besides the run's `evalEvery` (e.g. where a sequential
    /// run switches objective). The final step is always evaluated, through the session, so it is in the log.
    public static func run(_ options: RunOptions, in runDirectory: RunDirectory, programVersion: String,
                           extraEvaluations: Set<Int> = [], progress: @escaping (String) -> Void = { _ in },
                           afterRun: (PreparedRun) throws -> Void = { _ in }) throws -> StrategyRunSummary {
        let prepared = try RunSetup.prepare(options, runDirectory: runDirectory, programVersion: programVersion,
                                            progress: progress)
        let session = prepared.session
        let planned = session.header.plannedSteps
        let every = session.config.evalEvery
        let phaseEnd = firstPhaseEnd(session)
        let evaluateAfter = extraEvaluations.union(phaseEnd.map { [$0] } ?? [])
        let collector = EventCollector()
        session.subscribe { record in
            collector.observe(record)
            guard case .step(let s) = record.event else { return }
            let scheduled = every.map { s.step == 1 || s.step % $0 == 0 } ?? false
            // Commands queued during a step are applied before the loop checks its bounds, so this evaluation
            // happens at exactly this step, also when it is the last one.
            if !scheduled && (evaluateAfter.contains(s.step) || s.step == planned) {
                session.send(.evaluateNow)
            }
            if s.step % 10 == 0 || s.step == planned {
                progress("\(options.training.strategy) λ=\(options.training.lambda.value): step \(s.step)/\(planned.map(String.init) ?? "?")")
            }
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let finished = try session.run()
        let wall = Double(DispatchTime.now().uptimeNanoseconds &- started) / 1e9
        if finished.reason == .failed || finished.reason == .nonFinite {
            throw SessionSetupError.invalid(what: runDirectory.url.path,
                                            message: "the \(options.training.strategy) run ended: \(finished.reason.rawValue) (\(finished.message))")
        }
        var evaluations = collector.evaluations
        var distance = collector.lastDistance
        // A run that ended before its plan (stop rule, stop command) is evaluated here, off the log.
        if evaluations.last?.step != finished.step {
            let sft = try? prepared.backend.evaluateHeldOut(.sft).loss
            let dpo = try? prepared.backend.evaluateHeldOut(.dpo).loss
            evaluations.append(EvalPoint(step: finished.step, sftLoss: sft, dpoLoss: dpo))
            distance = zip2(sft, dpo).flatMap { s, d in options.training.optima?.idealDistance(sftLoss: s, dpoLoss: d) }
        }
        try afterRun(prepared)
        return StrategyRunSummary(
            strategy: options.training.strategy, lambda: options.training.lambda.value,
            runDirectory: runDirectory.url.path, steps: finished.step, finishReason: finished.reason,
            trainSeconds: collector.trainSeconds, trainCPUSeconds: collector.trainCPUSeconds, wallSeconds: wall, sftSteps: collector.sftSteps,
            dpoSteps: collector.dpoSteps, evaluations: evaluations, idealDistance: distance,
            phaseEndStep: phaseEnd.flatMap { $0 < finished.step ? $0 : nil })
    }

    /// sft-then-dpo / dpo-then-sft: steps in the first objective's epochs (SequentialSchedule's split of T by λ).
    static func firstPhaseEnd(_ session: TrainingSession) -> Int? {
        let config = session.config
        let first: Objective
        switch config.strategy {
        case .sftThenDPO: first = .sft
        case .dpoThenSFT: first = .dpo
        default: return nil
        }
        let schedule = SequentialSchedule(first: first, lambda: config.lambda, epochBudget: config.maxEpochs)
        let epochs = first == .sft ? schedule.sftEpochs : schedule.dpoEpochs
        guard epochs > 0, epochs < config.maxEpochs, let source = session.sources[first] else { return nil }
        return epochs * source.epochLength
    }

    private static func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
        guard let a, let b else { return nil }
        return (a, b)
    }
}

/// Gathers step timings and evaluations from session events (called on the training thread only).
public final class EventCollector {
    public private(set) var trainSeconds = 0.0
    public private(set) var trainCPUSeconds = 0.0
    private let cpuClock: () -> Double
    /// Process CPU time at the previous event that closed some work: a step event closes the work since then
    /// (the loop's only other work, evaluations, checkpoints and samples, ends with events of their own).
    private var cpuAtLastEvent: Double
    public private(set) var sftSteps = 0, dpoSteps = 0
    var evaluations: [EvalPoint] = []
    var lastDistance: Double?

    /// `cpuClock`: the process's CPU seconds (a stand-in in tests).
    public init(cpuClock: @escaping () -> Double = processCPUSeconds) {
        self.cpuClock = cpuClock
        cpuAtLastEvent = cpuClock()
    }

    public func observe(_ record: RunRecord) {
        switch record.event {
        case .progress, .telemetry:
            // Observers-only records sent in the middle of a step (a slow step reports its phases): the step's
            // CPU time runs on through them. Restarting the count here kept only each step's tail.
            return
        default:
            break
        }
        let cpu = cpuClock()
        defer { cpuAtLastEvent = cpuClock() }
        switch record.event {
        case .step(let s):
            trainSeconds += s.stepSeconds
            trainCPUSeconds += cpu - cpuAtLastEvent
            if s.objectives.contains(.sft) { sftSteps += 1 }
            if s.objectives.contains(.dpo) { dpoSteps += 1 }
        case .eval(let e):
            evaluations.append(EvalPoint(step: e.step, sftLoss: e.sft?.loss, dpoLoss: e.dpo?.loss))
            lastDistance = e.idealDistance
        default:
            break
        }
    }
}

/// CPU time of all threads of this process (CLOCK_PROCESS_CPUTIME_ID).
public func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
