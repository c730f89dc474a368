import Foundation

/// What a caller can see of a session from any thread.
public struct SessionStatus: Equatable, Sendable {
    public var step: Int
    public var epoch: Int
    public var lambda: Lambda
    public var strategy: StrategyState
    /// Where each loader is (data progress).
    public var cursors: ObjectiveCursors
    public var paused: Bool
    public var finished: RunFinished?
}

/// Runs training on its own thread. Commands go in through a thread-safe queue and are applied between optimizer
/// steps; events go out to observers (called on the training thread: keep them quick, hand work elsewhere) and to
/// `run.jsonl`. A paused session waits on a condition variable: no spinning.
public final class TrainingSession {
    public typealias Observer = (RunRecord) -> Void

    public let config: TrainingConfig
    public let runDirectory: RunDirectory?
    public let header: RunHeader

    // Owned by the training thread once running.
    let backend: TrainingBackend
    let sources: ObjectiveSources
    var state: SessionState
    var strategy: TrainingStrategy
    /// Running, paused or finishing: one value, its transitions in `SessionRunState`.
    var runState = SessionRunState.running
    var paused: Bool { runState.isPaused }
    /// The newest checkpoint matches the current state (nothing stepped or changed since).
    var checkpointIsCurrent = false
    var log: RunLogWriter?
    var logFailureReported = false
    let checkpoints: CheckpointStore?
    let resumedFrom: Checkpoint?
    var startUptime: UInt64 = 0
    let elapsedAtStart: Double
    /// Probe prompts and the generator that answers them (`enableSamples`); nil: no sampling.
    var probes: (schedule: ProbeSchedule, generator: ReplyGenerator)?
    /// The `--eval-suite` scored at each held-out evaluation (`enableEvalSuite`); nil: none.
    var suite: SuiteEvaluator?
    /// Sampling's cost and the training time since it last ran (the automatic schedule, SessionSampling.swift).
    var sampleCost = SampleCost()
    /// Where the step in flight is, for `progress` records (SessionProgress.swift).
    var progressClock = ProgressClock()

    // Shared between threads.
    /// Held while a record is stamped, logged and handed to observers: the training thread and the telemetry
    /// sampler (`post(telemetry:)`) both emit, and the log's times and every observer's calls stay in one order.
    /// Recursive: an emit may report a log failure to observers from inside.
    let emitLock = NSRecursiveLock()
    /// Set with the `finished` event: later records from other threads are dropped (the log is closed).
    var emissionClosed = false
    private let commandSignal = NSCondition()
    private var queuedCommands: [SessionCommand] = []
    private let observerLock = NSLock()
    private var observers: [(id: Int, call: Observer)] = []
    private var nextObserverID = 0
    private let statusSignal = NSCondition()
    private var currentStatus: SessionStatus
    private var hasStarted = false
    private var requestedBySignal: Int32?

