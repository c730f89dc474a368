import ArgumentParser
import Data
import Engine
import Foundation
import Training

/// The options shared by `xright train` and `xright demo`.
struct TrainArguments: ParsableArguments {
    @Option(help: "Built-in model preset: a seeded random init. Default: demo, unless --model is given.")
    var preset: ModelPreset?

    @Option(help: "Hugging Face model directory (config.json + model.safetensors [+ tokenizer.json]).")
    var model: String?

    @Option(help: "Tokenizer: 'byte', a tokenizer.json, or a directory. Default: the model's tokenizer.json, else byte.")
    var tokenizer: String?

    @Option(help: "SFT data (Alpaca JSON/JSONL, prompt/response JSONL, sharegpt/OpenAI-messages conversations; .gz read transparently). Default: built-in demo task.")
    var sft: String?

    @Option(help: "Preference data (prompt/chosen/rejected JSONL, Anthropic HH JSONL(.gz), sharegpt JSON). Default: demo task.")
    var pref: String?

    @Option(help: ArgumentHelp("SFT on the chosen responses of this preference file (the official recipe's reference stage, train_sft_pref); instead of --sft.",
                               valueName: "file"))
    var sftFromPref: String?

    @Option(parsing: .unconditional, help: "Use only the first N SFT records of the file (before the held-out split).")
    var sftMaxSamples: Int?

    @Option(parsing: .unconditional, help: "Use only the first N preference records of the file (before the held-out split).")
    var prefMaxSamples: Int?

    @Option(help: "Data format when it cannot be detected from the content.")
    var format: RecordFormat?

    @Option(help: "Training strategy.")
    var strategy: StrategyName = .alright

    @Option(parsing: .unconditional, help: "λ in [0, 1]: the weight (mix, sequential split) or probability (alright) of DPO.")
    var lambda: Double = 0.5

    @Option(parsing: .unconditional, help: "Epoch budget T (sequential strategies split it by λ).")
    var epochs: Int = 1

    @Option(parsing: .unconditional, help: "Stop after this many optimizer steps.")
    var maxSteps: Int?

    @Option(parsing: .unconditional, help: "SFT sequences per step (DPO uses half as many pairs: the same number of sequences).")
    var batchSize: Int = 16

    @Option(parsing: .unconditional, help: "SFT sequences per micro-batch (default: --batch-size).")
    var sftBatchSize: Int?

    @Option(parsing: .unconditional, help: "Preference pairs per micro-batch (default: --batch-size / 2, as many sequences as an SFT batch).")
    var prefBatchSize: Int?

    @Option(parsing: .unconditional, help: "Gradient accumulation: micro-batches per optimizer step (a step sees N × the batch size at the memory of one).")
    var gradAccum: Int = 1

    @Option(parsing: .unconditional, help: "Learning rate (constant unless --cosine).")
    var lr: Float = 1e-3

    @Option(parsing: .unconditional, help: "Linear warm-up steps.")
    var warmup: Int = 0

    @Flag(inversion: .prefixedNo, help: "Cosine decay to 10% of --lr over the run.")
    var cosine = false

    @Option(parsing: .unconditional, help: "AdamW decoupled weight decay.")
    var weightDecay: Float = 0

    @Option(parsing: .unconditional, help: "Clip the global gradient norm to this (0: no clipping).")
    var maxGradNorm: Double = 1

    @OptionGroup var preference: PreferenceLossOptions

    @Option(help: ArgumentHelp("DPO's reference policy: a model directory, a .gguf file, or a run directory (its final model). Default: the policy's starting weights.",
                               valueName: "model"))
    var refModel: String?

    @Option(parsing: .unconditional, help: "MAXRIGHT: re-evaluate both gaps every k steps (-1: only on the first batch).")
    var maxEvalSteps: Int = 10

    @Option(parsing: .unconditional, help: "Known optimum f_sft* (from an sft-only run or `xright optimum`).")
    var sftOpt: Double?

    @Option(parsing: .unconditional, help: "Known optimum f_dpo* (from a dpo-only run).")
    var dpoOpt: Double?

    @Flag(inversion: .prefixedNo, help: "MAXRIGHT's stop rule: stop when an evaluation is within 1e-4 of an optimum (needs --sft-opt/--dpo-opt).")
    var stopRule = false

