import Foundation
import Telemetry

/// The trainer's own machine as `telemetry` events (docs/RUNLOG.md): this process's CPU and resident memory and
/// the GPUs (NVML, else `nvidia-smi`, else none with a note saying why), sampled on a thread of its own from the
/// run's `started` event to its `finished` one and emitted through the session like any other event, so the run
/// log, the dashboard, `xright attach` and a replay all see the machine training runs on.
///
/// Samples never wait for a step and a step never waits for a sample beyond the emit lock. At most one event per
/// `minimumInterval`, so a long run's log grows by a bounded amount per minute.
public final class RunTelemetry {
    /// Seconds between samples unless told otherwise (the bridge's `--telemetry-seconds` default is larger; a
    /// Swift run's dashboard draws these as curves, which want a finer grain).
    public static let defaultInterval: TimeInterval = 2
    /// The shortest period honoured: 60 events a minute at most.
    public static let minimumInterval: TimeInterval = 1

    private let sampler: TelemetrySampler
    private weak var session: TrainingSession?
    private let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
    private let pid = Int(ProcessInfo.processInfo.processIdentifier)
    private let lock = NSLock()
    private var running = false

    /// Subscribes to `session`; sampling starts when the session emits `started` and stops with `finished`.
    /// `options.interval` below `minimumInterval` is raised to it.
    public init(session: TrainingSession, options: TelemetryOptions) {
        var options = options
        options.interval = max(Self.minimumInterval, options.interval)
        self.session = session
        var emitter: ((SystemSample) -> Void)?
        sampler = TelemetrySampler(options: options) { emitter?($0) }
        emitter = { [weak self] sample in self?.emit(sample) }
        session.subscribe { [weak self] record in
            switch record.event {
            case .started: self?.begin()
            case .finished: self?.stop()
            default: break
            }
        }
    }

    deinit { sampler.stop() }

    private func begin() {
        lock.lock()
        defer { lock.unlock() }
        guard !running else { return }
        running = true
        sampler.start()
    }

    /// Stops sampling (the run finished, or the caller is done with it). Idempotent.
    public func stop() {
        sampler.stop()
    }

    /// The sampler's latest warning (nvidia-smi failed: it is not asked again), repeated in every later event so a
    /// viewer that attaches late, or a replay scrubbed to any time, still learns why there is no GPU.
    private var standingWarning: String?

    private func emit(_ sample: SystemSample) {
        var sample = sample
        if let warning = sample.warnings.last { standingWarning = warning }
        sample.warnings = standingWarning.map { [$0] } ?? []
        session?.post(telemetry: Self.event(from: sample, host: host, pid: pid))
    }

    /// One sample as the event the log stores: GPU memory in bytes (the readings come in MiB); without a GPU the
    /// `note` says why: the sampler's warning (a broken nvidia-smi) when it has one, else its reason. `step` is
    /// filled in by the session.
    public static func event(from sample: SystemSample, host: String, pid: Int) -> TelemetryEvent {
        let gpus = sample.gpus.map { gpu in
            TelemetryEvent.GPU(host: host, rank: 0, index: gpu.index, name: gpu.name, utilization: gpu.utilizationPercent,
                               memoryUsedBytes: gpu.memoryUsedMiB.map { Int(($0 * 1_048_576).rounded()) },
                               memoryTotalBytes: gpu.memoryTotalMiB.map { Int(($0 * 1_048_576).rounded()) },
                               temperatureC: gpu.temperatureCelsius, powerWatts: gpu.powerWatts)
        }
        var note: String?
        if gpus.isEmpty {
            if let warning = sample.warnings.last { note = warning }
            else if case .none(let reason) = sample.gpuSource { note = "no GPU: " + reason }
        }
        let process = TelemetryEvent.ProcessReading(host: host, pid: pid, cpuPercent: sample.processCPUPercent,
                                                    residentBytes: sample.residentBytes.map { Int(clamping: $0) })
        return TelemetryEvent(step: 0, gpus: gpus, note: note, process: process)
    }
}

extension TrainingSession {
    /// Emits a `telemetry` event from any thread (a sampler's): stamped with the run's time and the steps
    /// completed so far, logged and observed like the training thread's own events. Dropped once the run has
    /// finished (its log is closed).
    public func post(telemetry: TelemetryEvent) {
        var event = telemetry
        event.step = status.step
        deliver(.telemetry(event), step: event.step)
    }
}
