/// Order statistics of sequence lengths, by the nearest-rank rule: the p-th percentile of n sorted values is
/// the value at rank ⌈p·n/100⌉ (so the median of an even count is the lower middle value).
public struct LengthSummary: Codable, Equatable, Sendable {
    public var count: Int
    public var min: Int
    public var median: Int
    public var p95: Int
    public var max: Int
    /// How many sequences are longer than the length limit, when one was given.
    public var overLimit: Int?

    /// nil for no lengths.
    public init?(lengths: [Int], limit: Int? = nil) {
        guard !lengths.isEmpty else { return nil }
        let sorted = lengths.sorted()
        func percentile(_ p: Int) -> Int {
            let rank = (p * sorted.count + 99) / 100
            return sorted[Swift.max(rank, 1) - 1]
        }
        count = sorted.count
        min = sorted[0]
        median = percentile(50)
        p95 = percentile(95)
        max = sorted[sorted.count - 1]
        overLimit = limit.map { limit in sorted.count - upperBound(sorted, limit) }
    }
}

/// Index of the first element greater than `value` in ascending `sorted`.
private func upperBound(_ sorted: [Int], _ value: Int) -> Int {
    var low = 0
    var high = sorted.count
    while low < high {
        let middle = (low + high) / 2
        if sorted[middle] <= value { low = middle + 1 } else { high = middle }
    }
    return low
}
