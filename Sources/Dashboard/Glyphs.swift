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
