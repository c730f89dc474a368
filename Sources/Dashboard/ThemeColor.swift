/// A colour as a theme file names it.
public enum ThemeColor: Equatable, Sendable {
    /// The terminal's own foreground or background.
    case terminalDefault
    case rgb(UInt8, UInt8, UInt8)
    /// An xterm palette index (0–255).
    case indexed(UInt8)

    /// Parses "#rrggbb", "#rgb", a palette index "0"–"255", a basic colour name, or "" / "default".
    public static func parse(_ text: String) -> ThemeColor? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.isEmpty || t == "default" { return .terminalDefault }
        if t.hasPrefix("#") {
            let hex = t.dropFirst()
            guard hex.allSatisfy(\.isHexDigit) else { return nil }
            if hex.count == 6, let v = UInt32(hex, radix: 16) {
                return .rgb(UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
            }
            if hex.count == 3, let v = UInt32(hex, radix: 16) {
                let r = UInt8(v >> 8 & 0xF), g = UInt8(v >> 4 & 0xF), b = UInt8(v & 0xF)
                return .rgb(r * 17, g * 17, b * 17)
            }
            return nil
        }
        if let n = Int(t), (0...255).contains(n) { return .indexed(UInt8(n)) }
        if let i = Self.names.firstIndex(of: t) { return .indexed(UInt8(i)) }
        return nil
    }

    static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
                        "bright-black", "bright-red", "bright-green", "bright-yellow", "bright-blue",
                        "bright-magenta", "bright-cyan", "bright-white"]

    /// Approximate RGB of the 16 ANSI colours (xterm defaults), for matching against them.
    static let ansiRGB: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// RGB of an xterm-256 index: 16 ANSI, a 6×6×6 cube (levels 0, 95, 135, 175, 215, 255), 24 greys.
    static func rgb(ofIndex i: Int) -> (Int, Int, Int) {
        if i < 16 { return ansiRGB[i] }
        if i < 232 {
            let c = i - 16
            let level = { (v: Int) in v == 0 ? 0 : 55 + 40 * v }
            return (level(c / 36), level(c / 6 % 6), level(c % 6))
        }
        let g = 8 + 10 * (i - 232)
        return (g, g, g)
    }

    /// The palette index to use on a terminal with `colors` colours (256, 16 or 8); nil is the terminal default.
    public func paletteIndex(colors: Int) -> Int? {
        let target: (Int, Int, Int)
        switch self {
        case .terminalDefault: return nil
        case .indexed(let i):
            if Int(i) < colors { return Int(i) }
            target = Self.rgb(ofIndex: Int(i))
        case let .rgb(r, g, b):
            target = (Int(r), Int(g), Int(b))
        }
        let count = colors >= 256 ? 256 : (colors >= 16 ? 16 : 8)
        var candidates = Array(0..<count)
        // Greys matched by distance alone land on yellow or cyan in the 8/16 palettes; keep them grey.
        let isGrey = max(target.0, target.1, target.2) - min(target.0, target.1, target.2) < 30
        if isGrey && count < 256 { candidates = count == 16 ? [0, 8, 7, 15] : [0, 7] }
        var best = 0, bestDistance = Int.max
        for i in candidates {
            let c = Self.rgb(ofIndex: i)
            let d = (c.0 - target.0) * (c.0 - target.0) + (c.1 - target.1) * (c.1 - target.1) + (c.2 - target.2) * (c.2 - target.2)
            if d < bestDistance { bestDistance = d; best = i }
        }
        return best
    }
}
