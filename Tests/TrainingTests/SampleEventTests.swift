import Engine
import Foundation
import TestSupport
import Training
import XCTest

/// Replies from a counter: "reply N to PROMPT", N the sampling round, so a test can tell rounds apart.
private final class CountingGenerator: ReplyGenerator {
    private(set) var rounds = 0
    var failOnRound: Int?

    func beginSampling(prompts: [String], maxNewTokens: Int) throws {
        rounds += 1
        if rounds == failOnRound { throw StandInError(description: "decoder exploded") }
    }

    func reply(to prompt: String, maxNewTokens: Int, onToken: (Int) -> Void) throws -> GeneratedReply {
        for n in 1...3 { onToken(n) }
        return GeneratedReply(text: "reply \(rounds) to \(prompt)", tokens: 3)
    }
}

/// The quadratic stand-in, slowed down so that its steps are long enough to be watched from inside.
private final class SlowBackend: TrainingBackend, PhaseReporting {
    let inner = QuadraticBackend()
    var phaseObserver: ((StepProgress.Phase, Int, Int) -> Void)?

    func evaluate(_ objective: Objective, batch: any TrainingBatch, gradientWeight: Double?) throws -> ObjectiveMetrics {
        phaseObserver?(.forward, 1, 1)
        usleep(150_000)
        if gradientWeight != nil {
            phaseObserver?(.backward, 1, 1)
            usleep(150_000)
        }
        return try inner.evaluate(objective, batch: batch, gradientWeight: gradientWeight)
    }

    func applyUpdate() throws -> UpdateOutcome { try inner.applyUpdate() }
    func discardGradients() { inner.discardGradients() }
    func evaluateHeldOut(_ objective: Objective) throws -> ObjectiveMetrics { try inner.evaluateHeldOut(objective) }
    var learningRate: Double { inner.learningRate }
    func saveState(to directory: URL) throws { try inner.saveState(to: directory) }
    func loadState(from directory: URL) throws { try inner.loadState(from: directory) }
}

final class SampleEventTests: XCTestCase {
    private func samples(_ events: [RunEvent]) -> [SampleEvent] {
        events.compactMap { if case .sample(let s) = $0 { return s } else { return nil } }
    }