    /// A new run, or (with `resumeFrom`) the continuation of one from a checkpoint directory. With a run
    /// directory, events go to its `run.jsonl` (created, or appended to when resuming) and checkpoints to its
    /// `checkpoints/`. When resuming, λ, the strategy (and its state) and the optima come from the checkpoint —
    /// commands may have changed them — while `config` sets the bounds and periods (e.g. a larger `maxSteps`).
    /// The backend must be built as for the original run; its `loadState` restores the rest.
    public init(config: TrainingConfig, backend: TrainingBackend, sources: ObjectiveSources,
                runDirectory: RunDirectory? = nil, identity: RunIdentity = RunIdentity(),
                resumeFrom checkpointDirectory: URL? = nil) throws {
        try config.validate()
        for objective in Objective.allCases {
            if let source = sources[objective], source.epochLength < 1 { throw SessionError.emptySource(objective) }
        }
        self.config = config
        self.backend = backend
        self.sources = sources
        self.runDirectory = runDirectory
        checkpoints = runDirectory.map { CheckpointStore(directory: $0.checkpoints, keepLast: config.keepCheckpoints) }

        if let checkpointDirectory {
            let checkpoint = try CheckpointStore.open(checkpointDirectory)
            let restored = try SessionState.load(checkpoint.sessionFile)
            try Self.checkSources(sources, match: restored.cursors, file: checkpoint.sessionFile.path)
            try backend.loadState(from: checkpoint.backendDirectory)
            state = restored
            strategy = try StrategyFactory.restore(restored.strategy, file: checkpoint.sessionFile.path)
            resumedFrom = checkpoint
            checkpointIsCurrent = true
        } else {
            strategy = StrategyFactory.make(config.strategy, seed: config.seed, step: 0, epoch: 0,
                                            lambda: config.lambda, epochBudget: config.maxEpochs)
            state = SessionState(
                format: SessionState.currentFormat, step: 0, epoch: 0, stepInEpoch: 0, epochLength: 0,
                lambda: config.lambda, strategy: strategy.state,
                cursors: ObjectiveCursors(sft: BatchCursor(shuffleSeed: sources.sft?.shuffleSeed ?? 0),
                                          dpo: BatchCursor(shuffleSeed: sources.dpo?.shuffleSeed ?? 0)),
                optima: config.optima, consecutiveNonFinite: 0, tokensSeen: 0, elapsedSeconds: 0)
            resumedFrom = nil
        }
        for objective in strategy.requiredObjectives where sources[objective] == nil {
            throw SessionError.missingSource(objective)
        }
        elapsedAtStart = state.elapsedSeconds

        let formatter = ISO8601DateFormatter()
        header = RunHeader(programVersion: identity.programVersion, createdAt: formatter.string(from: Date()),
                           seed: config.seed, config: config, modelFingerprint: identity.modelFingerprint,
                           dataFingerprints: identity.dataFingerprints, settings: identity.settings,
                           plannedSteps: Self.plannedSteps(config: config, lambda: state.lambda, sources: sources),
                           runOptions: identity.runOptions)
        currentStatus = SessionStatus(step: state.step, epoch: state.epoch, lambda: state.lambda,
                                      strategy: state.strategy, cursors: state.cursors, paused: false, finished: nil)
        if let runDirectory {
            try runDirectory.create()
            if resumedFrom != nil, FileManager.default.fileExists(atPath: runDirectory.log.path) {
                log = try RunLogWriter(appendingTo: runDirectory.log)
            } else {
                log = try RunLogWriter(creating: runDirectory.log, header: header)
            }
        }
    }

    private static func checkSources(_ sources: ObjectiveSources, match cursors: ObjectiveCursors, file: String) throws {
        for objective in Objective.allCases {
            guard let source = sources[objective] else { continue }
            let saved = cursors[objective].shuffleSeed
            // A cursor that never began an epoch has not fixed its seed yet.
            if cursors[objective].epochsBegun > 0, saved != source.shuffleSeed {
                throw CheckpointError.incompatible(file: file, field: "cursors.\(objective).shuffleSeed",
                                                   expected: "the data's shuffle seed \(source.shuffleSeed)", found: String(saved))
            }
        }
    }

    /// Steps the configuration plans: the epoch budget (joint strategies: epochs × SFT batches; sequential:
    /// each epoch's objective's batches), capped by `maxSteps`.
    static func plannedSteps(config: TrainingConfig, lambda: Lambda, sources: ObjectiveSources) -> Int? {
        let probe = StrategyFactory.make(config.strategy, seed: 0, step: 0, epoch: 0, lambda: lambda, epochBudget: config.maxEpochs)
        var total = 0
        for epoch in 0..<config.maxEpochs {
            var copy = probe
            guard let first = copy.beginEpoch(epoch, lambda: lambda, epochBudget: config.maxEpochs).first,
                  let source = sources[first] else { return config.maxSteps }
            total += source.epochLength
        }
        return config.maxSteps.map { min($0, total) } ?? total
    }

    // MARK: - Observers

    /// Adds an observer; returns a token for `unsubscribe`. Observers are called on the training thread, in order.
    @discardableResult
    public func subscribe(_ observer: @escaping Observer) -> Int {
        observerLock.lock()
        defer { observerLock.unlock() }
        nextObserverID += 1
        observers.append((nextObserverID, observer))
        return nextObserverID
    }

