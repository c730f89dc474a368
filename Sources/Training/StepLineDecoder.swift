import Foundation

/// Decodes the commonest line of a run log, a `step` record, straight from its bytes: about ten times faster than
/// `JSONDecoder`, which is what a million-step log needs to open in seconds rather than minutes (`replay`, `report`).
///
/// It is only a fast path. Anything it is not sure of (another type, an escape in a string, an unknown or repeated
/// key, a number outside plain JSON grammar, an integer that does not fit) makes it return nil and the caller falls
/// back to `JSONDecoder`, so what is accepted and how never differs from the Codable definitions; a test compares
/// the two on many generated lines.
public enum StepLineDecoder {
    public static func decode(_ bytes: Data) -> RunRecord? {
        bytes.withUnsafeBytes { raw -> RunRecord? in
            var parser = Parser(raw.bindMemory(to: UInt8.self))
            guard let record = parser.stepRecord(), parser.atEnd() else { return nil }
            return record
        }
    }

    /// Stores a parsed value in a field seen for the first time; false for a value that did not parse or a key
    /// that repeats (JSONDecoder's rule for repeats is its own: leave them to it).
    private static func assign<T>(_ slot: inout T?, _ value: T?) -> Bool {
        guard case .none = slot, let value else { return false }
        slot = value
        return true
    }

    private struct Parser {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0

        init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
        }

        mutating func atEnd() -> Bool {
            skipSpace()
            return i == b.count
        }

        mutating func take(_ c: UInt8) -> Bool {
            skipSpace()
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }

        /// A string without escapes (keys, strategy and objective names never have any).
        mutating func plainString() -> String? {
            guard take(0x22) else { return nil }
            let start = i
            while i < b.count, b[i] != 0x22 {
                if b[i] == 0x5C || b[i] < 0x20 { return nil }
                i += 1
            }
            guard i < b.count else { return nil }
            let s = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
            i += 1
            return s
        }

        /// Consumes `null` when it is next.
        mutating func null() -> Bool {
            skipSpace()
            guard i + 4 <= b.count, b[i] == 0x6E, b[i + 1] == 0x75, b[i + 2] == 0x6C, b[i + 3] == 0x6C else { return false }
            i += 4
            return true
        }

        mutating func bool() -> Bool? {
            skipSpace()
            if i + 4 <= b.count, b[i] == 0x74, b[i + 1] == 0x72, b[i + 2] == 0x75, b[i + 3] == 0x65 { i += 4; return true }
            if i + 5 <= b.count, b[i] == 0x66, b[i + 1] == 0x61, b[i + 2] == 0x6C, b[i + 3] == 0x73, b[i + 4] == 0x65 {
                i += 5
                return false
            }
            return nil
        }

        /// The span of a number in strict JSON grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func numberSpan() -> (range: Range<Int>, integral: Bool)? {
            skipSpace()
            let start = i
            if i < b.count, b[i] == 0x2D { i += 1 }
            guard i < b.count, isDigit(b[i]) else { return nil }
            if b[i] == 0x30 { i += 1 } else { while i < b.count, isDigit(b[i]) { i += 1 } }
            var integral = true
            if i < b.count, b[i] == 0x2E {
                integral = false
                i += 1
                guard i < b.count, isDigit(b[i]) else { return nil }
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
            if i < b.count, b[i] == 0x65 || b[i] == 0x45 {
                integral = false
                i += 1
                if i < b.count, b[i] == 0x2B || b[i] == 0x2D { i += 1 }
                guard i < b.count, isDigit(b[i]) else { return nil }
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
            return (start..<i, integral)
        }

        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

        /// A number, or the log's spellings of non-finite values ("NaN", "Infinity", "-Infinity").
        mutating func double() -> Double? {
            skipSpace()
            if i < b.count, b[i] == 0x22 {
                switch plainString() {
                case RunLogCoding.nan?: return .nan
                case RunLogCoding.infinity?: return .infinity
                case RunLogCoding.negativeInfinity?: return -.infinity
                default: return nil
                }
            }
            guard let span = numberSpan()?.range, span.count < 64 else { return nil }
            // strtod needs a terminated string; the span is short, so copy it to the stack.
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: span.count + 1) { buffer -> Double? in
                for (k, j) in span.enumerated() { buffer[k] = CChar(bitPattern: b[j]) }
                buffer[span.count] = 0
                return strtod(buffer.baseAddress!, nil)
            }
        }

        mutating func int() -> Int? {
            guard let span = numberSpan(), span.integral, span.range.count <= 18 else { return nil }
            var value = 0
            var j = span.range.lowerBound
            let negative = b[j] == 0x2D
            if negative { j += 1 }
            while j < span.range.upperBound { value = value * 10 + Int(b[j] - 0x30); j += 1 }
            return negative ? -value : value
        }

        /// Calls `field` for every key of an object; false when the object is malformed or `field` refuses a key
        /// (unknown, repeated: see `assign`, or a value of the wrong kind).
        mutating func object(_ field: (inout Parser, String) -> Bool) -> Bool {
            guard take(0x7B) else { return false }
            if take(0x7D) { return true }
            repeat {
                guard let key = plainString(), take(0x3A), field(&self, key) else { return false }
            } while take(0x2C)
            return take(0x7D)
        }

