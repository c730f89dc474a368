/// The payloads of the run's events (docs/RUNLOG.md shows one of each). Every event names the optimizer step it
/// follows: `step` counts completed steps, so events between steps 11 and 12 carry 11.

/// First line of `run.jsonl`: what ran, on what, with which settings.
public struct RunHeader: Codable, Equatable, Sendable {
    /// "major.minor"; readers reject an unknown major, accept any minor (new fields are optional).
    public var schema: String
    public var programVersion: String
    /// ISO-8601, UTC.
    public var createdAt: String
    public var seed: UInt64
    public var config: TrainingConfig
    /// Identifies the starting weights (e.g. a hash of the safetensors file, or a preset name and seed).
    public var modelFingerprint: String
    /// Identifies the training data, by role ("sft", "dpo", "sft-eval", …).
    public var dataFingerprints: [String: String]
    /// Settings owned by other modules (model path, optimizer, batch size, …), as the CLI reports them.
    public var settings: [String: String]
    /// Optimizer steps the run expects to take (for progress and ETA).
    public var plannedSteps: Int?
    /// Every option `xright train` was started with, as an object (what `--resume` and `--like` read back); nil
    /// for runs of other writers. Logs from before it hold the same as a JSON string in `settings["run_options"]`
    /// (`RunSetup.options(fromRun:)` reads either).
    public var runOptions: RunOptions?

    public init(schema: String = RunLogSchema.current, programVersion: String, createdAt: String, seed: UInt64,
                config: TrainingConfig, modelFingerprint: String, dataFingerprints: [String: String],
                settings: [String: String] = [:], plannedSteps: Int? = nil, runOptions: RunOptions? = nil) {
        self.schema = schema
        self.programVersion = programVersion
        self.createdAt = createdAt
        self.seed = seed
        self.config = config
        self.modelFingerprint = modelFingerprint
        self.dataFingerprints = dataFingerprints
        self.settings = settings
        self.plannedSteps = plannedSteps
        self.runOptions = runOptions
    }
}

/// A session began stepping: a fresh run, or a resume from a checkpoint (steps after it are then re-run).
public struct SessionStarted: Codable, Equatable, Sendable {
    public var step: Int
    public var strategy: StrategyName
    public var lambda: Lambda
    /// The checkpoint directory resumed from, nil for a fresh run.
    public var resumedFrom: String?

    public init(step: Int, strategy: StrategyName, lambda: Lambda, resumedFrom: String? = nil) {
        self.step = step
        self.strategy = strategy
        self.lambda = lambda
        self.resumedFrom = resumedFrom
    }
}

/// MAXRIGHT's weighted gaps, g_sft = (1−λ)(f_sft − f_sft*) and g_dpo = λ(f_dpo − f_dpo*).
public struct WeightedGaps: Codable, Equatable, Sendable {
    public var sft: Double
    public var dpo: Double

    public init(sft: Double, dpo: Double) {
        self.sft = sft
        self.dpo = dpo
    }
}

/// One optimizer step.
public struct StepEvent: Codable, Equatable, Sendable {
    public var step: Int
    /// 0-based epoch of the session's budget.
    public var epoch: Int
    public var strategy: StrategyName
    /// Objectives whose gradient went into this update (both for mix).
    public var objectives: [Objective]
    /// Pre-update metrics of the trained batches.
    public var sft: ObjectiveMetrics?
    public var dpo: ObjectiveMetrics?
    public var lambda: Lambda
    public var learningRate: Double
    /// Tokens processed in the step (trained and gap-evaluated batches).
    public var tokens: Int
    public var tokensPerSecond: Double
    public var stepSeconds: Double
    /// Wall time since the run began (carried across resumes).
    public var elapsedSeconds: Double
    /// False when a non-finite loss or gradient made the session skip the update.
    public var updateApplied: Bool
    public var gradientNorm: Double?
    /// MAXRIGHT: the gaps the choice was made on, and whether they were recomputed this step.
    public var gaps: WeightedGaps?
    public var gapsEvaluated: Bool?

    public init(step: Int, epoch: Int, strategy: StrategyName, objectives: [Objective], sft: ObjectiveMetrics? = nil,
                dpo: ObjectiveMetrics? = nil, lambda: Lambda, learningRate: Double, tokens: Int, tokensPerSecond: Double,
                stepSeconds: Double, elapsedSeconds: Double, updateApplied: Bool, gradientNorm: Double? = nil,
                gaps: WeightedGaps? = nil, gapsEvaluated: Bool? = nil) {
        self.step = step
        self.epoch = epoch
        self.strategy = strategy
        self.objectives = objectives
        self.sft = sft
        self.dpo = dpo
        self.lambda = lambda
        self.learningRate = learningRate
        self.tokens = tokens
        self.tokensPerSecond = tokensPerSecond
        self.stepSeconds = stepSeconds
        self.elapsedSeconds = elapsedSeconds
        self.updateApplied = updateApplied
        self.gradientNorm = gradientNorm
        self.gaps = gaps
        self.gapsEvaluated = gapsEvaluated
    }
}

/// Held-out evaluation.
public struct EvalEvent: Codable, Equatable, Sendable {
    public var step: Int
    public var sft: ObjectiveMetrics?
    public var dpo: ObjectiveMetrics?
    /// ‖(f_sft − f_sft*, f_dpo − f_dpo*)‖₂ when the optima are known and both were evaluated.
    public var idealDistance: Double?
    public var seconds: Double
    /// Accuracy on the run's `--eval-suite` (schema 1.3); nil without a suite, or when scoring it failed.
    public var multipleChoice: MultipleChoiceFigures?

