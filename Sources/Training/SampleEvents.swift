/// What the model says between optimizer steps (docs/RUNLOG.md, schema 1.2): one `sample` event per probe prompt,
/// and the live-only `progress` of a step that takes long enough to be watched.

/// The current weights' greedy reply to one probe prompt, generated between optimizer steps.
public struct SampleEvent: Codable, Equatable, Sendable {
    /// Steps completed when the reply was generated (0: the starting weights).
    public var step: Int
    /// Which probe (0-based, in the order the prompts were given): the same prompt across samples.
    public var probe: Int
    /// The prompt as the user wrote it (the template is applied when generating).
    public var prompt: String
    public var reply: String
    /// New tokens generated (the end token that stopped them not counted).
    public var tokens: Int
    /// Wall seconds the reply took (prefill and decode).
    public var seconds: Double
    /// Why this sample was taken: `schedule` (start and `--sample-every`) or `command` (`sample-now`).
    public var reason: SampleReason
    /// Probes in this round (schema 1.3): the round is complete at `probe == probes - 1` (`xright ctl RUN sample`
    /// waits for that). Absent in older logs.
    public var probes: Int?

    public init(step: Int, probe: Int, prompt: String, reply: String, tokens: Int, seconds: Double,
                reason: SampleReason = .schedule, probes: Int? = nil) {
        self.step = step
        self.probe = probe
        self.prompt = prompt
        self.reply = reply
        self.tokens = tokens
        self.seconds = seconds
        self.reason = reason
        self.probes = probes
    }
}

public enum SampleReason: String, Codable, Sendable {
    case schedule, command
}

/// What the training thread is doing inside a step (or between steps: evaluating, sampling). Sent to observers
/// only, never written to `run.jsonl` (docs/RUNLOG.md): it says where a slow step is, and is stale the moment
/// the step's own event arrives.
public struct StepProgress: Codable, Equatable, Sendable {
    public enum Activity: String, Codable, Sendable {
        /// Inside optimizer step `step + 1`.
        case training
        /// Held-out evaluation after `step`.
        case evaluating
        /// Generating probe replies after `step`.
        case sampling
    }

    public enum Phase: String, Codable, Sendable {
        case forward, backward
        /// The frozen reference model's forward (DPO, once per pair).
        case reference
        case optimizer
        /// Decoding a probe reply.
        case generate
    }

    /// Steps completed so far.
    public var step: Int
    public var activity: Activity
    public var phase: Phase
    /// The objective being computed, when there is one.
    public var objective: Objective?
    /// Part of the activity, 1-based, and how many there are when known: the micro-batch within a training step
    /// (`--grad-accum`; 1 of 1 without it), held-out chunks, or probe prompts. Without a count (the optimizer
    /// update, backends that do not report phases), the backend call within the step (mix makes two).
    public var part: Int
    public var parts: Int?
    /// Seconds since the activity began (the step, the evaluation, the sampling).
    public var seconds: Double

    public init(step: Int, activity: Activity, phase: Phase, objective: Objective? = nil, part: Int = 1,
                parts: Int? = nil, seconds: Double) {
        self.step = step
        self.activity = activity
        self.phase = phase
        self.objective = objective
        self.part = part
        self.parts = parts
        self.seconds = seconds
    }

    /// "step 13: sft backward (micro-batch 2 of 4)", "step 13: optimizer update",
    /// "evaluating after step 12: dpo forward (3/7)", "sampling after step 12: probe 2/3".
    public var summary: String {
        let what = [objective?.rawValue, phase.rawValue].compactMap { $0 }.joined(separator: " ")
        let count = parts.map { "\(part)/\($0)" } ?? "pass \(part)"
        switch activity {
        case .training:
            if phase == .optimizer { return "step \(step + 1): optimizer update" }
            return "step \(step + 1): \(what) (\(parts.map { "micro-batch \(part) of \($0)" } ?? "pass \(part)"))"
        case .evaluating: return "evaluating after step \(step): \(what) (\(count))"
        case .sampling: return "sampling after step \(step): probe \(count)"
        }
    }
}

/// How a session samples: which prompts, how often, how long a reply may be.
public struct ProbeSchedule: Codable, Equatable, Sendable {
    /// Sample after every `every` steps; nil: automatically, so that sampling takes at most `maxShare` of the
    /// training time (after each sampling, the next waits until the steps since took ≥ (1 − share)/share times
    /// as long as the sampling did).
    public var every: Int?
    public var prompts: [String]
    public var maxNewTokens: Int
    public var maxShare: Double

    public static let defaultMaxNewTokens = 48
    public static let defaultMaxShare = 0.1

    public init(prompts: [String], every: Int? = nil, maxNewTokens: Int = Self.defaultMaxNewTokens,
                maxShare: Double = Self.defaultMaxShare) {
        self.prompts = prompts
        self.every = every
        self.maxNewTokens = maxNewTokens
        self.maxShare = maxShare
    }
}

/// Replies from the current weights: the engine side of sampling (greedy decoding with a KV cache). Called on
/// the training thread between optimizer steps only.
public protocol ReplyGenerator: AnyObject {
    /// Called once before each round of replies (the weights may have changed since the last round).
    func beginSampling(prompts: [String], maxNewTokens: Int) throws
    /// Greedy reply to `prompt` (the run's prompt format applied by the generator), at most `maxNewTokens`.
    /// `onToken` hears each new token's count so far (for progress).
    func reply(to prompt: String, maxNewTokens: Int, onToken: (Int) -> Void) throws -> GeneratedReply
}

public struct GeneratedReply: Equatable, Sendable {
    public var text: String
    public var tokens: Int

    public init(text: String, tokens: Int) {
        self.text = text
        self.tokens = tokens
    }
}

/// A backend that can say which phase of a computation it is in (forward, backward, reference, optimizer) and,
/// for chunked work such as held-out evaluation, which chunk of how many. The session uses it for `progress`.
public protocol PhaseReporting: AnyObject {
    var phaseObserver: ((StepProgress.Phase, _ part: Int, _ parts: Int) -> Void)? { get set }
    /// Micro-batches a training step computes each objective in (`--grad-accum`).
    var microBatches: Int { get }
}

extension PhaseReporting {
    public var microBatches: Int { 1 }
}
