/// One GPU's readings; a field is nil when the device or driver does not report it.
public struct GPUReading: Equatable, Sendable {
    public var index: Int
    public var name: String
    /// Percent of the last sample period the GPU was busy.
    public var utilizationPercent: Double?
    public var memoryUsedMiB: Double?
    public var memoryTotalMiB: Double?
    public var temperatureCelsius: Double?
    public var powerWatts: Double?

    public init(index: Int, name: String, utilizationPercent: Double? = nil, memoryUsedMiB: Double? = nil,
                memoryTotalMiB: Double? = nil, temperatureCelsius: Double? = nil, powerWatts: Double? = nil) {
        self.index = index
        self.name = name
        self.utilizationPercent = utilizationPercent
        self.memoryUsedMiB = memoryUsedMiB
        self.memoryTotalMiB = memoryTotalMiB
        self.temperatureCelsius = temperatureCelsius
        self.powerWatts = powerWatts
    }
}

/// Where GPU readings came from, or why there are none.
public enum GPUSource: Equatable, Sendable {
    case nvml
    case nvidiaSMI(path: String)
    /// No GPU to show; `reason` says why (no driver, polling turned off, the tool failed).
    case none(reason: String)

    public var label: String {
        switch self {
        case .nvml: return "NVML"
        case .nvidiaSMI: return "nvidia-smi"
        case .none: return "no GPU"
        }
    }
}

/// What the sampler measured at one moment.
public struct SystemSample: Equatable, Sendable {
    public var gpus: [GPUReading]
    public var gpuSource: GPUSource
    /// CPU time of this process over the last period, in percent of one core (200 = two cores busy).
    public var processCPUPercent: Double?
    /// Resident set size of this process.
    public var residentBytes: UInt64?
    /// Problems worth one line on the dashboard (a broken nvidia-smi, an NVML call dropped).
    public var warnings: [String]

    public init(gpus: [GPUReading], gpuSource: GPUSource, processCPUPercent: Double?, residentBytes: UInt64?,
                warnings: [String] = []) {
        self.gpus = gpus
        self.gpuSource = gpuSource
        self.processCPUPercent = processCPUPercent
        self.residentBytes = residentBytes
        self.warnings = warnings
    }
}