    @Option(help: ArgumentHelp("With --stop-rule, also stop when an evaluation is within 1e-4 of a point of this reference Pareto front on both losses (lines 'f_sft,f_dpo', or a CSV with f_sft and f_dpo columns such as `xright sweep --csv`).",
                               valueName: "file"))
    var refFront: String?

    @Option(parsing: .unconditional, help: "LoRA rank on the --lora-targets layers (0: full fine-tuning).")
    var loraRank: Int = 0

    @Option(parsing: .unconditional, help: "LoRA α (scale α/r).")
    var loraAlpha: Float = 16

    @Option(help: "Comma-separated layers to adapt (default: the architecture's). GPT-NeoX: query_key_value, dense, dense_h_to_4h, dense_4h_to_h (default query_key_value); Llama: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (default all seven).")
    var loraTargets: String = ""

    @Option(help: "Prompt format: a chat family (chatml, llama3, llama2, mistral, alpaca), xright (\"User: {prompt}\\nAssistant: \"), raw, hh, or a string with {prompt}. Default: the model's chat template, else xright.",
            transform: { try TemplateArgument.parse($0) })
    var template: TemplateArgument?

    @Option(parsing: .unconditional, help: "Truncate sequences to this many tokens (default: the model's positions).")
    var maxLen: Int?

    @Option(parsing: .unconditional, help: "Share of records held out for evaluation (deterministic, seeded).")
    var evalFraction: Double = 0.05

    @Option(parsing: .unconditional, help: "Evaluate on the held-out sets every N steps (and at step 1).")
    var evalEvery: Int = 50

    @Option(parsing: .unconditional, help: "Checkpoint every N steps (a checkpoint is also written on stop and on SIGINT/SIGTERM).")
    var checkpointEvery: Int?

    @Option(parsing: .unconditional, help: "Keep the newest N checkpoints (0: all). The newest is never removed.")
    var keepCheckpoints: Int = 5

    @Option(parsing: .unconditional, help: "Records of each kind the built-in demo task generates.")
    var demoExamples: Int = 1200

    @Flag(inversion: .prefixedNo, help: "Treat any bad data record as an error instead of skipping it.")
    var strict = false

    @Option(parsing: .unconditional, help: "Seed for the model init, data shuffles and ALRIGHT's draws.")
    var seed: UInt64 = 0

    @Option(help: "Directory for this run (default: <runs-root>/<time>-<strategy>).")
    var runDir: String?

    @Option(help: "Where runs are created (default: $XRIGHT_RUNS or ./runs).")
    var runsRoot: String?

    @OptionGroup var engine: EngineThreadOptions

    var threads: Int? { engine.threads }

    @Option(name: .customLong("save-dtype"), help: "Element type of the saved model weights (final/, checkpoints' model/): f32, bf16 or f16. Training state stays f32, so resume is exact.")
    var saveDType: SaveDType = .f32

