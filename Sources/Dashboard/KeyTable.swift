import Foundation
import Training

/// A key as the dashboard sees it, decoded from the terminal.
public enum Key: Equatable, Sendable {
    case char(Character)
    case left, right, up, down
    case enter, escape, backspace
    case resize
}

/// What a key asks for in the normal mode.
public enum DashboardAction: Equatable, Sendable, CaseIterable {
    case lambdaDown, lambdaUp, typeLambda
    case togglePause, stepOnce, evaluateNow, checkpointNow, switchStrategy
    case toggleLogScale, smoothingDown, smoothingUp, toggleAxis, cycleZoom, nextTheme
    case toggleHelp, quit, detach
    case toggleSamples, sampleNow, compareSamples
}

/// The one table of key bindings: the controller looks keys up here, the footer and `?` overlay show it.
public enum KeyTable {
    public struct Binding: Sendable {
        public var keys: [Key]
        /// How the key is written in the footer and help.
        public var label: String
        public var action: DashboardAction
        /// Short form for the footer; nil keeps it out of the footer (help only).
        public var footer: String?
        public var help: String
    }

    public static let bindings: [Binding] = [
        Binding(keys: [.left, .char("-")], label: "←/-", action: .lambdaDown, footer: nil, help: "lower λ by \(Lambda.keyStep)"),
        Binding(keys: [.right, .char("+"), .char("=")], label: "→/+", action: .lambdaUp, footer: nil, help: "raise λ by \(Lambda.keyStep)"),
        Binding(keys: [.char("l")], label: "l", action: .typeLambda, footer: "set λ", help: "type an exact λ in [0, 1]"),
        Binding(keys: [.char("p")], label: "p", action: .togglePause, footer: "pause", help: "pause / resume training (the training thread stops)"),
        Binding(keys: [.char("n")], label: "n", action: .stepOnce, footer: "step", help: "one optimizer step while paused"),
        Binding(keys: [.char("e")], label: "e", action: .evaluateNow, footer: "eval", help: "evaluate on the held-out sets now"),
        Binding(keys: [.char("c")], label: "c", action: .checkpointNow, footer: "ckpt", help: "write a checkpoint now"),
        Binding(keys: [.char("s")], label: "s", action: .switchStrategy, footer: "strategy", help: "switch strategy (choose with ←/→, Enter)"),
        Binding(keys: [.char("g")], label: "g", action: .toggleLogScale, footer: "log", help: "log scale on the loss charts"),
        Binding(keys: [.char("[")], label: "[", action: .smoothingDown, footer: nil, help: "less smoothing (EMA weight down; 0 is off)"),
        Binding(keys: [.char("]")], label: "]", action: .smoothingUp, footer: nil, help: "more smoothing (EMA weight up)"),
        Binding(keys: [.char("x")], label: "x", action: .toggleAxis, footer: "axis", help: "x axis: step or wall time"),
        Binding(keys: [.char("z")], label: "z", action: .cycleZoom, footer: "zoom", help: "whole run, last 1000, last 200 steps"),
        Binding(keys: [.char("t")], label: "t", action: .nextTheme, footer: "theme", help: "next theme"),
        Binding(keys: [.char("a")], label: "a", action: .toggleSamples, footer: "samples", help: "samples: the probe prompts' replies in place of the loss charts"),
        Binding(keys: [.char("r")], label: "r", action: .sampleNow, footer: nil, help: "regenerate the samples now (between steps)"),
        Binding(keys: [.char("b")], label: "b", action: .compareSamples, footer: nil, help: "samples: first reply beside the newest, per prompt"),
        Binding(keys: [.char("?"), .char("h")], label: "?", action: .toggleHelp, footer: "help", help: "this help"),
        Binding(keys: [.char("q")], label: "q", action: .quit, footer: "quit", help: "quit (asks first while a run is live; checkpoints before stopping)"),
        Binding(keys: [.char("d")], label: "d", action: .detach, footer: nil, help: "detach (xright attach): close this view, the run goes on"),
    ]

    public static func action(for key: Key) -> DashboardAction? {
        bindings.first { $0.keys.contains(key) }?.action
    }

    /// "←/→ λ  l set λ  p pause …": the footer's key hints, cut to `width` at a whole hint.
    public static func footer(width: Int, lambdaSymbol: String) -> String {
        // Quit and help first: on a narrow terminal they are the hints that must not be cut.
        let first: [DashboardAction] = [.quit, .toggleHelp, .togglePause]
        let ordered = first.compactMap { a in bindings.first { $0.action == a } } + bindings.filter { !first.contains($0.action) }
        var hints = ["←/→ \(lambdaSymbol)"]
        for b in ordered { if let f = b.footer { hints.append("\(b.label) \(f.replacingOccurrences(of: "λ", with: lambdaSymbol))") } }
        hints.append("[ ] smooth")
        return joinHints(hints, width: width)
    }

    /// Hints joined by two spaces, cut at the last whole hint that fits in `width` (live and replay footers).
    public static func joinHints(_ hints: [String], width: Int) -> String {
        var line = ""
        for hint in hints {
            let next = line.isEmpty ? hint : line + "  " + hint
            if next.count > width { break }
            line = next
        }
        return line
    }
}

