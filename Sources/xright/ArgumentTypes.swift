import ArgumentParser
import Data
import Engine
import Foundation
import Training

// The CLI's closed choices parse straight into their types: the parser lists the allowed values in `--help` and
// in its refusal, and no command checks a string a second time.
extension StrategyName: ExpressibleByArgument {}
extension ModelPreset: ExpressibleByArgument {}
extension PreferenceLoss.Kind: ExpressibleByArgument {}
extension RecordFormat: ExpressibleByArgument {}

/// `--template`: a chat family, a built-in text template or a custom template with `{prompt}`; checked once, the
/// text kept for the run header (the model's BOS / EOS join a chat family in `PromptFormatChoice`). Not an enum: a
/// custom template is any string, so a refusal explains both forms.
struct TemplateArgument: Sendable {
    let specification: String
    let format: PromptFormat

    static func parse(_ text: String) throws -> TemplateArgument {
        do { return TemplateArgument(specification: text, format: try PromptFormat(parsing: text)) } catch {
            throw ValidationError(String(describing: error))
        }
    }
}

/// `--threads`, shared by every command that runs the engine.
struct EngineThreadOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Threads for the engine (default: all cores; more than the cores is capped).")
    var threads: Int?

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
    }

    /// Configures the engine with `--threads` (else `fallback`); a request above the core count is capped with
    /// a warning: more threads than cores only adds switching.
    func configure(fallback: Int? = nil) {
        EngineThreads.configure(Self.capped(threads, cores: ProcessInfo.processInfo.activeProcessorCount, warn: printErr) ?? fallback)
    }

    static func capped(_ requested: Int?, cores: Int, warn: (String) -> Void) -> Int? {
        guard let requested, requested > cores else { return requested }
        warn("warning: --threads \(requested) is more than the \(cores) cores of this machine; using \(cores)")
        return cores
    }
}

/// DPO loss options, shared by `train` and `score` so both compute the same loss.
struct PreferenceLossOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "DPO β (> 0).")
    var beta: Double = 0.1

    @Option(help: "DPO loss.")
    var loss: PreferenceLoss.Kind = .sigmoid

    @Option(parsing: .unconditional, help: "DPO label smoothing ε in [0, 0.5) (sigmoid loss).")
    var labelSmoothing: Double = 0

    func validate() throws {
        guard beta.isFinite, beta > 0 else { throw ValidationError("--beta must be a finite number > 0, got \(beta)") }
        guard labelSmoothing.isFinite, labelSmoothing >= 0, labelSmoothing < 0.5 else {
            throw ValidationError("--label-smoothing must be a number in [0, 0.5), got \(labelSmoothing)")
        }
    }

    var preferenceLoss: PreferenceLoss { PreferenceLoss(kind: loss, beta: beta, labelSmoothing: labelSmoothing) }
}
