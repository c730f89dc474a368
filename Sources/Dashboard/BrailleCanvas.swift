/// A pixel grid over a block of cells: 2×4 pixels per cell drawn as braille (U+2800 + dot bits), or, without
/// UTF-8, a coarser ASCII rendering of the same pixels. Each cell remembers the highest-priority role drawn into
/// it, so a smoothed curve wins over the raw one beneath it.
public struct BrailleCanvas {
    public let columns: Int
    public let rows: Int
    public var pixelWidth: Int { columns * 2 }
    public var pixelHeight: Int { rows * 4 }
    private var bits: [UInt8]
    private var cellRoles: [Role?]

    // Braille dot numbering (Unicode 2800 block): left column dots 1,2,3,7 → bits 0,1,2,6; right 4,5,6,8 → 3,4,5,7.
    // Computed, not looked up in a nested array: this runs for every pixel of every chart on every frame.
    @inline(__always)
    private static func dotBit(_ px: Int, _ py: Int) -> UInt8 {
        let column = px & 1, row = py & 3
        return row == 3 ? UInt8(0x40 << column) : UInt8(1 << (row + 3 * column))
    }

    public init(columns: Int, rows: Int) {
        self.columns = max(0, columns)
        self.rows = max(0, rows)
        bits = Array(repeating: 0, count: self.columns * self.rows)
        cellRoles = Array(repeating: nil, count: self.columns * self.rows)
    }

    public mutating func reset() {
        for i in bits.indices { bits[i] = 0; cellRoles[i] = nil }
    }

    /// Sets pixel (px, py), py = 0 at the top. Outside the canvas: ignored.
    @inline(__always)
    public mutating func set(_ px: Int, _ py: Int, role: Role) {
        guard px >= 0, py >= 0, px < pixelWidth, py < pixelHeight else { return }
        let cell = (py >> 2) * columns + (px >> 1)
        bits[cell] |= Self.dotBit(px, py)
        if let existing = cellRoles[cell], existing.rawValue >= role.rawValue { return }
        cellRoles[cell] = role
    }

    /// A vertical run of pixels from y0 to y1 (either order) at column px.
    public mutating func vertical(_ px: Int, _ y0: Int, _ y1: Int, role: Role) {
        let lo = max(0, min(y0, y1)), hi = min(pixelHeight - 1, max(y0, y1))
        guard lo <= hi else { return }
        for py in lo...hi { set(px, py, role: role) }
    }

    /// A straight line (Bresenham).
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, role: Role) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        var guardSteps = dx - dy + 2
        while guardSteps > 0 {
            guardSteps -= 1
            set(x, y, role: role)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    public func isSet(_ px: Int, _ py: Int) -> Bool {
        guard px >= 0, py >= 0, px < pixelWidth, py < pixelHeight else { return false }
        return bits[(py >> 2) * columns + (px >> 1)] & Self.dotBit(px, py) != 0
    }

    /// The cell's glyph, or nil when no pixel in it is set.
    public func glyph(column: Int, row: Int, braille: Bool) -> (Unicode.Scalar, Role)? {
        let cell = row * columns + column
        let b = bits[cell]
        guard b != 0, let role = cellRoles[cell] else { return nil }
        if braille { return (Unicode.Scalar(0x2800 + UInt32(b))!, role) }
        // ASCII: upper half (dots 1,2,4,5) and lower half (dots 3,7,6,8).
        let upper = b & 0x1B != 0, lower = b & 0xE4 != 0
        return (upper && lower ? ":" : upper ? "'" : ".", role)
    }

    /// Copies the set cells to `surface` with the canvas's top-left at `origin`; unset cells are left alone.
    public func draw(on surface: Surface, at origin: (x: Int, y: Int), braille: Bool) {
        for row in 0..<rows {
            for column in 0..<columns {
                if let (scalar, role) = glyph(column: column, row: row, braille: braille) {
                    surface.put(scalar, x: origin.x + column, y: origin.y + row, role: role)
                }
            }
        }
    }
}