    func test_samples_atTheStartAndEveryNSteps_roundTripThroughTheRunLog() throws {
        let dir = RunDirectory(try TestPaths.temporaryDirectory("xright-samples"))
        defer { try? FileManager.default.removeItem(at: dir.url) }
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 5), runDirectory: dir)
        try run.session.enableSamples(ProbeSchedule(prompts: ["Name a colour.", "Say hi."], every: 2, maxNewTokens: 8),
                                      generator: CountingGenerator())
        try run.run()

        let seen = samples(run.events)
        XCTAssertEqual(seen.map(\.step), [0, 0, 2, 2, 4, 4], "the starting weights, then after every 2nd step")
        XCTAssertEqual(seen.map(\.probe), [0, 1, 0, 1, 0, 1])
        XCTAssertEqual(seen[2].prompt, "Name a colour.")
        XCTAssertEqual(seen[2].reply, "reply 2 to Name a colour.")
        XCTAssertEqual(seen[2].tokens, 3)
        XCTAssertEqual(seen[2].reason, .schedule)
        XCTAssertTrue(seen.allSatisfy { $0.seconds >= 0 })

        let log = try RunLogReader.read(dir.log)
        XCTAssertEqual(log.header.schema, "1.3")
        XCTAssertEqual(samples(log.records.map(\.event)), seen, "every sample is in run.jsonl, exactly as observed")
        XCTAssertEqual(log.skippedUnknown, 0)
        XCTAssertEqual(log.corruptLines, [])
        // Samples sit between steps: the step-2 samples come right after step 2's event.
        let types = log.records.map(\.event.type)
        let afterStep2 = types.indices.first { i in if case .step(let s) = log.records[i].event { return s.step == 2 }; return false }!
        XCTAssertEqual(Array(types[(afterStep2 + 1)...(afterStep2 + 2)]), ["sample", "sample"])
    }

    func test_aReaderSkipsEventTypesItDoesNotKnow_asA11ReaderSkipsSamples() throws {
        // A 1.1 reader knows no `sample`: to it a sample line is what this line is to this reader.
        let header = #"{"config":{"checkpointOnFinish":true,"lambda":0.5,"maxConsecutiveNonFinite":3,"maxEpochs":1,"seed":0,"strategy":"alright"},"createdAt":"2026-12-01T00:00:00Z","dataFingerprints":{},"modelFingerprint":"m","programVersion":"0","schema":"1.3","seed":0,"settings":{},"type":"header"}"#
        let lines = [
            header,
            #"{"lambda":0.5,"step":0,"strategy":"alright","time":0,"type":"started"}"#,
            #"{"probe":0,"prompt":"Hi","reason":"schedule","reply":"Hello","seconds":0.1,"step":0,"time":0.1,"tokens":1,"type":"sample"}"#,
            #"{"probe":0,"prompt":"Hi","reply":"Hello","step":0,"time":0.2,"type":"sample-with-images"}"#,
            #"{"message":"m","reason":"stopped","step":0,"time":0.3,"type":"finished"}"#,
        ]
        let log = try RunLogReader.parse(Data((lines.joined(separator: "\n") + "\n").utf8), file: "run.jsonl")
        XCTAssertEqual(log.records.map(\.event.type), ["started", "sample", "finished"])
        XCTAssertEqual(log.skippedUnknown, 1)
        XCTAssertEqual(log.corruptLines, [])
    }

    func test_sampleNow_isAppliedBetweenSteps_andRefusedWhenTheRunHasNoProbes() throws {
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 4))
        try run.session.enableSamples(ProbeSchedule(prompts: ["Q"], every: 100), generator: CountingGenerator())
        run.session.subscribe { [session = run.session] record in
            if case .step(let s) = record.event, s.step == 3 { session.send(.sampleNow) }
        }
        try run.run()
        let seen = samples(run.events)
        XCTAssertEqual(seen.map(\.step), [0, 3])
        XCTAssertEqual(seen.map(\.reason), [.schedule, .command])
        let types = run.events.map(\.type)
        let i = types.firstIndex(of: "command-applied")!
        XCTAssertEqual(types[i + 1], "sample", "the command's samples follow its command-applied")

        let bare = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 1))
        bare.session.send(.sampleNow)
        try bare.run()
        guard case .commandRefused(let refusal)? = bare.events.first(where: { $0.type == "command-refused" }) else {
            return XCTFail("sample-now without probes is refused")
        }
        XCTAssertTrue(refusal.reason.contains("samples no replies"), refusal.reason)
    }

    func test_aFailingGenerator_isAWarning_andTheRunGoesOn() throws {
        let generator = CountingGenerator()
        generator.failOnRound = 2
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 4))
        try run.session.enableSamples(ProbeSchedule(prompts: ["Q"], every: 2), generator: generator)
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .maxSteps)
        XCTAssertEqual(samples(run.events).map(\.step), [0, 4], "round 2 (step 2) failed, round 3 ran")
        XCTAssertEqual(run.warnings.map(\.kind), [.evaluationFailed])
        XCTAssertTrue(run.warnings[0].message.contains("decoder exploded"), run.warnings[0].message)
    }

    func test_enableSamples_afterTheStart_isRefused() throws {
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 1))
        try run.run()
        XCTAssertThrowsError(try run.session.enableSamples(ProbeSchedule(prompts: ["Q"]), generator: CountingGenerator())) {
            XCTAssertEqual($0 as? SessionError, .alreadyStarted)
        }
    }

    func test_progressInsideASlowStep_reachesObservers_butNeverTheLog() throws {
        let dir = RunDirectory(try TestPaths.temporaryDirectory("xright-progress"))
        defer { try? FileManager.default.removeItem(at: dir.url) }
        let backend = SlowBackend()
        let sources = ObjectiveSources(sft: QuadraticSource(center: backend.inner.a, count: 10, seed: 1),
                                       dpo: QuadraticSource(center: backend.inner.b, count: 10, seed: 2))
        let session = try TrainingSession(config: TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 2),
                                          backend: backend, sources: sources, runDirectory: dir)
        let lock = NSLock()
        var progress: [StepProgress] = []
        session.subscribe { record in
            if case .progress(let p) = record.event { lock.lock(); progress.append(p); lock.unlock() }
        }
        try session.run()

        lock.lock()
        defer { lock.unlock() }
        let inStep2 = progress.filter { $0.activity == .training && $0.step == 1 }
        // Step 1 was slow, so every phase change of step 2 is told: mix computes SFT, then DPO, then updates.
        XCTAssertEqual(inStep2.map(\.phase), [.forward, .forward, .backward, .forward, .forward, .backward, .optimizer])
        XCTAssertEqual(inStep2.map(\.objective), [.sft, .sft, .sft, .dpo, .dpo, .dpo, .dpo])
        XCTAssertEqual(inStep2.map(\.part), [1, 1, 1, 1, 1, 1, 2], "the micro-batch; the optimizer: the backend call")
        XCTAssertEqual(inStep2.map(\.parts), [1, 1, 1, 1, 1, 1, nil], "one micro-batch per objective without --grad-accum")
        XCTAssertEqual(inStep2.map(\.seconds), inStep2.map(\.seconds).sorted(), "seconds since the step began grow")
        XCTAssertEqual(inStep2[1].summary, "step 2: sft forward (micro-batch 1 of 1)")
        XCTAssertEqual(inStep2[6].summary, "step 2: optimizer update")

        let log = try RunLogReader.read(dir.log)
        XCTAssertFalse(log.records.contains { $0.event.type == "progress" }, "progress is never written to run.jsonl")
        XCTAssertEqual(log.records.filter { $0.event.type == "step" }.count, 2)
    }

    func test_progressRecord_roundTripsAsJSON() throws {
        let record = RunRecord(time: 4.5, event: .progress(StepProgress(step: 12, activity: .evaluating, phase: .forward,
                                                                         objective: .dpo, part: 3, parts: 7, seconds: 2.5)))
        let data = try RunLogCoding.makeEncoder().encode(record)
        XCTAssertEqual(try RunLogCoding.makeDecoder().decode(RunRecord.self, from: data), record)
        if case .progress(let p) = record.event { XCTAssertEqual(p.summary, "evaluating after step 12: dpo forward (3/7)") }
    }

    func test_defaultProbes_alternateHeldOutSFTAndPreferencePrompts_distinctAndNonEmpty() {
        XCTAssertEqual(ProbeSetup.defaultPrompts(heldOutSFT: ["a", "b", "c"], heldOutPreference: ["x", "y"]), ["a", "x", "b"])
        XCTAssertEqual(ProbeSetup.defaultPrompts(heldOutSFT: ["a", " a ", "", "b"], heldOutPreference: []), ["a", "b"])
        XCTAssertEqual(ProbeSetup.defaultPrompts(heldOutSFT: [], heldOutPreference: ["p"], count: 3), ["p"])
        XCTAssertEqual(ProbeSetup.defaultPrompts(heldOutSFT: [], heldOutPreference: []), [])
    }

    func test_engineRun_samplesTheHeldOutPromptsWithTheCurrentWeights() throws {
        EngineThreads.configure(1)
        let dir = RunDirectory(try TestPaths.temporaryDirectory("xright-engine-samples").appendingPathComponent("run"))
        defer { try? FileManager.default.removeItem(at: dir.url.deletingLastPathComponent()) }
        var options = RunOptions(modelPreset: "tiny", demoExamples: 60, evalFraction: 0.2, batchSize: 4, learningRate: 0.05,
                                 training: TrainingConfig(strategy: .mix, lambda: try Lambda(0.5), seed: 1, maxSteps: 4))
        options.samples = ProbeSchedule(prompts: [], every: 4, maxNewTokens: 6)
        let prepared = try RunSetup.prepare(options, runDirectory: dir, programVersion: "test")
        XCTAssertTrue(prepared.dataSummary.contains { $0.hasPrefix("samples: 3 probe prompts, 6 tokens, every 4 steps") },
                      "\(prepared.dataSummary)")
        try prepared.session.run()
        let seen = samples(try RunLogReader.read(dir.log).records.map(\.event))
        XCTAssertEqual(seen.map(\.step), [0, 0, 0, 4, 4, 4])
        XCTAssertEqual(seen.map(\.probe), [0, 1, 2, 0, 1, 2])
        XCTAssertEqual(seen[0].prompt, seen[3].prompt)
        XCTAssertTrue(seen.allSatisfy { (0...6).contains($0.tokens) })
        XCTAssertNotEqual(seen.prefix(3).map(\.reply), seen.suffix(3).map(\.reply),
                          "four steps at lr 0.05 change what the model says")
    }
}
