import Foundation

/// What a key asks for during a replay. View keys (log scale, smoothing, axis, zoom, theme) are the live
/// dashboard's, from `KeyTable`; keys that would command a run (λ, pause, step, checkpoint) mean moving in time here.
public enum ReplayAction: Equatable, Sendable, CaseIterable {
    case playPause, faster, slower, seekStart, seekEnd, stepBack, stepForward
    case nextLambda, previousLambda, nextCheckpoint, previousCheckpoint, nextEval, previousEval, nextPause, previousPause
    case toggleHelp, quit
}

/// The one table of replay key bindings: the player looks keys up here, the footer and `?` show it.
public enum ReplayKeyTable {
    public struct Binding: Sendable {
        public var keys: [Key]
        public var label: String
        public var action: ReplayAction
        public var help: String
    }

    public static let bindings: [Binding] = [
        Binding(keys: [.char(" ")], label: "space", action: .playPause, help: "play / pause (at the end: play from the start)"),
        Binding(keys: [.char(">"), .char("."), .up], label: ">", action: .faster, help: "faster: ×1 ×2 ×4 … ×64, then as fast as possible"),
        Binding(keys: [.char("<"), .char(","), .down], label: "<", action: .slower, help: "slower"),
        Binding(keys: [.char("0"), .char("^")], label: "0", action: .seekStart, help: "seek to the start (step 0)"),
        Binding(keys: [.char("$"), .char("G")], label: "$", action: .seekEnd, help: "seek to the end (with --follow: back to live)"),
        Binding(keys: [.left], label: "←", action: .stepBack, help: "back one optimizer step"),
        Binding(keys: [.right], label: "→", action: .stepForward, help: "forward one optimizer step"),
        Binding(keys: [.char("l")], label: "l", action: .nextLambda, help: "next λ change"),
        Binding(keys: [.char("L")], label: "L", action: .previousLambda, help: "previous λ change"),
        Binding(keys: [.char("c")], label: "c", action: .nextCheckpoint, help: "next checkpoint"),
        Binding(keys: [.char("C")], label: "C", action: .previousCheckpoint, help: "previous checkpoint"),
        Binding(keys: [.char("e")], label: "e", action: .nextEval, help: "next evaluation"),
        Binding(keys: [.char("E")], label: "E", action: .previousEval, help: "previous evaluation"),
        Binding(keys: [.char("p")], label: "p", action: .nextPause, help: "next pause of the run"),
        Binding(keys: [.char("P")], label: "P", action: .previousPause, help: "previous pause of the run"),
        Binding(keys: [.char("?"), .char("h")], label: "?", action: .toggleHelp, help: "this help"),
        Binding(keys: [.char("q"), .escape], label: "q", action: .quit, help: "quit (the log is only read)"),
    ]

    /// View keys shared with the live dashboard (their help comes from `KeyTable`).
    public static let viewActions: Set<DashboardAction> = [.toggleLogScale, .smoothingDown, .smoothingUp, .toggleAxis,
                                                            .cycleZoom, .nextTheme, .toggleSamples, .compareSamples]

    public static func action(for key: Key) -> ReplayAction? {
        bindings.first { $0.keys.contains(key) }?.action
    }

    /// Footer hints, most needed first, cut at a whole hint.
    public static func footer(width: Int, lambdaSymbol: String) -> String {
        let hints = ["space play", "<> speed", "0/$ ends", "←→ step", "l/L \(lambdaSymbol)", "c/C ckpt", "e/E eval",
                     "p/P pause", "? help", "q quit"]
        return KeyTable.joinHints(hints, width: width)
    }

    /// Lines of the `?` overlay: replay keys, then the view keys.
    public static func helpLines(lambdaSymbol: String) -> [String] {
        let own = bindings.map { ($0.label, $0.help) }
        let view = KeyTable.bindings.filter { viewActions.contains($0.action) }.map { ($0.label, $0.help) }
        return (own + view).map { label, help in
            label.padding(toLength: 7, withPad: " ", startingAt: 0) + help.replacingOccurrences(of: "λ", with: lambdaSymbol)
        }
    }
}
