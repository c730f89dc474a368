/// BPE merge rules: (left id, right id) → (rank, merged id), in an open-addressing hash table keyed by the
/// pair packed into 64 bits. Lower rank = learned earlier = applied first.
struct MergeTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private(set) var count = 0

    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
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
        while keys[i] != Self.empty && keys[i] != key { i = (i + 1) & mask }
        if keys[i] == Self.empty { count += 1 }
        keys[i] = key
        values[i] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: merged))
    }

    /// (rank, merged id) of the rule for the pair, or nil.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        let key = Self.key(left, right)
        return keys.withUnsafeBufferPointer { keys in
            var i = slot(key)
            while true {
                let k = keys[i]
                if k == key {
                    let v = values.withUnsafeBufferPointer { $0[i] }
                    return (Int32(truncatingIfNeeded: v >> 32), Int32(truncatingIfNeeded: v))
                }
                if k == Self.empty { return nil }
                i = (i + 1) & mask
            }
        }
    }
}