    public func unsubscribe(_ token: Int) {
        observerLock.lock()
        defer { observerLock.unlock() }
        observers.removeAll { $0.id == token }
    }

    func notify(_ record: RunRecord) {
        emitLock.lock()
        defer { emitLock.unlock() }
        observerLock.lock()
        let current = observers
        observerLock.unlock()
        for observer in current { observer.call(record) }
    }

    // MARK: - Commands

    /// Queues a command; it is applied before the next optimizer step (or at once when paused).
    public func send(_ command: SessionCommand) {
        commandSignal.lock()
        queuedCommands.append(command)
        commandSignal.signal()
        commandSignal.unlock()
    }

    /// The queued commands; while paused with no step granted, waits (without spinning) until one arrives.
    func takeCommands() -> [SessionCommand] {
        commandSignal.lock()
        defer { commandSignal.unlock() }
        while queuedCommands.isEmpty && runState.isPaused && !runState.mayStep { commandSignal.wait() }
        let taken = queuedCommands
        queuedCommands.removeAll()
        return taken
    }

    /// Stops like the `stop` command (after the current step, with a checkpoint) and records the signal that
    /// asked: the `finished` event names it, and the CLI exits with 128 + its number as shells expect.
    public func stop(bySignal signal: Int32) {
        statusSignal.lock()
        if requestedBySignal == nil { requestedBySignal = signal }
        statusSignal.unlock()
        send(.stop)
    }

    /// The signal that stopped the run (`stop(bySignal:)`), if one did.
    public var stoppingSignal: Int32? {
        statusSignal.lock()
        defer { statusSignal.unlock() }
        return requestedBySignal
    }

    /// Generates `schedule`'s prompts with `generator` at the start of a fresh run, on its schedule and on the
    /// `sample-now` command. Call before `start()`.
    public func enableSamples(_ schedule: ProbeSchedule, generator: ReplyGenerator) throws {
        statusSignal.lock()
        defer { statusSignal.unlock() }
        guard !hasStarted else { throw SessionError.alreadyStarted }
        guard !schedule.prompts.isEmpty else { return }
        probes = (schedule, generator)
    }

    /// Scores `evaluator`'s multiple-choice suite at every held-out evaluation (the `eval` event's
    /// `multipleChoice`). Call before `start()`.
    public func enableEvalSuite(_ evaluator: SuiteEvaluator) throws {
        statusSignal.lock()
        defer { statusSignal.unlock() }
        guard !hasStarted else { throw SessionError.alreadyStarted }
        suite = evaluator
    }

    // MARK: - Running

    /// Runs on a new thread and returns at once.
    public func start() throws {
        try claimStart()
        let thread = Thread { [self] in _ = runLoop() }
        thread.name = "xright.training"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Runs on the calling thread until the run finishes (benchmarks, headless runs).
    @discardableResult
    public func run() throws -> RunFinished {
        try claimStart()
        return runLoop()
    }

    private func claimStart() throws {
        statusSignal.lock()
        defer { statusSignal.unlock() }
        guard !hasStarted else { throw SessionError.alreadyStarted }
        hasStarted = true
    }

    /// Blocks until the run has finished (or `timeout` passes: nil).
    public func waitUntilFinished(timeout: TimeInterval? = nil) -> RunFinished? {
        let deadline = timeout.map { Date(timeIntervalSinceNow: $0) }
        statusSignal.lock()
        defer { statusSignal.unlock() }
        while currentStatus.finished == nil {
            if let deadline {
                if !statusSignal.wait(until: deadline) { return currentStatus.finished }
            } else {
                statusSignal.wait()
            }
        }
        return currentStatus.finished
    }

    public var status: SessionStatus {
        statusSignal.lock()
        defer { statusSignal.unlock() }
        return currentStatus
    }

    func publishStatus(finished: RunFinished? = nil) {
        statusSignal.lock()
        currentStatus = SessionStatus(step: state.step, epoch: state.epoch, lambda: state.lambda,
                                      strategy: strategy.state, cursors: state.cursors, paused: paused, finished: finished)
        statusSignal.broadcast()
        statusSignal.unlock()
    }
}
