import Foundation

/// Deterministic random numbers for initialisation, shuffling and sampling: xoshiro256** (Blackman & Vigna, 2018)
/// seeded through SplitMix64. The whole state is four words, so a checkpoint stores it and a resumed run draws the
/// same numbers. The one generator of the project (the engine's initialisers, the trainer's strategies and data).
public struct SeededRandom: RandomNumberGenerator, Codable, Equatable, Sendable {
    public private(set) var state: [UInt64]

    public init(seed: UInt64) {
        var s = seed
        state = (0..<4).map { _ in Self.splitMix(&s) }
    }

    /// A generator for one purpose (`stream`) derived from the run seed, independent of the others.
    public init(seed: UInt64, stream: UInt64) {
        var mixer = seed ^ (stream &* 0x9E37_79B9_7F4A_7C15)
        self.init(seed: Self.splitMix(&mixer))
    }

    private static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "xoshiro256** needs four words, not all zero")
        self.state = state
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Self.rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = Self.rotl(state[3], 45)
        return result
    }

    /// Uniform in [0, 1) with 24 bits of resolution (exactly representable as Float).
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) with 53 bits of resolution.
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal sample (Box–Muller; one value per call keeps the stream position simple to reason about).
    public mutating func nextGaussian() -> Float {
        var u1 = nextUnitDouble()
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = nextUnitDouble()
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }
}

extension SeededRandom {
    // Hex strings, not JSON numbers: many JSON readers hold numbers as doubles and would round 64-bit words.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let words = try container.decode([String].self)
        let parsed = words.compactMap { UInt64($0, radix: 16) }
        guard parsed.count == 4, words.count == 4, parsed.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription:
                "RNG state must be 4 hexadecimal 64-bit words, not all zero; got \(words)")
        }
        state = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(state.map { String($0, radix: 16) })
    }
}

@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
