/// What a cell is drawn as; the theme decides the colours and attributes of each role.
public enum Role: Int, CaseIterable, Sendable {
    case text, muted, title, border, axis
    case sftRaw, sftSmooth, dpoRaw, dpoSmooth, mix, evalMark
    case gaugeFill, gaugeEmpty, trajectory, idealPoint
    case good, warning, error, selected
    /// Runs overlaid by replay, one colour each (a seventh run takes the first colour again).
    case run1, run2, run3, run4, run5, run6

    public static let runs: [Role] = [.run1, .run2, .run3, .run4, .run5, .run6]
    public static func run(_ index: Int) -> Role { runs[index % runs.count] }
}

/// A rectangle of cells, in screen coordinates.
public struct Rect: Equatable, Sendable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }

    /// The rectangle without its outer `n` cells on every side.
    public func inset(_ n: Int) -> Rect { Rect(x: x + n, y: y + n, width: width - 2 * n, height: height - 2 * n) }

    /// Splits off the top `rows` (clamped); returns (top, rest).
    public func splitTop(_ rows: Int) -> (Rect, Rect) {
        let r = min(max(rows, 0), height)
        return (Rect(x: x, y: y, width: width, height: r), Rect(x: x, y: y + r, width: width, height: height - r))
    }

    /// Splits off the left `columns` (clamped); returns (left, rest).
    public func splitLeft(_ columns: Int) -> (Rect, Rect) {
        let c = min(max(columns, 0), width)
        return (Rect(x: x, y: y, width: c, height: height), Rect(x: x + c, y: y, width: width - c, height: height))
    }

    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }

    public var description: String { "\(width)×\(height)+\(x)+\(y)" }
}

/// Where widgets draw: the ncurses screen, or an in-memory grid (tests, benchmarks, text screenshots).
/// Coordinates are screen cells; writes outside the surface are dropped.
public protocol Surface: AnyObject {
    var width: Int { get }
    var height: Int { get }
    /// Writes `text` from (x, y) to the right, one cell per Unicode scalar, clipped to `clip`.
    func put(_ text: String, x: Int, y: Int, role: Role, clip: Rect)
    /// Writes one cell.
    func put(_ scalar: Unicode.Scalar, x: Int, y: Int, role: Role)
}

extension Surface {
    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public func put(_ text: String, x: Int, y: Int, role: Role) {
        put(text, x: x, y: y, role: role, clip: bounds)
    }

    /// Fills a rectangle with one scalar (spaces clear it).
    public func fill(_ rect: Rect, with scalar: Unicode.Scalar = " ", role: Role = .text) {
        for row in rect.y..<rect.maxY { for col in rect.x..<rect.maxX { put(scalar, x: col, y: row, role: role) } }
    }
}

/// An in-memory grid of cells: what tests assert on and what `--screenshot` prints.
public final class TextSurface: Surface {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Unicode.Scalar]
    public private(set) var roles: [Role]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: " ", count: self.width * self.height)
        roles = Array(repeating: .text, count: self.width * self.height)
    }

    public func clear() {
        for i in cells.indices { cells[i] = " "; roles[i] = .text }
    }

    public func put(_ text: String, x: Int, y: Int, role: Role, clip: Rect) {
        guard y >= max(0, clip.y), y < min(height, clip.maxY) else { return }
        var col = x
        let end = min(width, clip.maxX)
        for scalar in text.unicodeScalars {
            if col >= end { break }
            if col >= max(0, clip.x) { cells[y * width + col] = scalar; roles[y * width + col] = role }
            col += 1
        }
    }

    public func put(_ scalar: Unicode.Scalar, x: Int, y: Int, role: Role) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        cells[y * width + x] = scalar
        roles[y * width + x] = role
    }

    public func line(_ y: Int) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: cells[(y * width)..<((y + 1) * width)])
        return String(s)
    }

    /// The whole grid as text, trailing spaces trimmed from each line.
    public var text: String {
        (0..<height).map { line($0).replacingTrailingSpaces() }.joined(separator: "\n")
    }

    public func role(x: Int, y: Int) -> Role { roles[y * width + x] }
}

extension String {
    func replacingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
