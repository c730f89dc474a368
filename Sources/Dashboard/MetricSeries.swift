import Foundation

/// One objective's training loss over the run: raw values by step and time, and their debiased EMA.
///
/// Smoothing as TensorBoard does it: ema_t = w·ema_{t−1} + (1−w)·y_t, shown as ema_t / (1 − w^t) so the first
/// points are not pulled toward 0. Non-finite values are kept (the chart leaves them out) and skipped by the EMA.
public struct MetricSeries {
    public private(set) var steps: [Double] = []
    public private(set) var times: [Double] = []
    public private(set) var raw: [Double] = []
    public private(set) var smoothed: [Double] = []
    /// w in [0, 1); 0 is no smoothing.
    public private(set) var smoothingWeight: Double
    private var ema = 0.0
    private var emaCount = 0
    public private(set) var minimum: Double?
    /// Changes whenever existing values change (smoothing weight, truncation), so cached drawings are rebuilt.
    public private(set) var generation = 0

    public init(smoothingWeight: Double = 0.9) {
        self.smoothingWeight = min(max(smoothingWeight, 0), 0.999)
    }

    public var count: Int { raw.count }
    public var last: Double? { raw.last }
    public var lastSmoothed: Double? { smoothed.last }

    public mutating func append(step: Int, time: Double, value: Double) {
        steps.append(Double(step))
        times.append(time)
        raw.append(value)
        smoothed.append(nextSmoothed(value))
        if value.isFinite { minimum = Swift.min(minimum ?? value, value) }
    }

    private mutating func nextSmoothed(_ value: Double) -> Double {
        guard value.isFinite else { return smoothed.last ?? .nan }
        let w = smoothingWeight
        ema = w * ema + (1 - w) * value
        emaCount += 1
        guard w > 0 else { return value }
        var debias = 1.0
        // 1 − w^t; w^t underflows to 0 quickly, after which the correction is 1.
        if emaCount < 2000 { debias = 1 - pow(w, Double(emaCount)) }
        return ema / debias
    }

    /// Recomputes the smoothed values for a new weight (O(n), only when the user changes it).
    public mutating func setSmoothing(_ weight: Double) {
        smoothingWeight = min(max(weight, 0), 0.999)
        generation += 1
        ema = 0
        emaCount = 0
        for i in raw.indices { smoothed[i] = nextSmoothed(raw[i]) }
    }

    /// Drops points after `step` (a resumed run re-runs the steps after its checkpoint).
    public mutating func truncate(after step: Int) {
        guard let cut = steps.firstIndex(where: { $0 > Double(step) }) else { return }
        steps.removeSubrange(cut...)
        times.removeSubrange(cut...)
        raw.removeSubrange(cut...)
        smoothed.removeSubrange(cut...)
        minimum = raw.filter(\.isFinite).min()
        setSmoothing(smoothingWeight)
    }
}