    func validate() throws {
        guard lambda.isFinite, (0...1).contains(lambda) else {
            throw ValidationError("--lambda must be a number in [0, 1], got \(lambda)")
        }
        if preset != nil && model != nil { throw ValidationError("give --preset or --model, not both") }
        if stopRule && (sftOpt == nil || dpoOpt == nil) { throw ValidationError("--stop-rule needs --sft-opt and --dpo-opt") }
        if (sftOpt == nil) != (dpoOpt == nil) { throw ValidationError("give both --sft-opt and --dpo-opt, or neither") }
        for (name, value) in [("--sft-opt", sftOpt), ("--dpo-opt", dpoOpt)] {
            if let v = value, !v.isFinite { throw ValidationError("\(name) must be a finite number, got \(v)") }
        }
        if maxEvalSteps == 0 || maxEvalSteps < -1 { throw ValidationError("--max-eval-steps must be ≥ 1, or -1, got \(maxEvalSteps)") }
        try Self.atLeast(1, epochs, "--epochs")
        if let m = maxSteps { try Self.atLeast(1, m, "--max-steps") }
        // DPO takes half a batch of pairs; beyond a million sequences a step would not fit in memory anyway.
        guard (2...Self.largestBatch).contains(batchSize) else {
            throw ValidationError("--batch-size must be between 2 and \(Self.largestBatch) sequences, got \(batchSize)")
        }
        guard lr.isFinite, lr > 0 else { throw ValidationError("--lr must be a finite number > 0, got \(lr)") }
        try Self.atLeast(0, warmup, "--warmup")
        guard weightDecay.isFinite, weightDecay >= 0 else {
            throw ValidationError("--weight-decay must be a finite number ≥ 0, got \(weightDecay)")
        }
        guard maxGradNorm.isFinite, maxGradNorm >= 0 else {
            throw ValidationError("--max-grad-norm must be a finite number ≥ 0 (0: no clipping), got \(maxGradNorm)")
        }
        try Self.atLeast(0, loraRank, "--lora-rank")
        guard loraAlpha.isFinite, loraAlpha > 0 else { throw ValidationError("--lora-alpha must be a finite number > 0, got \(loraAlpha)") }
        if let m = maxLen { try Self.atLeast(2, m, "--max-len") }
        guard evalFraction.isFinite, evalFraction >= 0, evalFraction < 1 else {
            throw ValidationError("--eval-fraction must be a number in [0, 1), got \(evalFraction)")
        }
        try Self.atLeast(0, evalEvery, "--eval-every")
        if let c = checkpointEvery { try Self.atLeast(1, c, "--checkpoint-every") }
        try Self.atLeast(0, keepCheckpoints, "--keep-checkpoints")
        try Self.atLeast(1, demoExamples, "--demo-examples")
        try validateRecipe()
    }

    /// The official recipe's options: sizes and caps are positive, a step fits in memory, choices do not clash.
    private func validateRecipe() throws {
        for (name, value) in [("--sft-batch-size", sftBatchSize), ("--pref-batch-size", prefBatchSize),
                              ("--sft-max-samples", sftMaxSamples), ("--pref-max-samples", prefMaxSamples)] {
            if let v = value { try Self.atLeast(1, v, name) }
        }
        try Self.atLeast(1, gradAccum, "--grad-accum")
        let sftStep = (sftBatchSize ?? batchSize).multipliedReportingOverflow(by: gradAccum)
        let prefStep = (prefBatchSize ?? max(1, batchSize / 2)).multipliedReportingOverflow(by: gradAccum)
        for (name, step) in [("SFT", sftStep), ("preference", prefStep)] where step.overflow || step.partialValue > Self.largestBatch {
            throw ValidationError("--grad-accum \(gradAccum): a \(name) step would hold more than \(Self.largestBatch) records")
        }
        if sftFromPref != nil && sft != nil {
            throw ValidationError("give --sft or --sft-from-pref, not both (--sft-from-pref takes SFT data from a preference file)")
        }
        if refFront != nil && !stopRule {
            throw ValidationError("--ref-front adds points to the stop rule's check: give --stop-rule (with --sft-opt and --dpo-opt) too")
        }
    }

    static let largestBatch = 1 << 20

    private static func atLeast(_ minimum: Int, _ value: Int, _ name: String) throws {
        guard value >= minimum else { throw ValidationError("\(name) must be at least \(minimum), got \(value)") }
    }

