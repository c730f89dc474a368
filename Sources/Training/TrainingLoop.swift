import Foundation

/// The training thread's work: steps, epochs, evaluations, checkpoints and the end of the run.
extension TrainingSession {
    func runLoop() -> RunFinished {
        startUptime = DispatchTime.now().uptimeNanoseconds
        // The header reaches observers too (the writer put it on line 1 when it created the log).
        notify(RunRecord(time: elapsedSeconds, event: .header(header)))
        emit(.started(SessionStarted(step: state.step, strategy: strategy.state.name, lambda: state.lambda,
                                     resumedFrom: resumedFrom?.directory.path)))
        observeBackendPhases()
        // The starting weights' replies: what the model said before this run changed it.
        if resumedFrom == nil, state.step == 0 { sample(reason: .schedule) }
        publishStatus()
        while runState.finished == nil {
            for command in takeCommands() {
                apply(command)
                publishStatus()
            }
            if runState.finished != nil { break }
            if !runState.mayStep { continue }
            do {
                if let reached = boundReached() {
                    finish(reached.reason, reached.message)
                    break
                }
                try beginEpochIfNeeded()
                try takeStep()
                runState.stepTaken()
                afterStep()
            } catch {
                finish(.failed, "step \(state.step + 1): \(error)")
            }
            publishStatus()
        }
        return conclude()
    }

    var elapsedSeconds: Double {
        elapsedAtStart + Double(DispatchTime.now().uptimeNanoseconds &- startUptime) / 1e9
    }

    func emit(_ event: RunEvent) {
        deliver(event, step: state.step)
    }

    /// Stamps `event` with the run's time, appends it to the log and hands it to every observer, under
    /// `emitLock`; `step` is for the warning a failed write becomes. Nothing is delivered after `finished`.
    func deliver(_ event: RunEvent, step: Int) {
        emitLock.lock()
        defer { emitLock.unlock() }
        guard !emissionClosed else { return }
        let record = RunRecord(time: elapsedSeconds, event: event)
        if let log {
            do { try log.append(record) } catch {
                // Reported once to observers; the log cannot record its own failure.
                if !logFailureReported {
                    logFailureReported = true
                    notify(RunRecord(time: record.time, event: .warning(RunWarning(
                        step: step, kind: .logWriteFailed, message: "run log not written: \(error)"))))
                }
            }
        }
        notify(record)
    }

    func finish(_ reason: FinishReason, _ message: String) {
        runState.finish(RunFinished(step: state.step, reason: reason, message: message))
    }

    /// Steps or epochs used up: the run ends before another step.
    private func boundReached() -> (reason: FinishReason, message: String)? {
        if let maxSteps = config.maxSteps, state.step >= maxSteps {
            return (.maxSteps, "reached maxSteps = \(maxSteps)")
        }
        closeEpochIfComplete()
        if state.epoch >= config.maxEpochs {
            return (.epochBudget, "completed the epoch budget of \(config.maxEpochs)")
        }
        return nil
    }

    /// Moves past a finished epoch; the next one begins (new shuffles) right before its first step.
    private func closeEpochIfComplete() {
        guard state.epochLength > 0, state.stepInEpoch >= state.epochLength else { return }
        state.epoch += 1
        state.stepInEpoch = 0
        state.epochLength = 0
    }

    private func beginEpochIfNeeded() throws {
        guard state.epochLength == 0 else { return }
        let objectives = strategy.beginEpoch(state.epoch, lambda: state.lambda, epochBudget: config.maxEpochs)
        for objective in objectives { state.cursors[objective].beginEpoch() }
        guard let first = objectives.first, let source = sources[first] else {
            throw SessionError.missingSource(objectives.first ?? .sft)
        }
        state.epochLength = source.epochLength
    }