        mutating func metrics() -> ObjectiveMetrics?? {
            if null() { return .some(nil) }
            var loss: Double?, tokens: Int?, preference: PreferenceMetrics??
            let ok = object { p, key in
                switch key {
                case "loss": return StepLineDecoder.assign(&loss, p.double())
                case "tokens": return StepLineDecoder.assign(&tokens, p.int())
                case "preference": return StepLineDecoder.assign(&preference, p.preference())
                default: return false
                }
            }
            guard ok, let loss, let tokens else { return nil }
            return .some(ObjectiveMetrics(loss: loss, tokens: tokens, preference: preference ?? nil))
        }

        mutating func preference() -> PreferenceMetrics?? {
            if null() { return .some(nil) }
            var chosen: Double?, rejected: Double?, accuracy: Double?, margin: Double?
            let ok = object { p, key in
                switch key {
                case "chosenReward": return StepLineDecoder.assign(&chosen, p.double())
                case "rejectedReward": return StepLineDecoder.assign(&rejected, p.double())
                case "rewardAccuracy": return StepLineDecoder.assign(&accuracy, p.double())
                case "margin": return StepLineDecoder.assign(&margin, p.double())
                default: return false
                }
            }
            guard ok, let chosen, let rejected, let accuracy, let margin else { return nil }
            return .some(PreferenceMetrics(chosenReward: chosen, rejectedReward: rejected, rewardAccuracy: accuracy, margin: margin))
        }

        mutating func gaps() -> WeightedGaps?? {
            if null() { return .some(nil) }
            var sft: Double?, dpo: Double?
            let ok = object { p, key in
                switch key {
                case "sft": return StepLineDecoder.assign(&sft, p.double())
                case "dpo": return StepLineDecoder.assign(&dpo, p.double())
                default: return false
                }
            }
            guard ok, let sft, let dpo else { return nil }
            return .some(WeightedGaps(sft: sft, dpo: dpo))
        }

        mutating func objectives() -> [Objective]? {
            guard take(0x5B) else { return nil }
            var list: [Objective] = []
            if take(0x5D) { return list }
            repeat {
                guard let name = plainString(), let objective = Objective(rawValue: name) else { return nil }
                list.append(objective)
            } while take(0x2C)
            return take(0x5D) ? list : nil
        }

        /// Optional fields: `null` or absent is nil, as `decodeIfPresent` reads them.
        mutating func optionalDouble() -> Double?? { null() ? .some(nil) : double().map { .some($0) } }
        mutating func optionalBool() -> Bool?? { null() ? .some(nil) : bool().map { .some($0) } }

        mutating func stepRecord() -> RunRecord? {
            var type: String?, time: Double??
            var step: Int?, epoch: Int?, strategy: StrategyName?, objectives: [Objective]?
            var sft: ObjectiveMetrics??, dpo: ObjectiveMetrics??, gaps: WeightedGaps??
            var lambda: Double?, learningRate: Double?, tokens: Int?, tokensPerSecond: Double?, stepSeconds: Double?
            var elapsed: Double?, updateApplied: Bool?, gradientNorm: Double??, gapsEvaluated: Bool??
            let ok = object { p, key in
                switch key {
                case "type": return p.plainString() == "step" && StepLineDecoder.assign(&type, "step")
                case "time": return StepLineDecoder.assign(&time, p.optionalDouble())
                case "step": return StepLineDecoder.assign(&step, p.int())
                case "epoch": return StepLineDecoder.assign(&epoch, p.int())
                case "strategy": return StepLineDecoder.assign(&strategy, p.plainString().flatMap(StrategyName.init(rawValue:)))
                case "objectives": return StepLineDecoder.assign(&objectives, p.objectives())
                case "sft": return StepLineDecoder.assign(&sft, p.metrics())
                case "dpo": return StepLineDecoder.assign(&dpo, p.metrics())
                case "lambda": return StepLineDecoder.assign(&lambda, p.double())
                case "learningRate": return StepLineDecoder.assign(&learningRate, p.double())
                case "tokens": return StepLineDecoder.assign(&tokens, p.int())
                case "tokensPerSecond": return StepLineDecoder.assign(&tokensPerSecond, p.double())
                case "stepSeconds": return StepLineDecoder.assign(&stepSeconds, p.double())
                case "elapsedSeconds": return StepLineDecoder.assign(&elapsed, p.double())
                case "updateApplied": return StepLineDecoder.assign(&updateApplied, p.bool())
                case "gradientNorm": return StepLineDecoder.assign(&gradientNorm, p.optionalDouble())
                case "gaps": return StepLineDecoder.assign(&gaps, p.gaps())
                case "gapsEvaluated": return StepLineDecoder.assign(&gapsEvaluated, p.optionalBool())
                default: return false
                }
            }
            guard ok, type != nil, let step, let epoch, let strategy, let objectives, let lambda, let learningRate,
                  let tokens, let tokensPerSecond, let stepSeconds, let elapsed, let updateApplied else { return nil }
            let event = StepEvent(step: step, epoch: epoch, strategy: strategy, objectives: objectives, sft: sft ?? nil,
                                  dpo: dpo ?? nil, lambda: lambda, learningRate: learningRate, tokens: tokens,
                                  tokensPerSecond: tokensPerSecond, stepSeconds: stepSeconds, elapsedSeconds: elapsed,
                                  updateApplied: updateApplied, gradientNorm: gradientNorm ?? nil, gaps: gaps ?? nil,
                                  gapsEvaluated: gapsEvaluated ?? nil)
            return RunRecord(time: (time ?? nil) ?? 0, event: .step(event))
        }
    }
}
