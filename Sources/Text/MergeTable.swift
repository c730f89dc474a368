/// BPE merge rules: (left id, right id) → (rank, merged id), in an open-addressing hash table keyed by the
/// pair packed into 64 bits. Lower rank = learned earlier = applied first. Key and value sit side by side
/// (`slots[2i]`, `slots[2i + 1]`) so a lookup touches one cache line.
struct MergeTable: Sendable {
    private var slots: [UInt64]
    private let mask: Int
    private(set) var count = 0

    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: Self.empty, count: 2 * size)
        mask = size - 1
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        // Fibonacci hashing: the high bits of key × 2^64/φ spread consecutive ids well.
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Adds or replaces a rule (a later duplicate of a pair wins, as in a map built from the merges in order).
    mutating func insert(left: Int32, right: Int32, rank: Int32, merged: Int32) {
        let key = Self.key(left, right)
        var i = slot(key)
        while slots[2 * i] != Self.empty && slots[2 * i] != key { i = (i + 1) & mask }
        if slots[2 * i] == Self.empty { count += 1 }
        slots[2 * i] = key
        slots[2 * i + 1] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: merged))
    }

    /// (rank, merged id) of the rule for the pair, or nil.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        let key = Self.key(left, right)
        return slots.withUnsafeBufferPointer { slots in
            var i = slot(key)
            while true {
                let k = slots[2 * i]
                if k == key {
                    let v = slots[2 * i + 1]
                    return (Int32(truncatingIfNeeded: v >> 32), Int32(truncatingIfNeeded: v))
                }
                if k == Self.empty { return nil }
                i = (i + 1) & mask
            }
        }
    }
}