    private func takeStep() throws {
        let started = DispatchTime.now().uptimeNanoseconds
        progressClock.begin(.training)
        defer { progressClock.end() }
        let context = StepContext(backend: backend, sources: sources, cursors: state.cursors, lambda: state.lambda,
                                  optima: state.optima ?? Optima(sft: 0, dpo: 0), stepInEpoch: state.stepInEpoch,
                                  maxEvalSteps: config.maxEvalSteps)
        context.willEvaluate = { [unowned self] objective in
            noteBackendCall(objective)
            reportPhase(.forward, part: 1, parts: (backend as? PhaseReporting)?.microBatches ?? 1)
        }
        let note = try strategy.step(context)
        state.cursors = context.cursors
        let learningRate = backend.learningRate

        var applied = false
        var gradientNorm: Double?
        var warning: (WarningKind, String)?
        let nonFinite = context.trainedOrder.filter { !(context.trained[$0]?.loss.isFinite ?? true) }
        if !nonFinite.isEmpty {
            backend.discardGradients()
            warning = (.nonFiniteLoss, "non-finite \(nonFinite.map(\.rawValue).joined(separator: " and ")) loss")
        } else {
            reportPhase(.optimizer, part: progressClock.pass, parts: nil)
            switch try backend.applyUpdate() {
            case .applied(let norm):
                applied = true
                gradientNorm = norm
            case .skippedNonFinite(let detail):
                warning = (.nonFiniteGradient, "non-finite gradient (\(detail))")
            }
        }
        state.step += 1
        state.stepInEpoch += 1
        state.tokensSeen += context.tokens
        state.consecutiveNonFinite = applied ? 0 : state.consecutiveNonFinite + 1
        state.strategy = strategy.state
        checkpointIsCurrent = false

        let seconds = Double(DispatchTime.now().uptimeNanoseconds &- started) / 1e9
        progressClock.previousStepSeconds = seconds
        emit(.step(StepEvent(
            step: state.step, epoch: state.epoch, strategy: strategy.state.name, objectives: context.trainedOrder,
            sft: context.trained[.sft], dpo: context.trained[.dpo], lambda: state.lambda,
            learningRate: learningRate, tokens: context.tokens,
            tokensPerSecond: seconds > 0 ? Double(context.tokens) / seconds : 0, stepSeconds: seconds,
            elapsedSeconds: elapsedSeconds, updateApplied: applied, gradientNorm: gradientNorm,
            gaps: note.gaps, gapsEvaluated: note.gapsEvaluated)))
        if let (kind, what) = warning {
            emit(.warning(RunWarning(step: state.step, kind: kind, message:
                "step \(state.step): \(what); update skipped (\(state.consecutiveNonFinite) in a row, "
                + "the run stops at \(config.maxConsecutiveNonFinite))")))
        }
    }

    private func afterStep() {
        if state.consecutiveNonFinite >= config.maxConsecutiveNonFinite {
            finish(.nonFinite, "\(state.consecutiveNonFinite) non-finite updates in a row (steps "
                   + "\(state.step - state.consecutiveNonFinite + 1)–\(state.step)); the last good checkpoint is kept")
            return
        }
        if let every = config.evalEvery, state.step == 1 || state.step % every == 0 {
            if let eval = evaluateHeldOut(), let rule = config.stopRule, let optima = state.optima,
               let sft = eval.sft?.loss, let dpo = eval.dpo?.loss,
               rule.isSatisfied(sftLoss: sft, dpoLoss: dpo, optima: optima) {
                finish(.optimumReached, "held-out losses (\(sft), \(dpo)) within ε = \(rule.epsilon) of an optimum "
                       + "or a reference Pareto point")
            }
        }
        // A state inside a run of non-finite updates is not a good one to resume from.
        if let every = config.checkpointEvery, state.step % every == 0, state.consecutiveNonFinite == 0 {
            saveCheckpoint()
        }
        if runState.finished == nil { sampleIfDue(stepSeconds: progressClock.previousStepSeconds) }
    }

