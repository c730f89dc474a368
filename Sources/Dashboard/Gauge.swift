/// A horizontal bar filled to `fraction` of its width, in eighths of a cell where the glyphs allow.
public struct Gauge {
    public var fraction: Double

    public init(fraction: Double) {
        self.fraction = fraction.isFinite ? min(max(fraction, 0), 1) : 0
    }

    public func draw(on surface: Surface, x: Int, y: Int, width: Int, glyphs: Glyphs) {
        guard width > 0 else { return }
        let eighths = Int((fraction * Double(width * 8)).rounded())
        let full = eighths / 8, part = eighths % 8
        for i in 0..<width {
            if i < full {
                surface.put(glyphs.eighths[7], x: x + i, y: y, role: .gaugeFill)
            } else if i == full && part > 0 {
                surface.put(glyphs.eighths[part - 1], x: x + i, y: y, role: .gaugeFill)
            } else {
                surface.put(glyphs.gaugeEmpty, x: x + i, y: y, role: .gaugeEmpty)
            }
        }
    }
}
