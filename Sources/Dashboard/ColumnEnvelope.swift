import Foundation

/// Downsamples a series to one (min, max, first, last) per pixel column, so a spike inside a column still
/// reaches the screen: drawing each column's min..max span and joining a column's first value to the previous
/// column's last one shows every extreme however many points share a column.
public struct ColumnEnvelope {
    public private(set) var columns = 0
    public private(set) var minimum: [Double] = []
    public private(set) var maximum: [Double] = []
    public private(set) var first: [Double] = []
    public private(set) var last: [Double] = []
    public private(set) var filled: [Bool] = []

    public init() {}

    /// What the current columns were built from; the same key with more points only folds the new ones in.
    private var key: (x0: Double, x1: Double, columns: Int, logScale: Bool, generation: Int)?
    private var foldedCount = 0

    /// Like `fill`, but when the range, columns, scale and series generation are unchanged and points were only
    /// appended, folds in just the new points: a steady-state frame then costs O(new points), not O(run).
    public mutating func update(xs: [Double], ys: [Double], from x0: Double, to x1: Double, columns: Int,
                                logScale: Bool, generation: Int) {
        let n = min(xs.count, ys.count)
        if let k = key, k.x0 == x0, k.x1 == x1, k.columns == columns, k.logScale == logScale, k.generation == generation,
           n >= foldedCount, self.columns == columns {
            fold(xs: xs, ys: ys, range: foldedCount..<n, from: x0, to: x1, logScale: logScale)
        } else {
            resize(columns)
            if columns > 0, x1 >= x0 {
                fold(xs: xs, ys: ys, range: Self.lowerBound(xs, x0)..<n, from: x0, to: x1, logScale: logScale)
            }
            key = (x0, x1, columns, logScale, generation)
        }
        foldedCount = n
    }

    /// Buckets the points whose x lies in [x0, x1] into `columns` equal columns. `xs` must be non-decreasing;
    /// non-finite ys are skipped; with `logScale`, y is log10(y) and non-positive values are skipped.
    public mutating func fill(xs: [Double], ys: [Double], from x0: Double, to x1: Double, columns: Int,
                              logScale: Bool = false) {
        key = nil
        resize(columns)
        guard columns > 0, !xs.isEmpty, x1 >= x0 else { return }
        fold(xs: xs, ys: ys, range: Self.lowerBound(xs, x0)..<min(xs.count, ys.count), from: x0, to: x1, logScale: logScale)
    }

    private mutating func fold(xs: [Double], ys: [Double], range: Range<Int>, from x0: Double, to x1: Double, logScale: Bool) {
        let columns = self.columns
        guard columns > 0, !range.isEmpty else { return }
        let span = x1 - x0
        let scale = span > 0 ? Double(columns) / span : 0
        xs.withUnsafeBufferPointer { xb in
        ys.withUnsafeBufferPointer { yb in
        minimum.withUnsafeMutableBufferPointer { lo in
        maximum.withUnsafeMutableBufferPointer { hi in
        first.withUnsafeMutableBufferPointer { fi in
        last.withUnsafeMutableBufferPointer { la in
        filled.withUnsafeMutableBufferPointer { used in
            for i in range {
                let x = xb[i]
                if x < x0 { continue }
                if x > x1 { break }
                var y = yb[i]
                if logScale {
                    guard y > 0 else { continue }
                    y = log10(y)
                }
                guard y.isFinite else { continue }
                let c = span > 0 ? min(columns - 1, max(0, Int((x - x0) * scale))) : columns - 1
                if used[c] {
                    if y < lo[c] { lo[c] = y }
                    if y > hi[c] { hi[c] = y }
                    la[c] = y
                } else {
                    used[c] = true
                    lo[c] = y; hi[c] = y; fi[c] = y; la[c] = y
                }
            }
        }}}}}}}
    }

    /// The smallest and largest value over all filled columns.
    public var range: (Double, Double)? {
        var lo = Double.infinity, hi = -Double.infinity
        for c in 0..<columns where filled[c] {
            lo = Swift.min(lo, minimum[c])
            hi = Swift.max(hi, maximum[c])
        }
        return lo <= hi ? (lo, hi) : nil
    }

    private mutating func resize(_ n: Int) {
        if columns != n {
            columns = n
            minimum = Array(repeating: 0, count: n)
            maximum = minimum; first = minimum; last = minimum
            filled = Array(repeating: false, count: n)
        } else {
            for i in 0..<n { filled[i] = false }
        }
    }

    /// First index with xs[i] >= value (binary search: a zoomed window skips the run's head at no cost).
    static func lowerBound(_ xs: [Double], _ value: Double) -> Int {
        var lo = 0, hi = xs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if xs[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
