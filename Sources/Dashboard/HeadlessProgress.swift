import Foundation
import Training

/// The `--no-tui` (or non-terminal) fallback: one progress line at most every `interval` seconds, plus a line
/// for each event a user must not miss (λ and strategy changes, checkpoints, warnings, the end). Subscribe
/// `observe` to the session; it is cheap enough for the training thread.
public final class HeadlessProgress {
    private var state = DashboardState()
    private let interval: Double
    private let write: (String) -> Void
    private var lastLine = -Double.infinity
    private var shownMessages = 0
    private let lock = NSLock()

    public init(interval: Double = 1, write: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.interval = interval
        self.write = write
    }

    public func observe(_ record: RunRecord) {
        lock.lock()
        defer { lock.unlock() }
        state.apply(record)
        // Messages other than routine evals and startup are printed as they come.
        while shownMessages < state.messages.count {
            write(state.messages[shownMessages].text)
            shownMessages += 1
        }
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        guard case .step = record.event, now - lastLine >= interval else { return }
        lastLine = now
        write(Self.progressLine(state))
    }

    /// "step 120/1000 epoch 1/1 alright λ=0.50 SFT 2.310 DPO 0.6812 DPO share 49.2% 1.2k tok/s ETA 3:10".
    public static func progressLine(_ s: DashboardState) -> String {
        var parts = ["step \(s.step)" + (s.plannedSteps.map { "/\($0)" } ?? ""),
                     "epoch \(s.epoch + 1)" + (s.maxEpochs.map { "/\($0)" } ?? "")]
        if let name = s.strategy { parts.append(name.rawValue) }
        if let l = s.lambda { parts.append("λ=\(Format.fixed(l, 2))") }
        if let v = s.sft.lastSmoothed { parts.append("SFT \(Format.loss(v))") }
        if let v = s.dpo.lastSmoothed { parts.append("DPO \(Format.loss(v))") }
        if let share = s.dpoShare { parts.append("DPO share \(Format.fixed(100 * share, 1))%") }
        if let t = s.tokensPerSecond { parts.append("\(Format.count(t)) tok/s") }
        if let eta = s.etaSeconds { parts.append("ETA \(Format.duration(eta))") }
        return parts.joined(separator: "  ")
    }
}
