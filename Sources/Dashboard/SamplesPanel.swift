import Foundation
import Training

/// The Samples panel: each probe prompt and the model's newest reply to it, or (compare) its first reply beside
/// the newest, so a change of wording as λ moves can be read off directly.
struct SamplesPanel {
    let book: SampleBook
    let compare: Bool
    /// A live run can be asked for new samples (`r`); a replay cannot.
    let live: Bool

    func draw(on surface: Surface, in rect: Rect, glyphs: Glyphs) {
        var title = "Samples"
        if let step = book.latestStep { title += " · step \(step)" }
        let hints = (live ? "r new · " : "") + "b " + (compare ? "newest" : "first|now")
        if title.count + hints.count + 7 <= rect.width { title += " · " + hints }
        let inner = drawFrame(rect, title: title, on: surface, glyphs: glyphs)
        guard inner.width >= 8, inner.height >= 1 else { return }
        let probes = book.probes.compactMap { $0 }
        if probes.isEmpty {
            var w = RowWriter(surface, inner, row: 0)
            w.write("no samples yet" + (live ? ": r generates them now" : " (the run had none by this step)"), .muted)
            return
        }
        // Every probe gets an equal share of the rows; at least two (prompt and a line of reply) each.
        let shown = min(probes.count, max(1, inner.height / 2))
        let rows = inner.height / shown
        for (i, probe) in probes.prefix(shown).enumerated() {
            let block = Rect(x: inner.x, y: inner.y + i * rows, width: inner.width, height: i == shown - 1 ? inner.height - i * rows : rows)
            drawProbe(probe, number: i + 1, in: block, on: surface, glyphs: glyphs)
        }
    }

    private func drawProbe(_ probe: SampleBook.Probe, number: Int, in block: Rect, on surface: Surface, glyphs: Glyphs) {
        let meta = compare ? "" : "  @\(probe.latest.step) · \(probe.latest.tokens) tok · \(Format.fixed(probe.latest.seconds, 1))s"
        var head = RowWriter(surface, block, row: 0)
        head.write("\(number) ", .title)
        let room = max(4, block.width - 2 - meta.count)
        head.write(Self.oneLine(probe.prompt, width: room, ellipsis: glyphs.ellipsis), .muted)
        head.write(meta, .muted)
        let body = Rect(x: block.x, y: block.y + 1, width: block.width, height: block.height - 1)
        guard body.height >= 1 else { return }
        if compare {
            let (left, rest) = body.splitLeft((body.width - 1) / 2)
            let right = Rect(x: rest.x + 1, y: rest.y, width: rest.width - 1, height: rest.height)
            for y in body.y..<body.maxY { surface.put(glyphs.vertical, x: rest.x, y: y, role: .border) }
            drawReply(probe.first, label: "step \(probe.first.step)", in: left, on: surface, role: .muted)
            drawReply(probe.latest, label: "step \(probe.latest.step)", in: right, on: surface, role: .text)
        } else {
            drawReply(probe.latest, label: nil, in: body, on: surface, role: .text)
        }
    }

    private func drawReply(_ sample: SampleEvent, label: String?, in rect: Rect, on surface: Surface, role: Role) {
        guard rect.width >= 2, rect.height >= 1 else { return }
        var lines = Self.wrap(sample.reply, width: rect.width - 2)
        if let label { lines.insert(label, at: 0) }
        for (row, line) in lines.prefix(rect.height).enumerated() {
            surface.put(line, x: rect.x + 2, y: rect.y + row, role: label != nil && row == 0 ? .title : role, clip: rect)
        }
    }

    /// The reply word-wrapped to `width`, its own line breaks kept; "(empty reply)" when there is nothing.
    static func wrap(_ reply: String, width: Int) -> [String] {
        let trimmed = printable(reply).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return ["(empty reply)"] }
        return trimmed.split(separator: "\n", omittingEmptySubsequences: true).flatMap {
            DashboardRenderer.wrap(String($0).replacingOccurrences(of: "\t", with: " "), width: max(1, width))
        }
    }

    /// A young model's reply may hold any bytes: control characters (escape sequences would steer the terminal)
    /// become "·"; line breaks and tabs stay for `wrap` to handle.
    static func printable(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            let control = (v < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(v)
            out.append(control ? "·" : scalar)
        }
        return String(out)
    }

    static func oneLine(_ text: String, width: Int, ellipsis: String) -> String {
        let flat = printable(text).split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count <= width ? flat : String(flat.prefix(max(0, width - ellipsis.count))) + ellipsis
    }
}
