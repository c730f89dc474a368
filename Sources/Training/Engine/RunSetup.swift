import Data
import Engine
import Foundation
import Text

/// Everything `xright train` / `xright demo` decide before a session starts: where the model and data come from,
/// how batches are made, the optimizer, and the training config. Recorded in the run header; a resumed run
/// rebuilds the same session from it.
public struct RunOptions: Codable, Equatable, Sendable {
    /// A built-in preset (seeded random init) or a Hugging Face model directory.
    public var modelPreset: String?
    public var modelDirectory: String?
    public var modelSeed: UInt64
    /// `byte`, a tokenizer.json, or a directory; nil: the model directory's tokenizer.json, else `byte`.
    public var tokenizer: String?
    /// Data files; nil means the built-in demo task for that objective.
    public var sftData: String?
    public var preferenceData: String?
    public var dataFormat: String?
    public var demoExamples: Int
    public var template: String?
    public var maxLength: Int?
    public var evalFraction: Double
    public var dataSeed: UInt64
    public var strictData: Bool
    public var batchSize: Int
    public var learningRate: Float
    public var warmupSteps: Int
    public var cosineDecay: Bool
    public var weightDecay: Float
    public var maxGradNorm: Double
    public var preference: PreferenceLoss
    public var lora: LoRAConfig?
    public var training: TrainingConfig
    // The official recipe's settings (docs/TRAINING.md). Optional, so the headers of older runs still decode.
    /// SFT on the chosen responses of this preference file (the official `train_sft_pref` step); excludes `sftData`.
    public var sftFromPreference: String?
    /// SFT sequences and preference pairs per micro-batch (nil: `batchSize`, and `batchSize / 2` pairs); a step
    /// takes `gradientAccumulation` micro-batches.
    public var sftBatchSize: Int?
    public var preferenceBatchSize: Int?
    /// Micro-batches of that size accumulated into one optimizer step (nil: 1).
    public var gradientAccumulation: Int?
    /// Use only the first N records of a data file (before the held-out split).
    public var sftMaxSamples: Int?
    public var preferenceMaxSamples: Int?
    /// DPO's reference policy: a model directory, GGUF file or run directory (nil: the policy's starting weights).
    public var referenceModel: String?
    /// The file the stop rule's reference front was read from (its points are in `training.stopRule`).
    public var referenceFrontFile: String?

    /// SFT sequences in one micro-batch, and preference pairs.
    public var sftMicroBatch: Int { sftBatchSize ?? batchSize }
    public var preferenceMicroBatch: Int { preferenceBatchSize ?? max(1, batchSize / 2) }
    public var microBatches: Int { gradientAccumulation ?? 1 }
    /// Probe replies between steps (`sample` events); nil: none. Empty prompts: the default held-out probes.
    public var samples: ProbeSchedule?
    /// `--save-dtype` of final/ and checkpoints' model/ (nil: f32; training state is always f32).
    public var saveDType: SaveDType?
    /// `--eval-suite` / `--eval-shots`: multiple-choice accuracy at each held-out evaluation (nil: none).
    public var evalSuite: EvalSuiteOptions?
    /// `--gradient-checkpointing`: recompute each layer's activations in the backward pass and compute the
    /// logits in chunks (`ActivationMemory.gradientCheckpointing`); nil: keep everything. A resumed run keeps it.
    public var gradientCheckpointing: Bool?
    /// What the models of this run keep between forward and backward.
    public var activationMemory: ActivationMemory {
        gradientCheckpointing == true ? .gradientCheckpointing : .keepAll
    }

    public init(modelPreset: String? = "demo", modelDirectory: String? = nil, modelSeed: UInt64 = 0,
                tokenizer: String? = nil, sftData: String? = nil, preferenceData: String? = nil,
                dataFormat: String? = nil, demoExamples: Int = 1200, template: String? = nil, maxLength: Int? = nil,
                evalFraction: Double = 0.05, dataSeed: UInt64 = 0, strictData: Bool = false, batchSize: Int = 16,
                learningRate: Float = 1e-3, warmupSteps: Int = 0, cosineDecay: Bool = false, weightDecay: Float = 0,
                maxGradNorm: Double = 1, preference: PreferenceLoss = PreferenceLoss(), lora: LoRAConfig? = nil,
                training: TrainingConfig) {
        self.modelPreset = modelPreset
        self.modelDirectory = modelDirectory
        self.modelSeed = modelSeed
        self.tokenizer = tokenizer
        self.sftData = sftData
        self.preferenceData = preferenceData
        self.dataFormat = dataFormat
        self.demoExamples = demoExamples
        self.template = template
        self.maxLength = maxLength
        self.evalFraction = evalFraction
        self.dataSeed = dataSeed
        self.strictData = strictData
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.warmupSteps = warmupSteps
        self.cosineDecay = cosineDecay
        self.weightDecay = weightDecay
        self.maxGradNorm = maxGradNorm
        self.preference = preference
        self.lora = lora
        self.training = training
    }

