import Foundation

/// Axis bounds rounded outward to round numbers. Besides reading better, rounded bounds stay put while the
/// data moves inside them, so a new point changes a few cells instead of rescaling (and resending) the chart.
public enum NiceRange {
    static let mantissas: [Double] = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]

    /// The smallest value of the form m·10^k (m from 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8) that is ≥ value.
    public static func ceiling(_ value: Double) -> Double {
        guard value.isFinite, value > 0 else { return value }
        let magnitude = pow(10, floor(log10(value)))
        for m in mantissas where m * magnitude >= value * (1 - 1e-12) { return m * magnitude }
        return 10 * magnitude
    }

    /// A 1-2-5 step near span/divisions.
    public static func step(span: Double, divisions: Double = 4) -> Double {
        let raw = span / divisions
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(raw)))
        let m = raw / magnitude
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * magnitude
    }

    /// [lo, hi] widened to multiples of a round step.
    public static func expand(_ lo: Double, _ hi: Double) -> (Double, Double) {
        guard lo.isFinite, hi.isFinite, hi > lo else { return (lo, hi) }
        let s = step(span: hi - lo)
        return (floor(lo / s) * s, ceil(hi / s) * s)
    }
}
