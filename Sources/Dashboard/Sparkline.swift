/// A one-row curve: each character is a column of the series, its height the column's highest value (a spike is
/// never averaged away) on a scale from 0 to `top`. Missing readings are blanks.
public enum Sparkline {
    static let unicodeLevels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    static let asciiLevels: [Character] = ["_", ".", "-", "~", "=", "+", "*", "#"]

    /// `values` (oldest first) squeezed into at most `width` columns: each column takes the maximum of the values
    /// that fall in it. Fewer values than columns give one column each, right-aligned (the newest at the right).
    public static func text(_ values: [Double?], width: Int, top: Double, unicode: Bool) -> String {
        guard width > 0, !values.isEmpty else { return "" }
        let levels = unicode ? unicodeLevels : asciiLevels
        let columns = min(width, values.count)
        var out = String(repeating: " ", count: width - columns)
        for column in 0..<columns {
            // Column c covers values [c·n/columns, (c+1)·n/columns): every value lands in exactly one column.
            let start = column * values.count / columns, end = (column + 1) * values.count / columns
            let peak = values[start..<end].compactMap { $0 }.filter(\.isFinite).max()
            guard let peak else { out.append(" "); continue }
            let share = top > 0 ? min(1, max(0, peak / top)) : 0
            out.append(levels[min(levels.count - 1, Int((share * Double(levels.count - 1)).rounded()))])
        }
        return out
    }
}
