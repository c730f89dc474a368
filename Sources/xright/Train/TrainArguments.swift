import ArgumentParser
import Engine
import Foundation
import Training

/// The options shared by `xright train` and `xright demo`.
struct TrainArguments: ParsableArguments {
    @Option(help: "Built-in model preset (tiny, demo, bench): a seeded random init. Default: demo, unless --model is given.")
    var preset: String?

    @Option(help: "Hugging Face model directory (config.json + model.safetensors [+ tokenizer.json]).")
    var model: String?

    @Option(help: "Tokenizer: 'byte', a tokenizer.json, or a directory. Default: the model's tokenizer.json, else byte.")
    var tokenizer: String?

    @Option(help: "SFT data (Alpaca JSON/JSONL, prompt/response JSONL, sharegpt/OpenAI-messages conversations; .gz read transparently). Default: built-in demo task.")
    var sft: String?

    @Option(help: "Preference data (prompt/chosen/rejected JSONL, Anthropic HH JSONL(.gz), sharegpt JSON). Default: demo task.")
    var pref: String?

    @Option(help: "Data format when it cannot be detected from the content.")
    var format: String?

    @Option(help: "Strategy: alright, maxright, mix, sft-then-dpo, dpo-then-sft, sft-only, dpo-only.")
    var strategy: String = "alright"

    @Option(help: "λ in [0, 1]: the weight (mix, sequential split) or probability (alright) of DPO.")
    var lambda: Double = 0.5

    @Option(help: "Epoch budget T (sequential strategies split it by λ).")
    var epochs: Int = 1

    @Option(help: "Stop after this many optimizer steps.")
    var maxSteps: Int?

    @Option(help: "SFT sequences per step (DPO uses half as many pairs: the same number of sequences).")
    var batchSize: Int = 16

    @Option(help: "Learning rate (constant unless --cosine).")
    var lr: Float = 1e-3

    @Option(help: "Linear warm-up steps.")
    var warmup: Int = 0

    @Flag(help: "Cosine decay to 10% of --lr over the run.")
    var cosine = false

    @Option(help: "AdamW decoupled weight decay.")
    var weightDecay: Float = 0

    @Option(help: "Clip the global gradient norm to this (0: no clipping).")
    var maxGradNorm: Double = 1

    @Option(help: "DPO β (> 0).")
    var beta: Double = 0.1

    @Option(help: "DPO loss: sigmoid or ipo.")
    var loss: String = "sigmoid"

    @Option(help: "DPO label smoothing ε in [0, 0.5) (sigmoid loss).")
    var labelSmoothing: Double = 0

    @Option(help: "MAXRIGHT: re-evaluate both gaps every k steps (-1: only on the first batch).")
    var maxEvalSteps: Int = 10

    @Option(help: "Known optimum f_sft* (from an sft-only run or `xright optimum`).")
    var sftOpt: Double?

    @Option(help: "Known optimum f_dpo* (from a dpo-only run).")
    var dpoOpt: Double?

    @Flag(help: "MAXRIGHT's stop rule: stop when an evaluation is within 1e-4 of an optimum (needs --sft-opt/--dpo-opt).")
    var stopRule = false

    @Option(help: "LoRA rank on the --lora-targets layers (0: full fine-tuning).")
    var loraRank: Int = 0

    @Option(help: "LoRA α (scale α/r).")
    var loraAlpha: Float = 16

    @Option(help: "Comma-separated layers to adapt: query_key_value, dense, dense_h_to_4h, dense_4h_to_h.")
    var loraTargets: String = "query_key_value"

    @Option(help: "Prompt template: xright (\"User: {prompt}\\nAssistant: \"), raw, alpaca, or a string with {prompt}.")
    var template: String?

    @Option(help: "Truncate sequences to this many tokens (default: the model's positions).")
    var maxLen: Int?

    @Option(help: "Share of records held out for evaluation (deterministic, seeded).")
    var evalFraction: Double = 0.05

    @Option(help: "Evaluate on the held-out sets every N steps (and at step 1).")
    var evalEvery: Int = 50

    @Option(help: "Checkpoint every N steps (a checkpoint is also written on stop and on SIGINT/SIGTERM).")
    var checkpointEvery: Int?

    @Option(help: "Records of each kind the built-in demo task generates.")
    var demoExamples: Int = 1200

