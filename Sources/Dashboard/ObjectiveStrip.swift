/// The most recent steps, one cell each, coloured by the objective the step trained. The strip sweeps like an
/// oscilloscope: step n sits in cell n mod width and a blank cell follows the newest, so each new step changes
/// two cells instead of shifting the whole row (which would resend it every frame).
/// Without colour each cell is a letter: S, D, M (mix: both), x (update skipped).
public struct ObjectiveStrip {
    public var choices: [StepChoice]
    /// Steps taken in all; the last of `choices` is step `total`.
    public var total: Int

    public init(choices: [StepChoice], total: Int) {
        self.choices = choices
        self.total = total
    }

    public func draw(on surface: Surface, x: Int, y: Int, width: Int, glyphs: Glyphs, letters: Bool) {
        guard width > 1, total > 0 else { return }
        // The newest width − 1 steps; the remaining cell is the gap ahead of the sweep.
        let shown = choices.suffix(width - 1)
        let firstStep = total - shown.count
        for (offset, choice) in shown.enumerated() {
            let (letter, role): (Unicode.Scalar, Role) = {
                switch choice {
                case .sft: return ("S", .sftSmooth)
                case .dpo: return ("D", .dpoSmooth)
                case .both: return ("M", .mix)
                case .skipped: return ("x", .error)
                }
            }()
            surface.put(letters ? letter : glyphs.stripCell, x: x + (firstStep + offset) % width, y: y, role: role)
        }
    }
}