    /// Rejects what cannot run, before any data is read or model built.
    public func validate() throws {
        try training.validate()
        try preference.validate()
        try lora?.validate()
        func bad(_ what: String, _ message: String) -> SessionSetupError { .invalid(what: what, message: message) }
        if (modelPreset == nil) == (modelDirectory == nil) {
            throw bad("model", "give exactly one of a preset (--preset) or a model directory (--model)")
        }
        if let p = modelPreset, ModelPreset(rawValue: p) == nil {
            throw bad("--preset", "unknown preset '\(p)'; expected one of \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if batchSize < 1 { throw bad("--batch-size", "expected an integer ≥ 1, got \(batchSize)") }
        for (flag, value) in [("--sft-batch-size", sftBatchSize), ("--pref-batch-size", preferenceBatchSize),
                              ("--grad-accum", gradientAccumulation), ("--sft-max-samples", sftMaxSamples),
                              ("--pref-max-samples", preferenceMaxSamples)] {
            if let v = value, v < 1 { throw bad(flag, "expected an integer ≥ 1, got \(v)") }
        }
        if sftFromPreference != nil && sftData != nil {
            throw bad("--sft-from-pref", "SFT data comes from --sft or from --sft-from-pref, not both")
        }
        if !(learningRate.isFinite && learningRate > 0) { throw bad("--lr", "expected a finite number > 0, got \(learningRate)") }
        if !(evalFraction >= 0 && evalFraction < 1) { throw bad("--eval-fraction", "expected a number in [0, 1), got \(evalFraction)") }
        if demoExamples < 2 { throw bad("--demo-examples", "expected at least 2, got \(demoExamples)") }
        if warmupSteps < 0 { throw bad("--warmup", "expected an integer ≥ 0, got \(warmupSteps)") }
        if !(weightDecay.isFinite && weightDecay >= 0) { throw bad("--weight-decay", "expected a finite number ≥ 0, got \(weightDecay)") }
    }
}

/// A ready-to-start session and what the caller may want to show about it.
public struct PreparedRun {
    public let session: TrainingSession
    public let backend: EngineBackend
    public let tokenizer: any Tokenizer
    public let options: RunOptions
    /// Per objective: training and held-out record counts, skipped records by reason.
    public let dataSummary: [String]
}

public enum RunSetup {
    /// Builds model, tokenizer, data and session. `progress` hears about slow phases (tokenizing a large file).
    public static func prepare(_ options: RunOptions, runDirectory: RunDirectory?, resumeFrom checkpoint: URL? = nil,
                               programVersion: String, progress: (String) -> Void = { _ in }) throws -> PreparedRun {
        try options.validate()
        // A bad suite file is refused before the model is built (its tokens are checked once it is).
        _ = try options.evalSuite?.read()
        let tokenizer = try loadTokenizer(options)
        progress("building the model")
        let model = try loadModel(options, vocabularySize: tokenizer.vocabularySize)
        model.activationMemory = options.activationMemory
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw SessionSetupError.invalid(what: "tokenizer", message: "produces ids up to \(tokenizer.vocabularySize - 1), "
                + "but the model's vocab_size is \(model.config.vocabSize)")
        }
        if let lora = options.lora { try model.attachAdapters(lora, seed: options.modelSeed &+ 1) }

        let promptFormat = try PromptFormatChoice.resolve(template: options.template, model: options.modelDirectory)
        if checkpoint != nil, let runDirectory {
            try PromptFormatChoice.checkResume(promptFormat, recorded: try RunLogReader.header(of: runDirectory.log)
                .settings[PromptFormatChoice.headerKey], log: runDirectory.log.path)
        }
        if let requested = options.maxLength, requested > model.config.maxPositions {
            throw SessionSetupError.invalid(what: "--max-len", message: "\(requested) tokens is more than the model's "
                + "max_position_embeddings (\(model.config.maxPositions)); give at most \(model.config.maxPositions)")
        }
        let maxLength = options.maxLength ?? model.config.maxPositions
        let exampleTokenizer = try ExampleTokenizer(tokenizer: tokenizer, format: promptFormat, maxLength: maxLength,
                                                    minResponseTokens: max(1, min(16, maxLength / 2)))
        let split = try EvalSplit(fraction: options.evalFraction, seed: options.dataSeed)
        let needs = Set(StrategyFactory.make(options.training.strategy, seed: 0, step: 0, epoch: 0,
                                             lambda: options.training.lambda, epochBudget: 1).requiredObjectives)
        var summary = [String]()
        var sources = ObjectiveSources(sft: nil, dpo: nil)
        var heldOutSFT = [TokenizedExample](), heldOutPairs = [TokenizedPair]()
        var heldOutPrompts: (sft: [String], preference: [String]) = ([], [])
        var fingerprints = [String: String]()
        // Both objectives are loaded whenever available: evaluation and a strategy switch need the other set too.
        let demo = try DemoTask(seed: options.dataSeed)
        do {
            progress("reading SFT data")
            // From a preference file, a pair's chosen response is held out when the pair is: the reference
            // stage never trains on the chosen side of a held-out DPO pair.
            var examples: [(example: SFTExample, heldOut: Bool)]
            if let path = options.sftFromPreference {
                examples = try readPreference(path, options).map { (chosenResponse($0), split.isEval($0)) }
            } else {
                examples = try (options.sftData.map { try readSFT($0, options) } ?? demo.sftExamples(count: options.demoExamples))
                    .map { ($0, split.isEval($0)) }
            }
            if let cap = options.sftMaxSamples, examples.count > cap { examples.removeSubrange(cap...) }
            var train = [TokenizedExample]()
            for (e, heldOut) in examples {
                let t = try exampleTokenizer.tokenize(e)
                if heldOut { heldOutSFT.append(t); heldOutPrompts.sft.append(e.prompt) } else { train.append(t) }
            }
            let origin = options.sftFromPreference.map { "chosen responses of \($0)" } ?? options.sftData
            if train.isEmpty && needs.contains(.sft) {
                throw SessionSetupError.invalid(what: origin ?? "demo SFT data", message: "no usable training records after filtering")
            }
            if !train.isEmpty {
                sources.sft = ShuffledBatches(sft: train, batchSize: options.sftMicroBatch * options.microBatches,
                                              seed: options.dataSeed &+ 11)
            }
            summary.append("sft: \(train.count) training, \(heldOutSFT.count) held-out (\(origin ?? "built-in demo task"))")
            fingerprints["sft"] = fingerprint(train.map(\.ids))
        }
        do {
            progress("reading preference data")
            var pairs = try options.preferenceData.map { try readPreference($0, options) }
                ?? demo.preferencePairs(count: options.demoExamples)
            if let cap = options.preferenceMaxSamples, pairs.count > cap { pairs.removeSubrange(cap...) }
            var train = [TokenizedPair]()
            for p in pairs {
                let t = try exampleTokenizer.tokenize(p)
                if split.isEval(p) { heldOutPairs.append(t); heldOutPrompts.preference.append(p.prompt) } else { train.append(t) }
            }
            if train.isEmpty && needs.contains(.dpo) {
                throw SessionSetupError.invalid(what: options.preferenceData ?? "demo preference data",
                                                message: "no usable training pairs after filtering")
            }
            if !train.isEmpty {
                sources.dpo = ShuffledBatches(preference: train, batchSize: options.preferenceMicroBatch * options.microBatches,
                                              seed: options.dataSeed &+ 23)
            }
            summary.append("dpo: \(train.count) training pairs, \(heldOutPairs.count) held-out (\(options.preferenceData ?? "built-in demo task"))")
            fingerprints["dpo"] = fingerprint(train.flatMap { [$0.chosen.ids, $0.rejected.ids] })
        }

        let steps = plannedSteps(options, sources)
        let schedule = LearningRateSchedule(base: options.learningRate, warmupSteps: options.warmupSteps,
                                            totalSteps: steps ?? 0, decay: options.cosineDecay ? .cosine : .constant)
        if let path = options.referenceModel {
            progress("loading the reference model")
            summary.append("reference: \(path)")
        }
        let reference = try options.referenceModel.map { try ReferenceModel.load($0, policy: model, maxLength: maxLength) }
        reference?.activationMemory = options.activationMemory
        let backend = try EngineBackend(model: model, settings: EngineBackend.Settings(
            schedule: schedule, optimizer: AdamWConfig(weightDecay: options.weightDecay),
            maxGradNorm: options.maxGradNorm, preference: options.preference, evalBatchSize: max(2, options.batchSize),
            microBatches: options.microBatches),
            heldOutSFT: heldOutSFT, heldOutPairs: heldOutPairs, reference: reference)
        backend.modelExport = ModelExport(options: options, tokenizer: tokenizer)
        var training = options.training
        if heldOutSFT.isEmpty || heldOutPairs.isEmpty { training.evalEvery = nil; training.stopRule = nil }
        let suite = try options.evalSuite.map {
            try EvalSuiteSetup.evaluator($0, model: model, tokenizer: tokenizer, batchSize: max(2, options.batchSize))
        }
        if let suite, let options = options.evalSuite, checkpoint != nil, let runDirectory {
            try EvalSuiteSetup.checkResume(options, fingerprint: suite.fingerprint, recorded: try RunLogReader
                .header(of: runDirectory.log).settings[EvalSuiteSetup.headerKey], log: runDirectory.log.path)
        }
        var identity = RunIdentity(programVersion: programVersion, modelFingerprint: fingerprint(model),
                                   dataFingerprints: fingerprints,
                                   settings: ["parameters": String(model.parameters.scalarCount),
                                              "trainable_parameters": String(model.trainableParameters.scalarCount),
                                              // Sums split across threads round differently: a resume that
                                              // must be bit-exact runs with as many threads as the run did.
                                              "engine_threads": String(EngineThreads.count),
                                              // What the cached reference log-probs were computed with.
                                              "reference_model": backend.referenceIdentity,
                                              // Shown by the dashboard's control panel.
                                              "beta": String(options.preference.beta),
                                              "learningRate": String(options.learningRate),
                                              "batchSize": String(options.batchSize),
                                              PromptFormatChoice.headerKey: promptFormat.description,
                                              "model": options.modelDirectory ?? "preset " + (options.modelPreset ?? "demo")],
                                   runOptions: options)
        if let suite { identity.settings[EvalSuiteSetup.headerKey] = suite.fingerprint }
        let session = try TrainingSession(config: training, backend: backend, sources: sources,
                                          runDirectory: runDirectory, identity: identity, resumeFrom: checkpoint)
        if let suite {
            try session.enableEvalSuite(suite.evaluator)
            summary.append(suite.note + (training.evalEvery == nil ? " (but held-out evaluation is off: never scored)" : ""))
        }
        if let samples = options.samples {
            summary.append(try ProbeSetup.enable(samples, on: session, model: model, tokenizer: tokenizer, format: promptFormat,
                                                 heldOutSFT: heldOutPrompts.sft, heldOutPreference: heldOutPrompts.preference))
        }
        return PreparedRun(session: session, backend: backend, tokenizer: tokenizer, options: options, dataSummary: summary)
    }

    /// The engine thread count a run was started with (nil for runs from before it was recorded).
    public static func engineThreads(ofRun directory: RunDirectory) throws -> Int? {
        try RunLogReader.header(of: directory.log).settings["engine_threads"].flatMap(Int.init)
    }

    /// Reads the options a run was started with back from its run.jsonl header (for `--resume` and `--like`):
    /// the header's `runOptions`, or in a log from before they were stored typed, the JSON string
    /// `settings["run_options"]`.
    public static func options(fromRun directory: RunDirectory) throws -> RunOptions {
        let header = try RunLogReader.header(of: directory.log)
        if let options = header.runOptions { return options }
        guard let json = header.settings[legacyOptionsKey] else {
            throw SessionSetupError.invalid(what: directory.log.path + " line 1",
                                            message: "no run header with run options (not started by xright train?)")
        }
        do { return try JSONDecoder().decode(RunOptions.self, from: Data(json.utf8)) } catch {
            throw SessionSetupError.invalid(what: directory.log.path + " line 1",
                                            message: "the header's run_options are unreadable: \(error)")
        }
    }

    /// Where logs written before `RunHeader.runOptions` keep the options: a JSON string among the settings.
    public static let legacyOptionsKey = "run_options"

    static func plannedSteps(_ options: RunOptions, _ sources: ObjectiveSources) -> Int? {
        if let m = options.training.maxSteps { return m }
        let sft = sources.sft?.epochLength ?? 0, dpo = sources.dpo?.epochLength ?? 0
        let perEpoch: Int
        switch options.training.strategy {
        case .sftOnly: perEpoch = sft
        case .dpoOnly: perEpoch = dpo
        case .sftThenDPO, .dpoThenSFT: return nil
        default: perEpoch = max(sft, dpo)
        }
        return perEpoch * options.training.maxEpochs
    }

    public static func loadTokenizer(_ options: RunOptions) throws -> any Tokenizer {
        try loadTokenizer(tokenizer: options.tokenizer, model: options.modelDirectory)
    }

    /// `--tokenizer` when given, else the `--model`'s (a .gguf's metadata or the directory's tokenizer.json), else
    /// the byte tokenizer of the presets.
    public static func loadTokenizer(tokenizer: String?, model: String?) throws -> any Tokenizer {
        if let path = tokenizer { return try TokenizerLoader.load(path: path) }
        if let dir = model {
            // A GGUF file carries its tokenizer in its metadata.
            if ModelDirectory.isGGUF(URL(fileURLWithPath: dir)) { return try TokenizerLoader.load(path: dir) }
            let file = URL(fileURLWithPath: dir).appendingPathComponent("tokenizer.json")
            if FileManager.default.fileExists(atPath: file.path) { return try TokenizerLoader.load(path: file.path) }
            throw SessionSetupError.invalid(what: dir, message: "no tokenizer.json in the model directory; give one with --tokenizer")
        }
        return ByteTokenizer()
    }

    public static func loadModel(_ options: RunOptions, vocabularySize: Int) throws -> any CausalLanguageModel {
        if let dir = options.modelDirectory { return try ModelDirectory.load(URL(fileURLWithPath: dir)) }
        let preset = ModelPreset(rawValue: options.modelPreset ?? "demo")!
        // Presets built for the byte tokenizer take its vocabulary; `bench` keeps its own 4096.
        let model = preset.llamaConfig != nil ? preset.makeModel()
            : preset.makeModel(vocabSize: preset == .bench ? max(4096, vocabularySize) : vocabularySize)
        model.initializeRandomly(seed: options.modelSeed)
        return model
    }

    static func readOptions(_ options: RunOptions, kind: DatasetKind) throws -> ReadOptions {
        let format = try options.dataFormat.map { name -> RecordFormat in
            guard let f = RecordFormat(rawValue: name) else {
                throw SessionSetupError.invalid(what: "--format", message: "unknown format '\(name)'; expected one of "
                    + RecordFormat.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return f
        }
        return ReadOptions(format: format, kind: kind, strict: options.strictData)
    }

    static func readSFT(_ path: String, _ options: RunOptions) throws -> [SFTExample] {
        try SFTReader(path: path, options: readOptions(options, kind: .sft)).readAll()
    }

    static func readPreference(_ path: String, _ options: RunOptions) throws -> [PreferencePair] {
        try PreferenceReader(path: path, options: readOptions(options, kind: .preference)).readAll()
    }

    /// The official `train_sft_pref` data: a pair's prompt (and context) with its chosen response.
    static func chosenResponse(_ pair: PreferencePair) -> SFTExample {
        SFTExample(prompt: pair.prompt, response: pair.chosen, context: pair.context, source: pair.source)
    }

    /// FNV-1a over token ids: a cheap, stable fingerprint for the run header.
    static func fingerprint(_ sequences: [[Int32]]) -> String {
        var h = ContentFingerprint.offsetBasis
        for s in sequences {
            for id in s { h = ContentFingerprint.mix(h, word: UInt64(UInt32(bitPattern: id))) }
            h = ContentFingerprint.mix(h, word: 0xFFFF)
        }
        return String(h, radix: 16)
    }

    static func fingerprint(_ model: any CausalLanguageModel) -> String {
        var h = ContentFingerprint.offsetBasis
        let p = model.parameters.values
        for i in stride(from: 0, to: p.count, by: max(1, p.count / 65536)) {
            h = ContentFingerprint.mix(h, word: UInt64(p[i].bitPattern))
        }
        return "\(model.config.numLayers)x\(model.config.hiddenSize)-\(String(h, radix: 16))"
    }
}