    func runOptions() throws -> RunOptions {
        let lambdaValue = try Lambda(lambda)
        let optima = sftOpt.flatMap { s in dpoOpt.map { Optima(sft: s, dpo: $0) } }
        let training = TrainingConfig(
            strategy: strategy, lambda: lambdaValue, seed: seed, maxEpochs: epochs,
            maxSteps: maxSteps, maxEvalSteps: maxEvalSteps == -1 ? nil : maxEvalSteps,
            evalEvery: evalEvery > 0 ? evalEvery : nil, checkpointEvery: checkpointEvery, checkpointOnFinish: true,
            keepCheckpoints: keepCheckpoints > 0 ? keepCheckpoints : nil,
            optima: optima, stopRule: stopRule ? OptimalityStopRule(referenceFront: try refFront.map(ReferenceFront.read) ?? []) : nil)
        let lora = loraRank > 0 ? LoRAConfig(rank: loraRank, alpha: loraAlpha,
                                             targets: loraTargets.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
                                : nil
        var options = RunOptions(
            modelPreset: model == nil ? (preset ?? .demo).rawValue : nil, modelDirectory: model, modelSeed: seed,
            tokenizer: tokenizer, sftData: sft, preferenceData: pref, dataFormat: format?.rawValue, demoExamples: demoExamples,
            template: template?.specification, maxLength: maxLen, evalFraction: evalFraction, dataSeed: seed, strictData: strict,
            batchSize: batchSize, learningRate: lr, warmupSteps: warmup, cosineDecay: cosine, weightDecay: weightDecay,
            maxGradNorm: maxGradNorm, preference: preference.preferenceLoss, lora: lora, training: training)
        options.sftFromPreference = sftFromPref
        options.sftBatchSize = sftBatchSize
        options.preferenceBatchSize = prefBatchSize
        options.gradientAccumulation = gradAccum == 1 ? nil : gradAccum
        options.sftMaxSamples = sftMaxSamples
        options.preferenceMaxSamples = prefMaxSamples
        options.referenceModel = refModel
        options.referenceFrontFile = refFront
        options.evalSuite = try evalSuiteOptions()
        options.gradientCheckpointing = gradientCheckpointing ? true : nil
        return options.savingWeights(as: saveDType)
    }

    // Samples: the probe prompts' replies between steps (`sample` events, the dashboard's Samples panel).
    @Option(parsing: .unconditional, help: "Sample the probe prompts' greedy replies every N steps (0: never). Default: automatically, keeping sampling at most 10% of training time.")
    var sampleEvery: Int?

    @Option(help: "Probe prompts for samples: one per line, or JSONL objects with a \"prompt\" field. Default: 3 held-out SFT and preference prompts.")
    var probePrompts: String?

    @Option(parsing: .unconditional, help: "Most new tokens in a sample reply.")
    var sampleTokens: Int = ProbeSchedule.defaultMaxNewTokens

    /// What `--sample-every`, `--probe-prompts` and `--sample-tokens` ask for; nil: no samples.
    func probeSchedule() throws -> ProbeSchedule? {
        if let every = sampleEvery, every < 0 { throw CLIError("--sample-every must be at least 0, got \(every)") }
        guard sampleTokens >= 1 else { throw CLIError("--sample-tokens must be at least 1, got \(sampleTokens)") }
        if sampleEvery == 0 { return nil }
        var prompts: [String] = []
        if let path = probePrompts {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("--probe-prompts \(path): cannot read the file") }
            guard let text = String(data: data, encoding: .utf8) else { throw CLIError("--probe-prompts \(path): not UTF-8 text") }
            prompts = try PromptList.parse(text, file: path)
            guard !prompts.isEmpty else { throw CLIError("--probe-prompts \(path): no prompts in the file (expected one per line)") }
        }
        return ProbeSchedule(prompts: prompts, every: sampleEvery, maxNewTokens: sampleTokens)
    }

    // Multiple-choice accuracy at each held-out evaluation (the `eval` events' `multipleChoice`; docs/EVAL.md).
    @Option(help: ArgumentHelp("Multiple-choice JSONL ({\"question\", \"choices\": [...], \"answer\": index or letter} per line) scored at each held-out evaluation: acc and acc_norm as `xright eval --mc` computes them.",
                               valueName: "file"))
    var evalSuite: String?

    @Option(parsing: .unconditional, help: "Solved examples before each --eval-suite question (k-shot): the file's first K questions, which are then not scored.")
    var evalShots: Int = 0

    /// What `--eval-suite` and `--eval-shots` ask for, the file read and checked now (before any run directory
    /// exists); nil: no suite.
    func evalSuiteOptions() throws -> EvalSuiteOptions? {
        guard evalShots >= 0 else { throw CLIError("--eval-shots must be at least 0, got \(evalShots)") }
        guard let evalSuite else {
            if evalShots > 0 { throw CLIError("--eval-shots needs --eval-suite FILE") }
            return nil
        }
        let options = EvalSuiteOptions(file: evalSuite, shots: evalShots)
        do { _ = try options.read() } catch { throw CLIError("--eval-suite \(error)") }
        return options
    }

    // Memory: what the engine keeps between the forward and backward passes (docs/TRAINING.md, "Memory").
    @Flag(inversion: .prefixedNo, help: "Keep only each layer's input in the forward pass and recompute the layer before its backward pass, and compute the logits in chunks of tokens: far less memory for about one more forward pass per step. Recorded in the run; a resumed run keeps it.")
    var gradientCheckpointing = false
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
