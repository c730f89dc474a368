/// Token ids of recently seen pre-token words: most words repeat, so BPE runs once per distinct word.
/// Open addressing over FNV-1a hashes; keys and ids live in two arenas. Bounded: when the table is half full
/// or an arena passes its limit, everything is dropped and the cache refills (cheaper than LRU bookkeeping,
/// and a corpus's frequent words come straight back).
final class WordCache {
    private struct Entry {
        var hash: UInt64 = 0           // 0 marks an empty slot (real hashes have the low bit set)
        var keyStart: Int32 = 0
        var keyLength: Int32 = 0
        var valueStart: Int32 = 0
        var valueLength: Int32 = 0
    }

    /// Longer words are encoded every time, as in `tokenizers` (whose cache also skips long words).
    static let maximumWordLength = 256

    private let slots: UnsafeMutablePointer<Entry>
    private let mask: Int
    private let maximumEntries: Int
    private let maximumArenaBytes: Int
    private var keys: UnsafeMutablePointer<UInt8>
    private var keyCapacity: Int
    private var keyCount = 0
    private var values: UnsafeMutablePointer<Int32>
    private var valueCapacity: Int
    private var valueCount = 0
    private(set) var count = 0

    /// Up to half of `slotCount` words: 65,536 by default, so a corpus's working vocabulary fits (alpaca_5000
    /// has 23,336 distinct pre-token words; `tokenizers` keeps 10,000).
    init(slotCount: Int = 1 << 17, maximumArenaBytes: Int = 8 << 20) {
        var size = 16
        while size < slotCount { size <<= 1 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Entry(), count: size)
        mask = size - 1
        maximumEntries = size / 2
        self.maximumArenaBytes = maximumArenaBytes
        keyCapacity = 1 << 16
        keys = .allocate(capacity: keyCapacity)
        valueCapacity = 1 << 14
        values = .allocate(capacity: valueCapacity)
    }

    deinit {
        slots.deallocate()
        keys.deallocate()
        values.deallocate()
    }

    @inline(__always)
    static func hash(_ word: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in word { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return h | 1
    }

    /// The cached ids of `word` (valid until the next `insert`), or nil.
    @inline(__always)
    func lookup(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64) -> UnsafeBufferPointer<Int32>? {
        var i = Int(truncatingIfNeeded: hash >> 17) & mask
        while true {
            let entry = slots[i]
            if entry.hash == 0 { return nil }
            if entry.hash == hash, Int(entry.keyLength) == word.count,
               Self.bytesEqual(keys + Int(entry.keyStart), word.baseAddress!, word.count) {
                return UnsafeBufferPointer(start: values + Int(entry.valueStart), count: Int(entry.valueLength))
            }
            i = (i + 1) & mask
        }
    }

    /// Words are short (5 bytes on average): an inline loop beats a call to memcmp.
    @inline(__always)
    private static func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var i = 0
        while i + 8 <= count {
            if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self)
                != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) { return false }
            i += 8
        }
        while i < count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    func insert(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64, ids: UnsafeBufferPointer<Int32>) {
        if count >= maximumEntries || keyCount + word.count + 4 * (valueCount + ids.count) > maximumArenaBytes {
            clear()
        }
        Self.grow(&keys, capacity: &keyCapacity, used: keyCount, toHold: keyCount + word.count)
        Self.grow(&values, capacity: &valueCapacity, used: valueCount, toHold: valueCount + ids.count)
        var i = Int(truncatingIfNeeded: hash >> 17) & mask
        while slots[i].hash != 0 { i = (i + 1) & mask }
        (keys + keyCount).update(from: word.baseAddress!, count: word.count)
        (values + valueCount).update(from: ids.baseAddress!, count: ids.count)
        slots[i] = Entry(hash: hash, keyStart: Int32(keyCount), keyLength: Int32(word.count),
                         valueStart: Int32(valueCount), valueLength: Int32(ids.count))
        keyCount += word.count
        valueCount += ids.count
        count += 1
    }

    func clear() {
        slots.update(repeating: Entry(), count: mask + 1)
        keyCount = 0
        valueCount = 0
        count = 0
    }

    /// Doubles `storage` until it holds `needed` elements, keeping the first `used`.
    private static func grow<Element>(_ storage: inout UnsafeMutablePointer<Element>, capacity: inout Int, used: Int,
                                      toHold needed: Int) {
        guard needed > capacity else { return }
        var size = capacity * 2
        while size < needed { size *= 2 }
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: size)
        grown.update(from: storage, count: used)
        storage.deallocate()
        storage = grown
        capacity = size
    }
}
