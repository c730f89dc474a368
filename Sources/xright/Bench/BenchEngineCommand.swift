import ArgumentParser
import Engine
import Foundation

/// `xright bench engine`: training and forward throughput of a preset, with MFU against this machine's sgemm.
struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Training tokens/s, forward tokens/s, GFLOP/s and MFU of the Swift engine.",
        discussion: """
            Trains a seeded random model of the preset on random tokens (forward + backward + AdamW), reports the \
            median over the timed steps, and measures the machine's sgemm peak (2048³) in the same run. \
            GFLOP/s are counted as 6 · parameters · tokens, the usual convention. Peak RSS is the process's \
            (getrusage): model, gradients, optimizer state and activations.
            """)

    @Option(help: "Model preset: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: String = "bench"

    @Option(help: "Train LoRA adapters of this rank instead of the whole model (0: full fine-tuning).")
    var loraRank: Int = 0

    @Option(help: "Comma-separated layers LoRA adapts (default: the architecture's; Llama: all seven projections).")
    var loraTargets: String?

    @Flag(name: .customLong("gradient-checkpointing"), help: "Recompute each layer's activations in the backward pass and compute the logits in chunks (as `train --gradient-checkpointing`): lower peak RSS, about one more forward pass per step.")
    var gradientCheckpointing = false

    @Option(help: "Timed training steps (after 2 warm-up steps).")
    var steps: Int = 10

    @Option(help: "Threads for OpenBLAS and the element-wise kernels (default: all cores).")
    var threads: Int?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard ModelPreset(rawValue: preset) != nil else {
            throw ValidationError("unknown preset '\(preset)'; expected one of \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard loraRank >= 0 else { throw ValidationError("--lora-rank must be 0 or more, got \(loraRank)") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        EngineThreads.configure(threads)
        let progress = ProgressLine()
        let targets = loraTargets.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? []
        let lora = loraRank > 0 ? LoRAConfig(rank: loraRank, alpha: Float(2 * loraRank), targets: targets) : nil
        let r = try EngineBenchmark.run(preset: ModelPreset(rawValue: preset)!, lora: lora,
                                        activationMemory: gradientCheckpointing ? .gradientCheckpointing : .keepAll,
                                        steps: steps) { progress.update($0) }
        progress.finish()
        if json {
            print(try JSONOutput.string(r))
        } else {
            print("""
                engine benchmark: preset \(r.preset), \(r.parameters) parameters, \(r.loraRank.map { "LoRA r=\($0) on \(r.loraTargets?.joined(separator: ",") ?? "")" } ?? "full fine-tuning")\(r.gradientCheckpointing ? ", gradient checkpointing" : ""), batch \(r.batchSize) × \(r.sequenceLength), \(r.threads) threads
                  training      \(fmt(r.trainTokensPerSecond, 0)) tokens/s   (median step \(fmt(r.stepSecondsMedian, 3)) s)
                  forward only  \(fmt(r.forwardTokensPerSecond, 0)) tokens/s
                  achieved      \(fmt(r.trainGflops, 1)) GFLOP/s (6·params·tokens)
                  sgemm peak    \(fmt(r.sgemmGflops, 1)) GFLOP/s (2048³, measured now)
                  MFU           \(fmt(100 * r.mfu, 1)) % (6·params·tokens / sgemm peak)
                  executed      \(fmt(r.executedGflops, 1)) GFLOP/s of matrix products actually run, \(fmt(100 * r.executedMfu, 1)) % of peak
                  peak RSS      \(fmt(r.peakRSSMegabytes, 0)) MB
                """)
        }
    }
}

func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