    /// Held-out losses of the objectives that have data; nil (and a warning) when the backend fails.
    @discardableResult
    func evaluateHeldOut() -> EvalEvent? {
        let started = DispatchTime.now().uptimeNanoseconds
        progressClock.begin(.evaluating)
        defer { progressClock.end() }
        var results: [Objective: ObjectiveMetrics] = [:]
        do {
            for objective in Objective.allCases where sources[objective] != nil {
                noteBackendCall(objective)
                results[objective] = try backend.evaluateHeldOut(objective)
            }
        } catch {
            emit(.warning(RunWarning(step: state.step, kind: .evaluationFailed, message: "held-out evaluation failed: \(error)")))
            return nil
        }
        var distance: Double?
        if let optima = state.optima, let sft = results[.sft]?.loss, let dpo = results[.dpo]?.loss {
            distance = optima.idealDistance(sftLoss: sft, dpoLoss: dpo)
        }
        let multipleChoice = scoreSuite()
        let event = EvalEvent(step: state.step, sft: results[.sft], dpo: results[.dpo], idealDistance: distance,
                              seconds: Double(DispatchTime.now().uptimeNanoseconds &- started) / 1e9,
                              multipleChoice: multipleChoice)
        emit(.eval(event))
        return event
    }

    /// The `--eval-suite` figures with the weights as they are; a failure is a warning and the evaluation goes on
    /// without them.
    private func scoreSuite() -> MultipleChoiceFigures? {
        guard let suite else { return nil }
        progressClock.objective = nil
        let count = suite.questionCount
        do {
            return try suite.evaluate { done in reportPhase(.forward, part: min(done + 1, count), parts: count) }
        } catch {
            emit(.warning(RunWarning(step: state.step, kind: .evaluationFailed, message: "eval suite not scored: \(error)")))
            return nil
        }
    }

    /// Writes a checkpoint of the current state; a failure becomes a warning and the run goes on.
    @discardableResult
    func saveCheckpoint() -> Bool {
        guard let checkpoints else { return false }
        let started = DispatchTime.now().uptimeNanoseconds
        var snapshot = state
        snapshot.strategy = strategy.state
        snapshot.elapsedSeconds = elapsedSeconds
        // The log reaches the disk before the checkpoint exists: a resume from it never skips logged steps.
        if let log {
            do { try log.sync() } catch {
                emit(.warning(RunWarning(step: state.step, kind: .checkpointFailed, message:
                    "checkpoint of step \(state.step) not written: the run log could not be synced first (\(error)); "
                    + "earlier checkpoints are kept")))
                return false
            }
        }
        do {
            let saved = try checkpoints.save(step: state.step, sessionState: snapshot.encoded(), backend: backend)
            checkpointIsCurrent = true
            FaultPoint.checkpointRenamed.reached()
            emit(.checkpointSaved(CheckpointSaved(step: state.step, path: saved.directory.path,
                                                  seconds: Double(DispatchTime.now().uptimeNanoseconds &- started) / 1e9)))
            return true
        } catch {
            emit(.warning(RunWarning(step: state.step, kind: .checkpointFailed, message: String(describing: error))))
            return false
        }
    }

    /// The end of the run: a final checkpoint when the state is good, the `finished` event, the log closed.
    private func conclude() -> RunFinished {
        var finished = runState.finished ?? RunFinished(step: state.step, reason: .failed, message: "ended without a reason")
        if finished.reason == .stopped, let signal = stoppingSignal {
            finished.message = "stopped by \(SignalName.of(signal)) at step \(finished.step)"
        }
        let clean: Set<FinishReason> = [.maxSteps, .epochBudget, .stopped, .optimumReached]
        if clean.contains(finished.reason), config.checkpointOnFinish, !checkpointIsCurrent,
           state.consecutiveNonFinite == 0, state.step > 0 {
            saveCheckpoint()
        }
        emitLock.lock()
        emit(.finished(finished))
        emissionClosed = true
        emitLock.unlock()
        if let log {
            do { try log.close() } catch {
                notify(RunRecord(time: elapsedSeconds, event: .warning(RunWarning(
                    step: state.step, kind: .logWriteFailed, message: "run log not closed cleanly: \(error)"))))
            }
        }
        publishStatus(finished: finished)
        return finished
    }
}
