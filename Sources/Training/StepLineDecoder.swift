import Foundation
import JSON

/// Decodes the commonest line of a run log, a `step` record, with the project's JSON parser and a direct mapping:
/// several times faster than `JSONDecoder`, which is what a million-step log needs to open in seconds rather than
/// a minute (`replay`, `report`).
///
/// It is only a fast path. Anything it is not sure of (another type, an unknown or repeated key, a value of
/// another kind, an integer written with a fraction) makes it return nil and the caller falls back to
/// `JSONDecoder`, so what is accepted and how never differs from the Codable definitions; a test compares the two
/// on many generated lines.
public enum StepLineDecoder {
    public static func decode(_ bytes: Data) -> RunRecord? {
        guard let value = bytes.withUnsafeBytes({ try? JSONValue.parse($0, maximumDepth: 4) }) else { return nil }
        return step(value)
    }

    /// Stores a value read for a key seen the first time; false when it did not read or the key repeats
    /// (JSONDecoder's rule for repeats is its own: leave them to it).
    private static func assign<T>(_ slot: inout T?, _ value: T?) -> Bool {
        guard case .none = slot, let value else { return false }
        slot = value
        return true
    }

    /// A number, or the log's spellings of non-finite values.
    private static func double(_ value: JSONValue) -> Double? {
        switch value {
        case .number(let n): return n.doubleValue
        case .string(RunLogCoding.nan): return .nan
        case .string(RunLogCoding.infinity): return .infinity
        case .string(RunLogCoding.negativeInfinity): return -.infinity
        default: return nil
        }
    }

    /// An integer written as one (no fraction or exponent), within Int.
    private static func int(_ value: JSONValue) -> Int? {
        guard case .number(let n) = value, let exact = n.int64Value else { return nil }
        return Int(exactly: exact)
    }

    /// Null is nil, as `decodeIfPresent` reads optionals (absent is nil too: the slot stays empty).
    private static func optional<T>(_ value: JSONValue, _ read: (JSONValue) -> T?) -> T?? {
        value.isNull ? .some(nil) : read(value).map { .some($0) }
    }

    private static func step(_ value: JSONValue) -> RunRecord? {
        guard let object = value.objectValue else { return nil }
        var type: String?, time: Double??, step: Int?, epoch: Int?, strategy: StrategyName?, objectives: [Objective]?
        var sft: ObjectiveMetrics??, dpo: ObjectiveMetrics??, gaps: WeightedGaps??
        var lambda: Lambda?, learningRate: Double?, tokens: Int?, tokensPerSecond: Double?, stepSeconds: Double?
        var elapsed: Double?, updateApplied: Bool?, gradientNorm: Double??, gapsEvaluated: Bool??
        for (key, v) in object.members {
            let ok: Bool
            switch key {
            case "type": ok = v.stringValue == "step" && assign(&type, "step")
            case "time": ok = assign(&time, optional(v, double))
            case "step": ok = assign(&step, int(v))
            case "epoch": ok = assign(&epoch, int(v))
            case "strategy": ok = assign(&strategy, v.stringValue.flatMap(StrategyName.init(rawValue:)))
            case "objectives": ok = assign(&objectives, Self.objectives(v))
            case "sft": ok = assign(&sft, optional(v, metrics))
            case "dpo": ok = assign(&dpo, optional(v, metrics))
            case "lambda": ok = assign(&lambda, double(v).flatMap { try? Lambda($0) })
            case "learningRate": ok = assign(&learningRate, double(v))
            case "tokens": ok = assign(&tokens, int(v))
            case "tokensPerSecond": ok = assign(&tokensPerSecond, double(v))
            case "stepSeconds": ok = assign(&stepSeconds, double(v))
            case "elapsedSeconds": ok = assign(&elapsed, double(v))
            case "updateApplied": ok = assign(&updateApplied, v.boolValue)
            case "gradientNorm": ok = assign(&gradientNorm, optional(v, double))
            case "gaps": ok = assign(&gaps, optional(v, Self.gaps))
            case "gapsEvaluated": ok = assign(&gapsEvaluated, optional(v, { $0.boolValue }))
            default: ok = false
            }
            guard ok else { return nil }
        }
        guard type != nil, let step, let epoch, let strategy, let objectives, let lambda, let learningRate, let tokens,
              let tokensPerSecond, let stepSeconds, let elapsed, let updateApplied else { return nil }
        let event = StepEvent(step: step, epoch: epoch, strategy: strategy, objectives: objectives, sft: sft ?? nil,
                              dpo: dpo ?? nil, lambda: lambda, learningRate: learningRate, tokens: tokens,
                              tokensPerSecond: tokensPerSecond, stepSeconds: stepSeconds, elapsedSeconds: elapsed,
                              updateApplied: updateApplied, gradientNorm: gradientNorm ?? nil, gaps: gaps ?? nil,
                              gapsEvaluated: gapsEvaluated ?? nil)
        return RunRecord(time: (time ?? nil) ?? 0, event: .step(event))
    }

    private static func objectives(_ value: JSONValue) -> [Objective]? {
        guard let items = value.arrayValue else { return nil }
        var list: [Objective] = []
        for item in items {
            guard let objective = item.stringValue.flatMap(Objective.init(rawValue:)) else { return nil }
            list.append(objective)
        }
        return list
    }

    private static func metrics(_ value: JSONValue) -> ObjectiveMetrics? {
        guard let object = value.objectValue else { return nil }
        var loss: Double?, tokens: Int?, preference: PreferenceMetrics??
        for (key, v) in object.members {
            let ok: Bool
            switch key {
            case "loss": ok = assign(&loss, double(v))
            case "tokens": ok = assign(&tokens, int(v))
            case "preference": ok = assign(&preference, optional(v, Self.preference))
            default: ok = false
            }
            guard ok else { return nil }
        }
        guard let loss, let tokens else { return nil }
        return ObjectiveMetrics(loss: loss, tokens: tokens, preference: preference ?? nil)
    }

    private static func preference(_ value: JSONValue) -> PreferenceMetrics? {
        guard let object = value.objectValue else { return nil }
        var chosen: Double?, rejected: Double?, accuracy: Double?, margin: Double?
        for (key, v) in object.members {
            let ok: Bool
            switch key {
            case "chosenReward": ok = assign(&chosen, double(v))
            case "rejectedReward": ok = assign(&rejected, double(v))
            case "rewardAccuracy": ok = assign(&accuracy, double(v))
            case "margin": ok = assign(&margin, double(v))
            default: ok = false
            }
            guard ok else { return nil }
        }
        guard let chosen, let rejected, let accuracy, let margin else { return nil }
        return PreferenceMetrics(chosenReward: chosen, rejectedReward: rejected, rewardAccuracy: accuracy, margin: margin)
    }

    private static func gaps(_ value: JSONValue) -> WeightedGaps? {
        guard let object = value.objectValue else { return nil }
        var sft: Double?, dpo: Double?
        for (key, v) in object.members {
            let ok: Bool
            switch key {
            case "sft": ok = assign(&sft, double(v))
            case "dpo": ok = assign(&dpo, double(v))
            default: ok = false
            }
            guard ok else { return nil }
        }
        guard let sft, let dpo else { return nil }
        return WeightedGaps(sft: sft, dpo: dpo)
    }
}
