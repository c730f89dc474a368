/// What a user (dashboard, attach client, test) asks of a running session. Applied between optimizer steps,
/// and logged as events, so a replay shows when λ was changed.
public enum SessionCommand: Equatable, Sendable, CustomStringConvertible {
    case setLambda(Lambda)
    case pause
    case resume
    /// One optimizer step while paused.
    case stepOnce
    /// Held-out evaluation now.
    case evaluateNow
    case checkpointNow
    case stop
    case switchStrategy(StrategyName)
    /// Generate the probe replies now (a `sample` event each), between steps.
    case sampleNow

    /// The command's name in the run log.
    public var name: String {
        switch self {
        case .setLambda: return "set-lambda"
        case .pause: return "pause"
        case .resume: return "resume"
        case .stepOnce: return "step-once"
        case .evaluateNow: return "evaluate-now"
        case .checkpointNow: return "checkpoint-now"
        case .stop: return "stop"
        case .switchStrategy: return "switch-strategy"
        case .sampleNow: return "sample-now"
        }
    }

    public var description: String {
        switch self {
        case .setLambda(let l): return "\(name) \(l.value)"
        case .switchStrategy(let s): return "\(name) \(s.rawValue)"
        default: return name
        }
    }
}

extension SessionCommand: Codable {
    private enum Keys: String, CodingKey { case name, lambda, strategy }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let name = try c.decode(String.self, forKey: .name)
        switch name {
        case "set-lambda": self = .setLambda(try c.decode(Lambda.self, forKey: .lambda))
        case "pause": self = .pause
        case "resume": self = .resume
        case "step-once": self = .stepOnce
        case "evaluate-now": self = .evaluateNow
        case "checkpoint-now": self = .checkpointNow
        case "stop": self = .stop
        case "switch-strategy": self = .switchStrategy(try c.decode(StrategyName.self, forKey: .strategy))
        case "sample-now": self = .sampleNow
        default:
            throw DecodingError.dataCorruptedError(forKey: .name, in: c, debugDescription: "unknown command '\(name)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(name, forKey: .name)
        switch self {
        case .setLambda(let l): try c.encode(l, forKey: .lambda)
        case .switchStrategy(let s): try c.encode(s, forKey: .strategy)
        default: break
        }
    }
}
