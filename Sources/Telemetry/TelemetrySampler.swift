import Foundation

/// What the sampler should poll.
public struct TelemetryOptions: Sendable {
    /// `--no-gpu`: neither NVML nor nvidia-smi is touched.
    public var pollGPU: Bool
    public var interval: TimeInterval
    /// Where to look for nvidia-smi (the process's PATH by default).
    public var searchPath: String?

    public init(pollGPU: Bool = true, interval: TimeInterval = 1, searchPath: String? = ProcessInfo.processInfo.environment["PATH"]) {
        self.pollGPU = pollGPU
        self.interval = interval
        self.searchPath = searchPath
    }
}

/// Takes one `SystemSample` at a time: NVML, else nvidia-smi, else "no GPU"; plus this process's CPU and RSS.
/// Not thread-safe: one sampler per polling thread.
public final class SystemProbe {
    private let options: TelemetryOptions
    private var nvml: NVMLReader?
    private var smiPath: String?
    private var gpuSource: GPUSource
    private var cpu = CPUUsageMeter()
    private var smiFailureReported = false

    public init(options: TelemetryOptions) {
        self.options = options
        if !options.pollGPU {
            gpuSource = .none(reason: "GPU polling off (--no-gpu)")
        } else if let reader = NVMLReader() {
            nvml = reader
            gpuSource = .nvml
        } else if let path = NvidiaSMI.locate(path: options.searchPath) {
            smiPath = path
            gpuSource = .nvidiaSMI(path: path)
        } else {
            gpuSource = .none(reason: "no NVIDIA driver (libnvidia-ml.so.1) and no nvidia-smi on PATH")
        }
    }

    public func sample() -> SystemSample {
        var warnings: [String] = []
        var gpus: [GPUReading] = []
        if let nvml {
            gpus = nvml.read()
            for name in nvml.takeDroppedFunctions() { warnings.append("NVML \(name) failed; its reading is left out") }
        } else if let smiPath {
            do {
                gpus = try NvidiaSMI.query(executable: smiPath)
            } catch {
                // A tool that fails once is not asked again: each try costs a process spawn.
                self.smiPath = nil
                gpuSource = .none(reason: "nvidia-smi failed")
                warnings.append("GPU readings off: \(error)")
            }
        }
        let ticks = ProcessStats.readCPUTimes()?.ticks
        let percent = ticks.flatMap {
            cpu.sample(ticks: $0, wallNanoseconds: DispatchTime.now().uptimeNanoseconds, ticksPerSecond: ProcessStats.ticksPerSecond)
        }
        return SystemSample(gpus: gpus, gpuSource: gpuSource, processCPUPercent: percent,
                            residentBytes: ProcessStats.readResidentBytes(), warnings: warnings)
    }
}

/// Samples at a fixed interval on its own thread; the UI reads the newest sample without waiting, and
/// `onSample` (when given) gets each one on the sampler's thread (the trainer emits it as an event).
public final class TelemetrySampler {
    private let options: TelemetryOptions
    private let onSample: ((SystemSample) -> Void)?
    private let lock = NSLock()
    private var latest: SystemSample?
    private var generation = 0
    private var pendingWarnings: [String] = []
    private var stopped = false
    private let wake = NSCondition()

    public init(options: TelemetryOptions, onSample: ((SystemSample) -> Void)? = nil) {
        self.options = options
        self.onSample = onSample
    }

    public func start() {
        let thread = Thread { [self] in
            let probe = SystemProbe(options: options)
            while true {
                let sample = probe.sample()
                lock.lock()
                latest = sample
                generation += 1
                pendingWarnings.append(contentsOf: sample.warnings)
                lock.unlock()
                onSample?(sample)
                wake.lock()
                if !stopped { _ = wake.wait(until: Date(timeIntervalSinceNow: options.interval)) }
                let done = stopped
                wake.unlock()
                if done { return }
            }
        }
        thread.name = "xright.telemetry"
        thread.start()
    }

    public func stop() {
        wake.lock()
        stopped = true
        wake.signal()
        wake.unlock()
    }

    /// The newest sample and a counter that changes with each new one (to redraw only when it moved).
    public func snapshot() -> (sample: SystemSample?, generation: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (latest, generation)
    }

    /// Warnings not yet shown.
    public func takeWarnings() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        defer { pendingWarnings.removeAll() }
        return pendingWarnings
    }
}
