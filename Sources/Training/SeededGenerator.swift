/// xoshiro256** (Blackman & Vigna, 2018), seeded through SplitMix64: fast, and its whole state is four words, so
/// a checkpoint stores it and a resumed run draws the same numbers.
public struct SeededGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var mixer = seed
        state = (Self.splitMix(&mixer), Self.splitMix(&mixer), Self.splitMix(&mixer), Self.splitMix(&mixer))
    }

    /// A generator for one purpose (`stream`) derived from the run seed, independent of the others.
    public init(seed: UInt64, stream: UInt64) {
        var mixer = seed ^ (stream &* 0x9E37_79B9_7F4A_7C15)
        self.init(seed: Self.splitMix(&mixer))
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    private static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool {
        a.state.0 == b.state.0 && a.state.1 == b.state.1 && a.state.2 == b.state.2 && a.state.3 == b.state.3
    }

    // Hex strings, not JSON numbers: many JSON readers hold numbers as doubles and would round 64-bit words.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let words = try container.decode([String].self)
        let parsed = words.compactMap { UInt64($0, radix: 16) }
        guard parsed.count == 4, words.count == 4 else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription:
                "RNG state must be 4 hexadecimal 64-bit words; got \(words)")
        }
        state = (parsed[0], parsed[1], parsed[2], parsed[3])
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode([state.0, state.1, state.2, state.3].map { String($0, radix: 16) })
    }
}

/// The order of an epoch's items: a seeded Fisher–Yates shuffle of 0..<count, the same for the same
/// (seed, epoch) — what `DistributedSampler.set_epoch` gives the official trainers. Data sources may use it.
public enum EpochOrder {
    public static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var order = Array(0..<count)
        var rng = SeededGenerator(seed: seed, stream: UInt64(truncatingIfNeeded: epoch) &+ 1)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                // Multiply-shift maps 64 random bits onto 0...i (bias below 2⁻⁴⁰ for any realistic count).
                let j = Int(rng.next().multipliedFullWidth(by: UInt64(i + 1)).high)
                order.swapAt(i, j)
            }
        }
        return order
    }
}
