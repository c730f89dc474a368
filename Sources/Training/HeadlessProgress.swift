import Foundation

/// One progress line per second for runs without the dashboard (`--headless`, logs, CI):
/// `step 120/1000 (12.0%)  dpo  f_sft 1.2345  f_dpo 0.6931  λ 0.50  1234 tok/s  ETA 3m12s`.
/// Driven by events and their times, so a replay prints the same lines as the live run.
public final class HeadlessProgress {
    private let interval: Double
    private let sink: (String) -> Void
    private var plannedSteps: Int?
    private var lastLineTime: Double?
    private var lastLineStep = 0
    private var windowTokens = 0
    private var sftLoss: Double?
    private var dpoLoss: Double?
    private var latest: StepEvent?
    /// The sampling round last printed (its step and run time): a fast run samples often, and its replies are
    /// printed at most once per `sampleInterval` run seconds (a whole round at a time).
    private var printedRound: (step: Int, time: Double)?
    public static let sampleInterval = 30.0

    public init(interval: Double = 1, sink: @escaping (String) -> Void) {
        self.interval = interval
        self.sink = sink
    }

    /// Feed every record (subscribe this to the session, or call it while replaying a log).
    public func observe(_ record: RunRecord) {
        switch record.event {
        case .header(let header):
            plannedSteps = header.plannedSteps
        case .started(let started):
            lastLineTime = record.time
            lastLineStep = started.step
        case .step(let step):
            latest = step
            windowTokens += step.tokens
            if let l = step.sft?.loss { sftLoss = l }
            if let l = step.dpo?.loss { dpoLoss = l }
            let since = lastLineTime ?? record.time - interval
            if record.time - since >= interval { emitLine(at: record.time) }
        case .finished(let finished):
            if let latest, latest.step > lastLineStep { emitLine(at: record.time) }
            sink("finished at step \(finished.step): \(finished.reason.rawValue) — \(finished.message)")
        case .warning(let warning):
            sink("warning: \(warning.message)")
        case .sample(let sample):
            if let round = printedRound, round.step != sample.step, record.time - round.time < Self.sampleInterval { break }
            if printedRound?.step != sample.step { printedRound = (sample.step, record.time) }
            sink(Self.format(sample: sample))
        default:
            break
        }
    }

    /// `sample @120 #1 "What is …" → "The capital …" (31 tok, 0.8s)`, the reply on one line, cut at 160 characters.
    public static func format(sample: SampleEvent) -> String {
        func flat(_ text: String, _ limit: Int) -> String {
            // Control characters (a young model says anything) would steer the terminal: shown as "·".
            let visible = String(String.UnicodeScalarView(text.unicodeScalars.map {
                $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) ? "·" : $0
            }))
            let one = visible.split(whereSeparator: \.isNewline).joined(separator: " ⏎ ")
            return one.count <= limit ? one : String(one.prefix(limit - 1)) + "…"
        }
        return "sample @\(sample.step) #\(sample.probe + 1) \"\(flat(sample.prompt, 40))\" → \"\(flat(sample.reply, 160))\" "
            + "(\(sample.tokens) tok, \(String(format: "%.1f", sample.seconds))s)"
    }

    private func emitLine(at time: Double) {
        guard let step = latest else { return }
        let window = time - (lastLineTime ?? 0)
        let stepsInWindow = step.step - lastLineStep
        let tokensPerSecond = window > 0 ? Double(windowTokens) / window : step.tokensPerSecond
        var eta: Double?
        if let planned = plannedSteps, stepsInWindow > 0, window > 0 {
            eta = Double(max(0, planned - step.step)) * window / Double(stepsInWindow)
        }
        sink(Self.format(step: step.step, plannedSteps: plannedSteps, objectives: step.objectives,
                         sftLoss: sftLoss, dpoLoss: dpoLoss, lambda: step.lambda.value,
                         tokensPerSecond: tokensPerSecond, etaSeconds: eta))
        lastLineTime = time
        lastLineStep = step.step
        windowTokens = 0
    }

    /// The line itself; losses print as `-` until the objective has been trained.
    public static func format(step: Int, plannedSteps: Int?, objectives: [Objective], sftLoss: Double?,
                              dpoLoss: Double?, lambda: Double, tokensPerSecond: Double, etaSeconds: Double?) -> String {
        var parts: [String] = []
        if let planned = plannedSteps, planned > 0 {
            parts.append("step \(step)/\(planned) (\(fixed(100 * Double(step) / Double(planned), 1))%)")
        } else {
            parts.append("step \(step)")
        }
        parts.append(objectives.isEmpty ? "-" : objectives.map(\.rawValue).joined(separator: "+"))
        parts.append("f_sft \(sftLoss.map { fixed($0, 4) } ?? "-")")
        parts.append("f_dpo \(dpoLoss.map { fixed($0, 4) } ?? "-")")
        parts.append("λ \(fixed(lambda, 2))")
        parts.append("\(Int(tokensPerSecond.isFinite ? tokensPerSecond.rounded() : 0)) tok/s")
        parts.append("ETA \(etaSeconds.map(duration) ?? "-")")
        return parts.joined(separator: "  ")
    }

    static func fixed(_ value: Double, _ digits: Int) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : String(value)
    }

    /// 45s, 3m12s, 2h05m.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "-" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }
}
