/// The most recent steps, one cell each, coloured by the objective the step trained (newest on the right).
/// Without colour each cell is a letter: S, D, M (mix: both), x (update skipped).
public struct ObjectiveStrip {
    public var choices: ArraySlice<StepChoice>

    public init(choices: [StepChoice], width: Int) {
        self.choices = choices.suffix(max(0, width))
    }

    public func draw(on surface: Surface, x: Int, y: Int, width: Int, glyphs: Glyphs, letters: Bool) {
        let start = x + width - choices.count
        for (i, choice) in choices.enumerated() {
            let (letter, role): (Unicode.Scalar, Role) = {
                switch choice {
                case .sft: return ("S", .sftSmooth)
                case .dpo: return ("D", .dpoSmooth)
                case .both: return ("M", .mix)
                case .skipped: return ("x", .error)
                }
            }()
            surface.put(letters ? letter : glyphs.stripCell, x: start + i, y: y, role: role)
        }
    }
}
