/// A deterministic held-out split: a record goes to evaluation when a seeded hash of its content falls below
/// `fraction`. The decision depends on the record alone (not its position), so it is the same when the file
/// is streamed, shuffled or read in parts, and duplicate records always land on the same side.
public struct EvalSplit: Hashable, Sendable {
    public let fraction: Double
    public let seed: UInt64

    public init(fraction: Double, seed: UInt64 = 0) throws {
        guard fraction >= 0 && fraction < 1 else {
            throw DataOptionError(option: "--eval-fraction",
                                  "expected a fraction in [0, 1), e.g. 0.03 for 3%, found \(fraction)")
        }
        self.fraction = fraction
        self.seed = seed
    }

    public func isEval(_ example: SFTExample) -> Bool {
        var hash = ContentHash()
        hash.add(example.context)
        hash.add(example.prompt)
        hash.add(example.response)
        return isEval(hash)
    }

    public func isEval(_ pair: PreferencePair) -> Bool {
        var hash = ContentHash()
        hash.add(pair.context)
        hash.add(pair.prompt)
        hash.add(pair.chosen)
        hash.add(pair.rejected)
        return isEval(hash)
    }

    public func isEval(_ record: DataRecord) -> Bool {
        switch record {
        case .sft(let example): return isEval(example)
        case .preference(let pair): return isEval(pair)
        }
    }

    private func isEval(_ hash: ContentHash) -> Bool {
        // The top 53 bits of the mixed hash as a uniform number in [0, 1).
        let mixed = SplitMix64.mix(hash.value ^ SplitMix64.mix(seed &+ 0x9E37_79B9_7F4A_7C15))
        return Double(mixed >> 11) * 0x1p-53 < fraction
    }
}

/// 64-bit FNV-1a over the UTF-8 of each field, fields separated by 0xFF (a byte UTF-8 never contains), so
/// ("ab", "c") and ("a", "bc") hash differently.
struct ContentHash {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 { mixIn(byte) }
        mixIn(0xFF)
    }

    mutating func add(_ turns: [Turn]) {
        for turn in turns {
            add(turn.role.rawValue)
            add(turn.text)
        }
        mixIn(0xFE)
    }

    private mutating func mixIn(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, and its finalizer as a bit mixer.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    static func mix(_ input: UInt64) -> UInt64 {
        var z = input
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
