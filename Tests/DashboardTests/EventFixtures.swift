import Dashboard
import Foundation
import Training

/// Builders for run events, so each test says only what matters to it. Event payloads have no public
/// memberwise initializers, so records are built the way replay builds them: decoded from run-log JSON lines.
enum Events {
    static func decode(_ fields: [String: Any]) -> RunRecord {
        let data = try! JSONSerialization.data(withJSONObject: fields)
        return try! RunLogCoding.makeDecoder().decode(RunRecord.self, from: data)
    }

    static func header(strategy: StrategyName = .alright, lambda: Double = 0.5, planned: Int? = 100,
                       optima: Optima? = nil, settings: [String: String] = ["beta": "0.1"]) -> RunRecord {
        let config = TrainingConfig(strategy: strategy, lambda: try! Lambda(lambda), maxEpochs: 2, optima: optima)
        return RunRecord(time: 0, event: .header(RunHeader(programVersion: "test", createdAt: "2025-01-01T00:00:00Z",
                                                          seed: 1, config: config, modelFingerprint: "m",
                                                          dataFingerprints: [:], settings: settings, plannedSteps: planned)))
    }

    static func started(step: Int = 0, strategy: StrategyName = .alright, lambda: Double = 0.5) -> RunRecord {
        decode(["type": "started", "time": 0, "step": step, "strategy": strategy.rawValue, "lambda": lambda])
    }

    static func step(_ n: Int, sft: Double? = nil, dpo: Double? = nil, strategy: StrategyName = .alright,
                     lambda: Double = 0.5, gaps: WeightedGaps? = nil, applied: Bool = true, epoch: Int = 0) -> RunRecord {
        var objectives: [String] = []
        let time: Double = Double(n) * 0.1
        var fields: [String: Any] = ["type": "step", "time": time, "step": n, "epoch": epoch]
        fields["strategy"] = strategy.rawValue
        fields["lambda"] = lambda
        fields["learningRate"] = 5e-5
        fields["tokens"] = 300
        fields["tokensPerSecond"] = 3000.0
        fields["stepSeconds"] = 0.1
        fields["elapsedSeconds"] = time
        fields["updateApplied"] = applied
        fields["gradientNorm"] = 1.0
        if let sft { objectives.append("sft"); fields["sft"] = ["loss": number(sft), "tokens": 100] as [String: Any] }
        if let dpo { objectives.append("dpo"); fields["dpo"] = ["loss": number(dpo), "tokens": 200] as [String: Any] }
        fields["objectives"] = objectives
        if let gaps { fields["gaps"] = ["sft": gaps.sft, "dpo": gaps.dpo] as [String: Any]; fields["gapsEvaluated"] = false }
        return decode(fields)
    }

    /// JSON has no NaN or ±∞: the run log writes them as strings.
    static func number(_ v: Double) -> Any {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "Infinity" : "-Infinity" }
        return v
    }

    static func eval(step: Int, sft: Double?, dpo: Double?, idealDistance: Double? = nil, time: Double = 1) -> RunRecord {
        var fields: [String: Any] = ["type": "eval", "time": time, "step": step, "seconds": 0.1]
        if let sft { fields["sft"] = ["loss": sft, "tokens": 1] as [String: Any] }
        if let dpo { fields["dpo"] = ["loss": dpo, "tokens": 1] as [String: Any] }
        if let idealDistance { fields["idealDistance"] = idealDistance }
        return decode(fields)
    }

    static func commandJSON(_ command: SessionCommand) -> Any {
        try! JSONSerialization.jsonObject(with: JSONEncoder().encode(command))
    }

    static func applied(_ command: SessionCommand, step: Int) -> RunRecord {
        decode(["type": "command-applied", "time": 1, "step": step, "command": commandJSON(command)])
    }

    static func refused(_ command: SessionCommand, step: Int, reason: String) -> RunRecord {
        decode(["type": "command-refused", "time": 1, "step": step, "command": commandJSON(command), "reason": reason])
    }

    static func lambdaChanged(step: Int, from: Double, to: Double) -> RunRecord {
        decode(["type": "lambda-changed", "time": 1, "step": step, "from": from, "to": to])
    }

    static func paused(step: Int) -> RunRecord { decode(["type": "paused", "time": 1, "step": step]) }
    static func resumed(step: Int) -> RunRecord { decode(["type": "resumed", "time": 1, "step": step]) }

    static func finished(step: Int, reason: FinishReason = .stopped, message: String = "done") -> RunRecord {
        decode(["type": "finished", "time": 1, "step": step, "reason": reason.rawValue, "message": message])
    }

    static func finishedPayload(_ record: RunRecord) -> RunFinished {
        guard case .finished(let f) = record.event else { fatalError("not a finished record") }
        return f
    }

    /// A bridge's GPU sample; each device is the JSON the bridge writes (readings it lacks are left out).
    static func telemetry(step: Int, time: Double, gpus: [[String: Any]], note: String? = nil) -> RunRecord {
        var fields: [String: Any] = ["type": "telemetry", "time": time, "step": step, "gpus": gpus]
        if let note { fields["note"] = note }
        return decode(fields)
    }

    /// A device as the bridge reports it: 0.5 of `totalGiB` in use.
    static func gpu(host: String = "gpu-box", rank: Int, index: Int, name: String = "NVIDIA A100-SXM4-80GB",
                    utilization: Double = 97, totalGiB: Int = 80, temperature: Double? = 64, power: Double? = 312.5) -> [String: Any] {
        var device: [String: Any] = ["host": host, "rank": rank, "index": index, "name": name, "utilization": utilization,
                                     "memoryUsedBytes": totalGiB << 29, "memoryTotalBytes": totalGiB << 30]
        if let temperature { device["temperatureC"] = temperature }
        if let power { device["powerWatts"] = power }
        return device
    }

    static func unknown() -> RunRecord { decode(["type": "from-the-future", "time": 1]) }
}

/// A run that remembers the commands it was sent; its records are fed to the controller by the test.
final class RecordingSink: RunEventSource {
    var sent: [SessionCommand] = []
    func send(_ command: SessionCommand) { sent.append(command) }
    func subscribe(_ observer: @escaping (RunRecord) -> Void) -> Int { 0 }
    func unsubscribe(_ token: Int) {}
}
