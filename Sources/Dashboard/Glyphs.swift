/// The characters widgets draw with: Unicode box drawing, blocks and braille on a UTF-8 terminal, ASCII otherwise.
public struct Glyphs: Sendable {
    public var horizontal, vertical, topLeft, topRight, bottomLeft, bottomRight: Unicode.Scalar
    /// Gauge fill from 1/8 to 8/8 of a cell.
    public var eighths: [Unicode.Scalar]
    public var gaugeEmpty: Unicode.Scalar
    public var stripCell: Unicode.Scalar
    public var evalMark: Unicode.Scalar
    public var idealMark: Unicode.Scalar
    public var currentMark: Unicode.Scalar
    public var axisTick: Unicode.Scalar
    public var usesBraille: Bool
    public var lambdaSymbol: String
    public var betaSymbol: String
    public var ellipsis: String

    public static let unicode = Glyphs(
        horizontal: "─", vertical: "│", topLeft: "╭", topRight: "╮", bottomLeft: "╰", bottomRight: "╯",
        eighths: ["▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"], gaugeEmpty: "░", stripCell: "▮", evalMark: "◆",
        idealMark: "★", currentMark: "●", axisTick: "┤", usesBraille: true, lambdaSymbol: "λ", betaSymbol: "β",
        ellipsis: "…")

    public static let ascii = Glyphs(
        horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        eighths: ["#", "#", "#", "#", "#", "#", "#", "#"], gaugeEmpty: ".", stripCell: "#", evalMark: "o",
        idealMark: "*", currentMark: "@", axisTick: "+", usesBraille: false, lambdaSymbol: "lambda", betaSymbol: "beta",
        ellipsis: "~")
}

/// Passes drawing through to another surface with the non-ASCII symbols of labels and messages spelled in
/// ASCII (λ → lambda, → → ->), for terminals whose locale is not UTF-8.
final class ASCIISurface: Surface {
    let base: Surface
    var width: Int { base.width }
    var height: Int { base.height }

    static let replacements: [(Character, String)] = [
        ("λ", "lambda"), ("β", "beta"), ("→", "->"), ("←", "<-"), ("·", "|"), ("…", "..."), ("★", "*"), ("◆", "o"),
        ("●", "@"), ("✓", "ok"), ("✗", "x"), ("ε", "eps"), ("≤", "<="), ("≥", ">="), ("−", "-"), ("–", "-"),
        ("▶", ">"), ("❚", "|"),
    ]

    init(_ base: Surface) { self.base = base }

    static func transliterate(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value > 127 }) else { return text }
        var out = ""
        for ch in text {
            if ch.isASCII { out.append(ch); continue }
            out += replacements.first { $0.0 == ch }?.1 ?? "?"
        }
        return out
    }

    func put(_ text: String, x: Int, y: Int, role: Role, clip: Rect) {
        base.put(Self.transliterate(text), x: x, y: y, role: role, clip: clip)
    }

    func put(_ scalar: Unicode.Scalar, x: Int, y: Int, role: Role) {
        base.put(scalar.value < 128 ? scalar : Self.transliterate(String(Character(scalar))).unicodeScalars.first ?? "?",
                 x: x, y: y, role: role)
    }
}
