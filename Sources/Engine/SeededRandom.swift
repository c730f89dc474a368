/// Deterministic random numbers for initialisation and sampling: xoshiro256** seeded through SplitMix64.
/// The whole state is four words, so it can be saved in a checkpoint and restored bit for bit.
public struct SeededRandom: RandomNumberGenerator, Codable, Equatable, Sendable {
    public private(set) var state: [UInt64]

    public init(seed: UInt64) {
        var s = seed
        var words = [UInt64]()
        for _ in 0..<4 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            words.append(z ^ (z >> 31))
        }
        state = words
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

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
