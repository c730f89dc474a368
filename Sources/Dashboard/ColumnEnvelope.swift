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

    /// Buckets the points whose x lies in [x0, x1] into `columns` equal columns. `xs` must be non-decreasing;
    /// non-finite ys are skipped; `transform` maps y first (e.g. log10 for a log axis; nil drops the point).
    public mutating func fill(xs: [Double], ys: [Double], from x0: Double, to x1: Double, columns: Int,
                              transform: ((Double) -> Double?)? = nil) {
        resize(columns)
        guard columns > 0, !xs.isEmpty, x1 >= x0 else { return }
        let span = x1 - x0
        let scale = span > 0 ? Double(columns) / span : 0
        let start = Self.lowerBound(xs, x0)
        xs.withUnsafeBufferPointer { xb in
            ys.withUnsafeBufferPointer { yb in
                var i = start
                let n = min(xb.count, yb.count)
                while i < n {
                    let x = xb[i]
                    if x > x1 { break }
                    var y = yb[i]
                    i += 1
                    if let transform {
                        guard let t = transform(y) else { continue }
                        y = t
                    }
                    guard y.isFinite else { continue }
                    let c = span > 0 ? min(columns - 1, max(0, Int((x - x0) * scale))) : columns - 1
                    if filled[c] {
                        if y < minimum[c] { minimum[c] = y }
                        if y > maximum[c] { maximum[c] = y }
                        last[c] = y
                    } else {
                        filled[c] = true
                        minimum[c] = y; maximum[c] = y; first[c] = y; last[c] = y
                    }
                }
            }
        }
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
