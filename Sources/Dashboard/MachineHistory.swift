import Training

/// The run's machine over time, folded from its `telemetry` events: one point per sample, for the System panel's
/// curves. Bounded (the oldest points go first), so a replay of a day-long run folds in constant memory.
public struct MachineHistory: Equatable, Sendable {
    /// 20 minutes at the trainer's default of one sample every 2 s.
    public static let capacity = 600

    /// One sample, summed over the GPUs: the panel draws the machine, the device rows break it down.
    public struct Point: Equatable, Sendable {
        public var time: Double
        /// Mean over the GPUs that report it, in percent.
        public var gpuUtilization: Double?
        public var gpuMemoryUsedBytes: Double?
        public var gpuMemoryTotalBytes: Double?
        public var cpuPercent: Double?
        public var residentBytes: Double?

        public init(time: Double, _ event: TelemetryEvent) {
            self.time = time
            let utilizations = event.gpus.compactMap(\.utilization)
            gpuUtilization = utilizations.isEmpty ? nil : utilizations.reduce(0, +) / Double(utilizations.count)
            let used = event.gpus.compactMap(\.memoryUsedBytes), total = event.gpus.compactMap(\.memoryTotalBytes)
            gpuMemoryUsedBytes = used.isEmpty ? nil : Double(used.reduce(0, +))
            gpuMemoryTotalBytes = total.isEmpty ? nil : Double(total.reduce(0, +))
            cpuPercent = event.process?.cpuPercent
            residentBytes = event.process?.residentBytes.map(Double.init)
        }
    }

    public private(set) var points: [Point] = []

    public init() {}

    mutating func append(_ event: TelemetryEvent, time: Double) {
        points.append(Point(time: time, event))
        // Drop a quarter at a time: amortised O(1) per sample.
        if points.count > Self.capacity { points.removeFirst(points.count - Self.capacity * 3 / 4) }
    }

    /// A resumed session re-runs from its checkpoint's time: what was sampled after it no longer stands.
    mutating func truncate(after time: Double) {
        if let last = points.last, last.time > time { points.removeAll { $0.time > time } }
    }
}
