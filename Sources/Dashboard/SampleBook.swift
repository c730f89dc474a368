import Training

/// The probe prompts' replies as the run went: per probe, its first sample and its newest, so the panel can show
/// what the model says now beside what it said at the start. Folded from `sample` records (live or replayed: a
/// replay scrubbed to step k has folded exactly the samples at or before k).
public struct SampleBook: Equatable, Sendable {
    public struct Probe: Equatable, Sendable {
        public var prompt: String
        public var first: SampleEvent
        public var latest: SampleEvent
        /// Samples of this probe folded so far.
        public var count: Int
    }

    /// Indexed by `SampleEvent.probe`; a probe never sampled is nil.
    public private(set) var probes: [Probe?] = []

    public init() {}

    public var isEmpty: Bool { probes.allSatisfy { $0 == nil } }
    /// Step of the newest sample of any probe.
    public var latestStep: Int? { probes.compactMap { $0?.latest.step }.max() }

    public mutating func add(_ sample: SampleEvent) {
        guard sample.probe >= 0, sample.probe < 4096 else { return }
        if probes.count <= sample.probe { probes += Array(repeating: nil, count: sample.probe + 1 - probes.count) }
        if var probe = probes[sample.probe], probe.prompt == sample.prompt {
            probe.latest = sample
            probe.count += 1
            probes[sample.probe] = probe
        } else {
            // A new prompt in this slot (another run's probes after a switch) starts over.
            probes[sample.probe] = Probe(prompt: sample.prompt, first: sample, latest: sample, count: 1)
        }
    }

    /// A resume re-runs the steps after `step`: samples taken after it no longer stand. A probe whose newest
    /// sample is gone falls back to its first (or is forgotten when that is gone too).
    public mutating func truncate(after step: Int) {
        for i in probes.indices {
            guard let probe = probes[i], probe.latest.step > step else { continue }
            if probe.first.step <= step {
                probes[i] = Probe(prompt: probe.prompt, first: probe.first, latest: probe.first, count: 1)
            } else {
                probes[i] = nil
            }
        }
    }
}
