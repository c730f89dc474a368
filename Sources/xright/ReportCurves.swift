import Dashboard
import Foundation
import Training

/// What `xright report --svg` plots of one run, read off its log: the held-out evaluations (the run's path
/// through the f_sft–f_dpo plane) and the training loss of each objective at every step that computed it.
struct ReportCurves: Equatable {
    struct EvalPoint: Equatable { var step: Int; var sft: Double; var dpo: Double }
    struct LossPoint: Equatable { var step: Int; var loss: Double }

    var name: String
    var strategy: StrategyName
    var lambda: Double
    var optima: Optima?
    /// Evaluations with both losses finite, in step order.
    var evaluations: [EvalPoint] = []
    var sftLoss: [LossPoint] = []
    var dpoLoss: [LossPoint] = []

    var isEmpty: Bool { evaluations.isEmpty && sftLoss.isEmpty && dpoLoss.isEmpty }

    /// Streams the log at `path` (a run directory or run.jsonl). A step or evaluation at or before one already
    /// read (a resume re-running steps after its checkpoint) replaces what came after, as `xright report` does.
    static func read(_ path: String) throws -> ReportCurves {
        let url = try RunLogReader.logFile(for: path)
        var curves: ReportCurves?
        _ = try RunLogReader.scan(url, header: { header in
            curves = ReportCurves(name: RunSummary.displayName(of: url), strategy: header.config.strategy,
                                  lambda: header.config.lambda.value, optima: header.config.optima)
        }, record: { record in
            switch record.event {
            case .step(let s): curves?.add(s)
            case .eval(let e): curves?.add(e)
            default: break
            }
        })
        guard let curves else { throw RunLogError.empty(file: url.path) }
        return curves
    }

    /// The last step read: a step at or before it starts a re-run.
    private var lastStep = 0

    mutating func add(_ s: StepEvent) {
        if s.step <= lastStep {
            sftLoss.removeAll { $0.step >= s.step }
            dpoLoss.removeAll { $0.step >= s.step }
            evaluations.removeAll { $0.step >= s.step }
        }
        lastStep = s.step
        if let v = s.sft?.loss, v.isFinite { sftLoss.append(LossPoint(step: s.step, loss: v)) }
        if let v = s.dpo?.loss, v.isFinite { dpoLoss.append(LossPoint(step: s.step, loss: v)) }
    }

    mutating func add(_ e: EvalEvent) {
        if let last = evaluations.last?.step, e.step <= last { evaluations.removeAll { $0.step >= e.step } }
        guard let sft = e.sft?.loss, let dpo = e.dpo?.loss, sft.isFinite, dpo.isFinite else { return }
        evaluations.append(EvalPoint(step: e.step, sft: sft, dpo: dpo))
    }
}
