import Foundation
import Training

/// Draws a replay: one run is the live dashboard's own screen (the same renderer over the state as it was at
/// the playback moment); several runs share the axes, each in its own colour with a legend. Either way the
/// footer row is the transport bar.
public final class ReplayRenderer {
    private let single = DashboardRenderer()
    private let overlay = ReplayOverlayRenderer()

    public init() {}

    public func draw(_ player: ReplayPlayer, on target: Surface, glyphs: Glyphs, colors: Bool) {
        let surface: Surface = glyphs.usesBraille ? target : ASCIISurface(target)
        guard let layout = DashboardLayout.compute(width: surface.width, height: surface.height) else {
            single.drawTooSmall(on: surface)
            return
        }
        if player.isOverlay {
            overlay.draw(player, layout: layout, on: surface, glyphs: glyphs)
        } else {
            // The live renderer wraps a non-UTF-8 surface itself: hand it the original.
            single.draw(player.controllers[0], on: target, glyphs: glyphs, colors: colors)
        }
        surface.fill(layout.footer)
        ReplayTransportBar(player: player).draw(on: surface, in: layout.footer, glyphs: glyphs)
        if player.showHelp { drawHelp(on: surface, glyphs: glyphs) }
    }

    private func drawHelp(on surface: Surface, glyphs: Glyphs) {
        HelpOverlay.draw(ReplayKeyTable.helpLines(lambdaSymbol: glyphs.lambdaSymbol), title: "Replay keys (? or Esc closes)",
                         on: surface, glyphs: glyphs)
    }
}

/// The footer row of a replay: play state, speed, time position, a progress bar with the run's λ changes (λ)
/// and pauses (p) where they happened, the step, then key hints.
struct ReplayTransportBar {
    let player: ReplayPlayer

    func draw(on surface: Surface, in rect: Rect, glyphs: Glyphs) {
        var w = RowWriter(surface, rect, row: 0)
        let t = player.transport
        w.write(" ")
        if t.live, player.isLoading, !player.following {
            w.write("● READING", .good)
        } else if t.live {
            w.write("● LIVE", .good)
        } else if t.playing {
            w.write("▶ PLAY", .good)
        } else {
            w.write("❚❚ PAUSE", .warning)
        }
        w.write(" \(t.speedLabel)  ", .text)
        let duration = player.duration
        w.write(Format.duration(max(0, t.clock)) + "/" + Format.duration(duration), .title)
        w.write(" ")
        let barWidth = min(24, max(8, rect.width / 6))
        drawBar(on: surface, x: w.x, y: w.y, width: barWidth, glyphs: glyphs)
        w.x += barWidth
        let steps = player.controllers.map { $0.state.step }
        w.write("  step ", .muted)
        w.write(player.isOverlay ? steps.map(String.init).joined(separator: "/") : "\(steps[0])", .text)
        w.write("  ")
        if let notice = player.notice {
            w.write(notice, .warning)
        } else if let loading = player.loadingStatus {
            w.write(loading, .title)
        } else {
            w.write(ReplayKeyTable.footer(width: rect.maxX - w.x - 1, lambdaSymbol: glyphs.lambdaSymbol), .muted)
        }
    }

    private func drawBar(on surface: Surface, x: Int, y: Int, width: Int, glyphs: Glyphs) {
        let duration = player.duration
        let fraction = duration > 0 ? max(0, player.transport.clock) / duration : (player.atEnd ? 1 : 0)
        Gauge(fraction: fraction).draw(on: surface, x: x, y: y, width: width, glyphs: glyphs)
        guard duration > 0 else { return }
        // λ changes and pauses of every run, at the cell of the moment they happened.
        for timeline in player.timelines {
            for (time, mark) in timeline.transportMarks {
                let glyph: Unicode.Scalar = mark == .pause ? "p" : "λ"
                let cell = min(width - 1, Int(time / duration * Double(width)))
                surface.put(glyph, x: x + cell, y: y, role: .warning)
            }
        }
    }
}
