/// Where each panel goes for a terminal size; nil below 80×24 (the dashboard then says so and waits).
///
///     ┌ Losses ─────────────┐┌ Control ──┐
///     │                     ││           │
///     │                     │├ Trade-off ┤
///     ├ Objective choice ───┤├ System ───┤
///     event line(s) · footer with the keys
public struct DashboardLayout: Equatable, Sendable {
    public static let minimumWidth = 80
    public static let minimumHeight = 24

    public var losses: Rect
    /// Probe replies below the losses, from 40 rows; smaller screens show them in place of the losses (`a`).
    public var samples: Rect?
    public var objective: Rect
    public var control: Rect
    public var tradeoff: Rect
    public var system: Rect
    public var events: Rect
    public var footer: Rect

    public static func compute(width: Int, height: Int) -> DashboardLayout? {
        guard width >= minimumWidth, height >= minimumHeight else { return nil }
        let screen = Rect(x: 0, y: 0, width: width, height: height)
        let eventRows = height >= 40 ? 3 : 1
        let (body, bottom) = screen.splitTop(height - eventRows - 1)
        let (events, footer) = bottom.splitTop(eventRows)
        let (left, right) = body.splitLeft(width * 3 / 5)
        let (charts, objective) = left.splitTop(left.height - 5)
        var losses = charts, samples: Rect?
        if height >= 40 {
            let (top, bottom) = charts.splitTop(charts.height * 11 / 20)
            losses = top
            samples = bottom
        }
        let (control, rest) = right.splitTop(9)
        let systemRows = height >= 40 ? 6 : 4
        let (tradeoff, system) = rest.splitTop(rest.height - systemRows)
        return DashboardLayout(losses: losses, samples: samples, objective: objective, control: control, tradeoff: tradeoff,
                               system: system, events: events, footer: footer)
    }

    public var panels: [Rect] { [losses] + (samples.map { [$0] } ?? []) + [objective, control, tradeoff, system] }
}