    public init(step: Int, sft: ObjectiveMetrics? = nil, dpo: ObjectiveMetrics? = nil, idealDistance: Double? = nil,
                seconds: Double, multipleChoice: MultipleChoiceFigures? = nil) {
        self.step = step
        self.sft = sft
        self.dpo = dpo
        self.idealDistance = idealDistance
        self.seconds = seconds
        self.multipleChoice = multipleChoice
    }
}

public struct CommandApplied: Codable, Equatable, Sendable {
    public var step: Int
    public var command: SessionCommand

    public init(step: Int, command: SessionCommand) {
        self.step = step
        self.command = command
    }
}

public struct CommandRefused: Codable, Equatable, Sendable {
    public var step: Int
    public var command: SessionCommand
    public var reason: String

    public init(step: Int, command: SessionCommand, reason: String) {
        self.step = step
        self.command = command
        self.reason = reason
    }
}

public struct LambdaChanged: Codable, Equatable, Sendable {
    public var step: Int
    public var from: Lambda
    public var to: Lambda

    public init(step: Int, from: Lambda, to: Lambda) {
        self.step = step
        self.from = from
        self.to = to
    }
}

public struct StrategyChanged: Codable, Equatable, Sendable {
    public var step: Int
    public var from: StrategyName
    public var to: StrategyName

    public init(step: Int, from: StrategyName, to: StrategyName) {
        self.step = step
        self.from = from
        self.to = to
    }
}

/// Paused or resumed after `step`.
public struct PauseChange: Codable, Equatable, Sendable {
    public var step: Int

    public init(step: Int) {
        self.step = step
    }
}

public struct CheckpointSaved: Codable, Equatable, Sendable {
    public var step: Int
    /// The checkpoint directory.
    public var path: String
    public var seconds: Double

    public init(step: Int, path: String, seconds: Double) {
        self.step = step
        self.path = path
        self.seconds = seconds
    }
}

public enum WarningKind: String, Codable, Sendable {
    case nonFiniteLoss = "non-finite-loss"
    case nonFiniteGradient = "non-finite-gradient"
    case checkpointFailed = "checkpoint-failed"
    case evaluationFailed = "evaluation-failed"
    case logWriteFailed = "log-write-failed"
}

public struct RunWarning: Codable, Equatable, Sendable {
    public var step: Int
    public var kind: WarningKind
    public var message: String

    public init(step: Int, kind: WarningKind, message: String) {
        self.step = step
        self.kind = kind
        self.message = message
    }
}

public enum FinishReason: String, Codable, Sendable {
    case maxSteps = "max-steps"
    case epochBudget = "epoch-budget"
    case stopped
    case optimumReached = "optimum-reached"
    case nonFinite = "non-finite"
    case failed
}

public struct RunFinished: Codable, Equatable, Sendable {
    public var step: Int
    public var reason: FinishReason
    public var message: String

    public init(step: Int, reason: FinishReason, message: String) {
        self.step = step
        self.reason = reason
        self.message = message
    }
}

/// A sample of the run's own machine, taken where training runs: its GPUs (the bridge: every rank's device,
/// gathered by rank 0) and, from the Swift trainer, its own process. An empty `gpus` with a `note` says why there
/// is no GPU to sample.
public struct TelemetryEvent: Codable, Equatable, Sendable {
    public var step: Int
    public var gpus: [GPU]
    /// Why `gpus` is empty ("no GPU telemetry: nvidia-ml-py (pynvml) is not installed").
    public var note: String?
    /// The training process itself (the Swift trainer writes it; the bridge does not).
    public var process: ProcessReading?

    /// The trainer's process: where it runs, its pid, CPU time over the last sample period and resident memory.
    public struct ProcessReading: Codable, Equatable, Sendable {
        public var host: String
        public var pid: Int
        /// Percent of one core over the period since the previous sample (200 = two cores busy); absent in the
        /// first sample, which has no period.
        public var cpuPercent: Double?
        public var residentBytes: Int?

        public init(host: String, pid: Int, cpuPercent: Double? = nil, residentBytes: Int? = nil) {
            self.host = host
            self.pid = pid
            self.cpuPercent = cpuPercent
            self.residentBytes = residentBytes
        }
    }

    /// One device: where it is (host, rank, device index) is always known; a reading the board or driver does
    /// not report (power on some boards) is nil.
    public struct GPU: Codable, Equatable, Sendable {
        public var host: String
        public var rank: Int
        public var index: Int
        public var name: String?
        /// Percent of the last sample period the GPU was busy.
        public var utilization: Double?
        public var memoryUsedBytes: Int?
        public var memoryTotalBytes: Int?
        public var temperatureC: Double?
        public var powerWatts: Double?

        public init(host: String, rank: Int, index: Int, name: String? = nil, utilization: Double? = nil,
                    memoryUsedBytes: Int? = nil, memoryTotalBytes: Int? = nil, temperatureC: Double? = nil,
                    powerWatts: Double? = nil) {
            self.host = host
            self.rank = rank
            self.index = index
            self.name = name
            self.utilization = utilization
            self.memoryUsedBytes = memoryUsedBytes
            self.memoryTotalBytes = memoryTotalBytes
            self.temperatureC = temperatureC
            self.powerWatts = powerWatts
        }
    }

    public init(step: Int, gpus: [GPU], note: String? = nil, process: ProcessReading? = nil) {
        self.step = step
        self.gpus = gpus
        self.note = note
        self.process = process
    }
}