    @Flag(help: "Treat any bad data record as an error instead of skipping it.")
    var strict = false

    @Option(help: "Seed for the model init, data shuffles and ALRIGHT's draws.")
    var seed: UInt64 = 0

    @Option(help: "Directory for this run (default: <runs-root>/<time>-<strategy>).")
    var runDir: String?

    @Option(help: "Where runs are created (default: $XRIGHT_RUNS or ./runs).")
    var runsRoot: String?

    @Option(help: "Threads for the engine (default: all cores).")
    var threads: Int?

    func validate() throws {
        guard StrategyName(rawValue: strategy) != nil else {
            throw ValidationError("unknown strategy '\(strategy)'; expected one of \(StrategyName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard lambda.isFinite, (0...1).contains(lambda) else {
            throw ValidationError("--lambda must be a number in [0, 1], got \(lambda)")
        }
        guard beta.isFinite, beta > 0 else { throw ValidationError("--beta must be a finite number > 0, got \(beta)") }
        guard PreferenceLoss.Kind(rawValue: loss) != nil else {
            throw ValidationError("--loss must be sigmoid or ipo, got '\(loss)'")
        }
        if preset != nil && model != nil { throw ValidationError("give --preset or --model, not both") }
        if let p = preset, ModelPreset(rawValue: p) == nil {
            throw ValidationError("unknown preset '\(p)'; expected one of \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if stopRule && (sftOpt == nil || dpoOpt == nil) { throw ValidationError("--stop-rule needs --sft-opt and --dpo-opt") }
        if (sftOpt == nil) != (dpoOpt == nil) { throw ValidationError("give both --sft-opt and --dpo-opt, or neither") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
        if maxEvalSteps == 0 || maxEvalSteps < -1 { throw ValidationError("--max-eval-steps must be ≥ 1, or -1, got \(maxEvalSteps)") }
    }

    func runOptions() throws -> RunOptions {
        let lambdaValue = try Lambda(lambda)
        let optima = sftOpt.flatMap { s in dpoOpt.map { Optima(sft: s, dpo: $0) } }
        let training = TrainingConfig(
            strategy: StrategyName(rawValue: strategy)!, lambda: lambdaValue, seed: seed, maxEpochs: epochs,
            maxSteps: maxSteps, maxEvalSteps: maxEvalSteps == -1 ? nil : maxEvalSteps,
            evalEvery: evalEvery > 0 ? evalEvery : nil, checkpointEvery: checkpointEvery, checkpointOnFinish: true,
            optima: optima, stopRule: stopRule ? OptimalityStopRule() : nil)
        let lora = loraRank > 0 ? LoRAConfig(rank: loraRank, alpha: loraAlpha,
                                             targets: loraTargets.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
                                : nil
        return RunOptions(
            modelPreset: model == nil ? (preset ?? "demo") : nil, modelDirectory: model, modelSeed: seed,
            tokenizer: tokenizer, sftData: sft, preferenceData: pref, dataFormat: format, demoExamples: demoExamples,
            template: template, maxLength: maxLen, evalFraction: evalFraction, dataSeed: seed, strictData: strict,
            batchSize: batchSize, learningRate: lr, warmupSteps: warmup, cosineDecay: cosine, weightDecay: weightDecay,
            maxGradNorm: maxGradNorm, preference: PreferenceLoss(kind: PreferenceLoss.Kind(rawValue: loss)!, beta: beta,
                                                                 labelSmoothing: labelSmoothing),
            lora: lora, training: training)
    }
}

/// Where runs live: --runs-root, $XRIGHT_RUNS, or ./runs.
enum RunsRoot {
    static func resolve(_ option: String?) -> URL {
        URL(fileURLWithPath: option ?? ProcessInfo.processInfo.environment["XRIGHT_RUNS"] ?? "runs")
    }

    /// A new, unique run directory name: 20261126-121500-alright.
    static func newRunDirectory(root: URL, strategy: String) -> URL {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        let base = "\(f.string(from: Date()))-\(strategy)"
        var candidate = root.appendingPathComponent(base), n = 2
        while FileManager.default.fileExists(atPath: candidate.path) {
            candidate = root.appendingPathComponent("\(base)-\(n)"); n += 1
        }
        return candidate
    }
}
