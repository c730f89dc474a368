import Foundation

/// Number formats shared by the panels: short, fixed width where it keeps columns still.
public enum Format {
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
        return String(format: "%.\(digits)f", value)
    }

    /// Losses: 4 significant digits, scientific when tiny or huge.
    public static func loss(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
        let a = abs(value)
        if a != 0 && (a < 1e-3 || a >= 1e5) { return String(format: "%.2e", value) }
        return String(format: "%.4g", value)
    }

    /// Axis labels: at most ~6 characters.
    public static func axis(_ value: Double) -> String {
        guard value.isFinite else { return "?" }
        let a = abs(value)
        if a == 0 { return "0" }
        if a < 1e-2 || a >= 1e5 { return String(format: "%.0e", value) }
        if a >= 100 { return String(format: "%.0f", value) }
        if a >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    /// hh:mm:ss, or m:ss under an hour.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        let h = s / 3600, m = (s % 3600) / 60, sec = s % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }

    /// 1234567 → "1.23M".
    public static func count(_ value: Double) -> String {
        guard value.isFinite else { return "?" }
        let a = abs(value)
        if a >= 1e9 { return String(format: "%.2fG", value / 1e9) }
        if a >= 1e6 { return String(format: "%.2fM", value / 1e6) }
        if a >= 1e4 { return String(format: "%.1fk", value / 1e3) }
        return String(format: "%.0f", value)
    }

    public static func bytes(_ value: UInt64) -> String {
        let v = Double(value)
        if v >= 1_073_741_824 { return String(format: "%.2f GiB", v / 1_073_741_824) }
        if v >= 1_048_576 { return String(format: "%.0f MiB", v / 1_048_576) }
        return String(format: "%.0f KiB", v / 1024)
    }
}
