import Foundation

/// How the next token is chosen. Temperature 0 is greedy (the first highest logit, as torch.argmax). Otherwise
/// the filters apply in transformers' order — temperature, top-k, top-p, min-p — and a token is drawn from what
/// is left, renormalised, with a seeded generator (same seed, same tokens). See docs/GENERATE.md, "Sampling".
public struct SamplingOptions: Equatable, Sendable {
    public var temperature: Float
    public var topK: Int?
    public var topP: Float?
    public var minP: Float?
    public var seed: UInt64

    public static let greedy = SamplingOptions(temperature: 0)

    public init(temperature: Float, topK: Int? = nil, topP: Float? = nil, minP: Float? = nil, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.seed = seed
    }

    public var isGreedy: Bool { temperature == 0 }

    /// The first out-of-range value, named by its command-line flag.
    public func validate() throws {
        func bad(_ flag: String, _ expected: String, _ got: Any) -> SamplingError {
            SamplingError(message: "\(flag) must be \(expected), got \(got)")
        }
        if !temperature.isFinite || temperature < 0 { throw bad("--temperature", "a number ≥ 0 (0 = greedy)", temperature) }
        if let k = topK, k < 1 { throw bad("--top-k", "≥ 1", k) }
        if let p = topP, !(p > 0 && p <= 1) { throw bad("--top-p", "in (0, 1]", p) }
        if let m = minP, !(m >= 0 && m < 1) { throw bad("--min-p", "in [0, 1)", m) }
    }
}

public struct SamplingError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

public struct Sampler {
    public let options: SamplingOptions
    private var random: SeededRandom

    public init(_ options: SamplingOptions) {
        self.options = options
        random = SeededRandom(seed: options.seed)
    }

    /// The next token for `logits` [vocab].
    public mutating func next(_ logits: [Float]) -> Int {
        if options.isGreedy { return Self.argmax(logits) }
        let candidates = Self.distribution(logits, options)
        let u = Float(random.nextUnitDouble())
        var cumulative: Float = 0
        for c in candidates {
            cumulative += c.probability
            if u < cumulative { return c.id }
        }
        return candidates.last!.id
    }

    public static func argmax(_ logits: [Float]) -> Int {
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        return best
    }

    /// The tokens left after every filter, with probabilities renormalised to sum to 1, most likely first
    /// (ties by id). Needs a temperature > 0.
    public static func distribution(_ logits: [Float], _ o: SamplingOptions) -> [(id: Int, probability: Float)] {
        precondition(o.temperature > 0, "greedy decoding has no distribution")
        var ranked = logits.enumerated().map { (id: $0.offset, logit: $0.element / o.temperature) }
        ranked.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        if let k = o.topK { ranked.removeSubrange(min(k, ranked.count)...) }
        var probs = softmax(ranked.map(\.logit))
        if let p = o.topP {
            // Smallest head whose mass reaches p (transformers drops the tail whose mass is ≤ 1 − p).
            var mass: Float = 0, keep = probs.count
            for (i, q) in probs.enumerated() {
                mass += q
                if mass >= p { keep = i + 1; break }
            }
            ranked.removeSubrange(keep...)
            probs = softmax(ranked.map(\.logit))
        }
        if let m = o.minP {
            let threshold = m * probs[0]
            let keep = max(1, probs.firstIndex { $0 < threshold } ?? probs.count)
            ranked.removeSubrange(keep...)
            probs = softmax(ranked.map(\.logit))
        }
        return zip(ranked, probs).map { (id: $0.id, probability: $1) }
    }

    static func softmax(_ x: [Float]) -> [Float] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp(Double($0 - m)) }
        let sum = e.reduce(0, +)
        return e.map { Float($0 / sum) }
    }
}
