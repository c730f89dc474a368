import Foundation

/// What sampling cost last time, and the training time since: the automatic schedule keeps sampling's share of
/// the run's time at most `ProbeSchedule.maxShare`.
struct SampleCost {
    /// Seconds the last sampling took (all probes).
    var lastSeconds = 0.0
    /// Seconds of optimizer steps since the last sampling.
    var trainingSince = 0.0
    var sampledOnce = false

    /// With `every`, after each multiple of it; without, once the steps since the last sampling took long enough
    /// that sampling is at most `share` of training plus sampling: trainingSince ≥ last · (1 − share) / share.
    func isDue(step: Int, schedule: ProbeSchedule) -> Bool {
        if let every = schedule.every { return every > 0 && step % every == 0 }
        guard sampledOnce else { return true }
        let share = min(max(schedule.maxShare, 1e-3), 1)
        return trainingSince >= lastSeconds * (1 - share) / share
    }
}

/// Sampling: the probe prompts answered greedily by the current weights, between optimizer steps.
extension TrainingSession {
    /// After a step: counts its time toward the automatic schedule and samples when due.
    func sampleIfDue(stepSeconds: Double) {
        guard let probes else { return }
        sampleCost.trainingSince += stepSeconds
        if sampleCost.isDue(step: state.step, schedule: probes.schedule) { sample(reason: .schedule) }
    }

    /// One `sample` event per probe prompt; a generator error becomes a warning and the run goes on.
    func sample(reason: SampleReason) {
        guard let (schedule, generator) = probes else { return }
        let started = DispatchTime.now().uptimeNanoseconds
        progressClock.begin(.sampling)
        let count = schedule.prompts.count
        do { try generator.beginSampling(prompts: schedule.prompts, maxNewTokens: schedule.maxNewTokens) } catch {
            emit(.warning(RunWarning(step: state.step, kind: .evaluationFailed, message: "sampling failed: \(error)")))
            progressClock.end()
            return
        }
        for (index, prompt) in schedule.prompts.enumerated() {
            // The first reply's seconds include the round's setup (the decoder, LoRA merged into its weights), so
            // a round's samples add up to what it cost the run.
            let promptStarted = index == 0 ? started : DispatchTime.now().uptimeNanoseconds
            reportPhase(.generate, part: index + 1, parts: count)
            do {
                let reply = try generator.reply(to: prompt, maxNewTokens: schedule.maxNewTokens) { _ in
                    self.reportPhase(.generate, part: index + 1, parts: count)
                }
                emit(.sample(SampleEvent(step: state.step, probe: index, prompt: prompt, reply: reply.text,
                                         tokens: reply.tokens,
                                         seconds: Double(DispatchTime.now().uptimeNanoseconds &- promptStarted) / 1e9,
                                         reason: reason, probes: count)))
            } catch {
                emit(.warning(RunWarning(step: state.step, kind: .evaluationFailed,
                                         message: "sampling probe \(index + 1) failed: \(error)")))
                break
            }
        }
        sampleCost.lastSeconds = Double(DispatchTime.now().uptimeNanoseconds &- started) / 1e9
        sampleCost.trainingSince = 0
        sampleCost.sampledOnce = true
        progressClock.end()
    }
}
