import Engine

/// The order of an epoch's items: a seeded Fisher–Yates shuffle of 0..<count, the same for the same
/// (seed, epoch) — what `DistributedSampler.set_epoch` gives the official trainers. Data sources may use it.
public enum EpochOrder {
    public static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var order = Array(0..<count)
        var rng = SeededRandom(seed: seed, stream: UInt64(truncatingIfNeeded: epoch) &+ 1)
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
