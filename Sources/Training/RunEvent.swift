import Foundation

/// The one event schema (docs/DESIGN.md §2): the session emits these, the run log stores them, replay reads them back.
public enum RunEvent: Equatable, Sendable {
    case header(RunHeader)
    case started(SessionStarted)
    case step(StepEvent)
    case eval(EvalEvent)
    case commandApplied(CommandApplied)
    case commandRefused(CommandRefused)
    case lambdaChanged(LambdaChanged)
    case strategyChanged(StrategyChanged)
    case paused(PauseChange)
    case resumed(PauseChange)
    case checkpointSaved(CheckpointSaved)
    case warning(RunWarning)
    /// The run's own GPUs (written by the PyTorch bridge; the Swift trainer has none to report).
    case telemetry(TelemetryEvent)
    /// A probe prompt's reply from the current weights (1.2).
    case sample(SampleEvent)
    /// Where a step in flight is: observers only, never written to the log (1.2).
    case progress(StepProgress)
    case finished(RunFinished)
    /// A type this version does not know (written by a newer minor version); readers skip it.
    case unknown(type: String)

    /// The `type` field in the log.
    public var type: String {
        switch self {
        case .header: return "header"
        case .started: return "started"
        case .step: return "step"
        case .eval: return "eval"
        case .commandApplied: return "command-applied"
        case .commandRefused: return "command-refused"
        case .lambdaChanged: return "lambda-changed"
        case .strategyChanged: return "strategy-changed"
        case .paused: return "paused"
        case .resumed: return "resumed"
        case .checkpointSaved: return "checkpoint-saved"
        case .warning: return "warning"
        case .telemetry: return "telemetry"
        case .sample: return "sample"
        case .progress: return "progress"
        case .finished: return "finished"
        case .unknown(let type): return type
        }
    }
}

/// An event and when it happened: seconds since the run began (carried across resumes).
public struct RunRecord: Equatable, Sendable {
    public var time: Double
    public var event: RunEvent

    public init(time: Double, event: RunEvent) {
        self.time = time
        self.event = event
    }
}

public enum RunLogSchema {
    public static let major = 1
    /// 1.1 added the `telemetry` event; 1.2 the `sample` event (and the observers-only `progress`); 1.3 the
    /// `eval` event's `multipleChoice` figures and the `sample` event's `probes`.
    public static let minor = 3
    public static var current: String { "\(major).\(minor)" }
}

extension RunRecord: Codable {
    private enum Keys: String, CodingKey { case type, time }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let type = try c.decode(String.self, forKey: .type)
        time = try c.decodeIfPresent(Double.self, forKey: .time) ?? 0
        switch type {
        case "header": event = .header(try RunHeader(from: decoder))
        case "started": event = .started(try SessionStarted(from: decoder))
        case "step": event = .step(try StepEvent(from: decoder))
        case "eval": event = .eval(try EvalEvent(from: decoder))
        case "command-applied": event = .commandApplied(try CommandApplied(from: decoder))
        case "command-refused": event = .commandRefused(try CommandRefused(from: decoder))
        case "lambda-changed": event = .lambdaChanged(try LambdaChanged(from: decoder))
        case "strategy-changed": event = .strategyChanged(try StrategyChanged(from: decoder))
        case "paused": event = .paused(try PauseChange(from: decoder))
        case "resumed": event = .resumed(try PauseChange(from: decoder))
        case "checkpoint-saved": event = .checkpointSaved(try CheckpointSaved(from: decoder))
        case "warning": event = .warning(try RunWarning(from: decoder))
        case "telemetry": event = .telemetry(try TelemetryEvent(from: decoder))
        case "sample": event = .sample(try SampleEvent(from: decoder))
        case "progress": event = .progress(try StepProgress(from: decoder))
        case "finished": event = .finished(try RunFinished(from: decoder))
        default: event = .unknown(type: type)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(event.type, forKey: .type)
        // The header's own `createdAt` says when; events carry seconds since the run began.
        if case .header = event {} else { try c.encode(time, forKey: .time) }
        switch event {
        case .header(let p): try p.encode(to: encoder)
        case .started(let p): try p.encode(to: encoder)
        case .step(let p): try p.encode(to: encoder)
        case .eval(let p): try p.encode(to: encoder)
        case .commandApplied(let p): try p.encode(to: encoder)
        case .commandRefused(let p): try p.encode(to: encoder)
        case .lambdaChanged(let p): try p.encode(to: encoder)
        case .strategyChanged(let p): try p.encode(to: encoder)
        case .paused(let p): try p.encode(to: encoder)
        case .resumed(let p): try p.encode(to: encoder)
        case .checkpointSaved(let p): try p.encode(to: encoder)
        case .warning(let p): try p.encode(to: encoder)
        case .telemetry(let p): try p.encode(to: encoder)
        case .sample(let p): try p.encode(to: encoder)
        case .progress(let p): try p.encode(to: encoder)
        case .finished(let p): try p.encode(to: encoder)
        case .unknown: break
        }
    }
}

/// JSON coders for log lines: one line per record, sorted keys (stable diffs), and NaN/±∞ as strings since JSON
/// has no such numbers and a non-finite loss is exactly what the log must be able to record.
public enum RunLogCoding {
    public static let nan = "NaN", infinity = "Infinity", negativeInfinity = "-Infinity"

    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: infinity, negativeInfinity: negativeInfinity, nan: nan)
        return encoder
    }

    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: infinity, negativeInfinity: negativeInfinity, nan: nan)
        return decoder
    }
}
