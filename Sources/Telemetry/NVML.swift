#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// GPU readings through NVML, loaded at run time (`dlopen("libnvidia-ml.so.1")`), so the binary runs on machines
/// without an NVIDIA driver. Prefers the `_v2` entry points (`nvmlDeviceGetMemoryInfo_v2`: v1 misreports memory on
/// recent drivers). Each reading function is tried once; one that fails is dropped and its field stays nil.
public final class NVMLReader {
    private typealias Status = Int32 // nvmlReturn_t; 0 is NVML_SUCCESS
    private typealias Device = OpaquePointer?
    private typealias InitFn = @convention(c) () -> Status
    private typealias CountFn = @convention(c) (UnsafeMutablePointer<UInt32>) -> Status
    private typealias HandleFn = @convention(c) (UInt32, UnsafeMutablePointer<Device>) -> Status
    private typealias NameFn = @convention(c) (Device, UnsafeMutablePointer<CChar>, UInt32) -> Status
    private typealias UtilizationFn = @convention(c) (Device, UnsafeMutablePointer<UInt32>) -> Status
    private typealias MemoryFn = @convention(c) (Device, UnsafeMutableRawPointer) -> Status
    private typealias TemperatureFn = @convention(c) (Device, Int32, UnsafeMutablePointer<UInt32>) -> Status
    private typealias PowerFn = @convention(c) (Device, UnsafeMutablePointer<UInt32>) -> Status

    private let library: UnsafeMutableRawPointer
    private let shutdown: InitFn?
    private var devices: [(index: Int, handle: Device, name: String)] = []
    private var utilization: UtilizationFn?
    private var memoryV2: MemoryFn?
    private var memoryV1: MemoryFn?
    private var temperature: TemperatureFn?
    private var power: PowerFn?
    /// Functions already tried once: a failure after that is a passing one, not a reason to drop.
    private var proven: Set<String> = []
    /// Why functions were dropped, for the dashboard's warning line (taken once).
    public private(set) var droppedFunctions: [String] = []

    /// Loads NVML and lists the GPUs; nil when the library is absent, fails to initialise or finds no device.
    public init?(libraryName: String = "libnvidia-ml.so.1") {
        guard let handle = dlopen(libraryName, RTLD_NOW | RTLD_LOCAL) else { return nil }
        library = handle
        func symbol<T>(_ name: String, as _: T.Type) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
        }
        guard let initialise = symbol("nvmlInit_v2", as: InitFn.self) ?? symbol("nvmlInit", as: InitFn.self),
              initialise() == 0 else {
            dlclose(handle)
            return nil
        }
        shutdown = symbol("nvmlShutdown", as: InitFn.self)
        let count = symbol("nvmlDeviceGetCount_v2", as: CountFn.self) ?? symbol("nvmlDeviceGetCount", as: CountFn.self)
        let handleByIndex = symbol("nvmlDeviceGetHandleByIndex_v2", as: HandleFn.self)
            ?? symbol("nvmlDeviceGetHandleByIndex", as: HandleFn.self)
        let name = symbol("nvmlDeviceGetName", as: NameFn.self)
        var deviceCount: UInt32 = 0
        if let count, let handleByIndex, count(&deviceCount) == 0 {
            for i in 0..<deviceCount {
                var device: Device = nil
                guard handleByIndex(i, &device) == 0 else { continue }
                var buffer = [CChar](repeating: 0, count: 96)
                let label = name.flatMap { $0(device, &buffer, UInt32(buffer.count)) == 0 ? String(cString: buffer) : nil }
                devices.append((Int(i), device, label ?? "GPU \(i)"))
            }
        }
        guard !devices.isEmpty else {
            _ = shutdown?()
            dlclose(handle)
            return nil
        }
        utilization = symbol("nvmlDeviceGetUtilizationRates", as: UtilizationFn.self)
        memoryV2 = symbol("nvmlDeviceGetMemoryInfo_v2", as: MemoryFn.self)
        memoryV1 = memoryV2 == nil ? symbol("nvmlDeviceGetMemoryInfo", as: MemoryFn.self) : nil
        temperature = symbol("nvmlDeviceGetTemperature", as: TemperatureFn.self)
        power = symbol("nvmlDeviceGetPowerUsage", as: PowerFn.self)
    }

    deinit {
        _ = shutdown?()
        dlclose(library)
    }

    /// Calls `body`; the first failure of a never-successful function drops it.
    private func probe(_ name: String, _ body: () -> Status, drop: () -> Void) -> Bool {
        let ok = body() == 0
        if ok { proven.insert(name) } else if !proven.contains(name) {
            drop()
            droppedFunctions.append(name)
        }
        return ok
    }

    public func read() -> [GPUReading] {
        devices.map { device in
            var reading = GPUReading(index: device.index, name: device.name)
            if let fn = utilization {
                // nvmlUtilization_t { unsigned int gpu; unsigned int memory; }
                var rates: (UInt32, UInt32) = (0, 0)
                let ok = withUnsafeMutableBytes(of: &rates) { raw in
                    probe("nvmlDeviceGetUtilizationRates", { fn(device.handle, raw.baseAddress!.assumingMemoryBound(to: UInt32.self)) },
                          drop: { utilization = nil })
                }
                if ok { reading.utilizationPercent = Double(rates.0) }
            }
            if let fn = memoryV2 {
                // nvmlMemory_v2_t { unsigned int version; unsigned long long total, reserved, free, used; },
                // version = sizeof | 2 << 24 (NVML_STRUCT_VERSION(Memory, 2)).
                var memory = [UInt64](repeating: 0, count: 5)
                let ok = memory.withUnsafeMutableBytes { raw -> Bool in
                    raw.storeBytes(of: UInt32(40) | (2 << 24), as: UInt32.self)
                    return probe("nvmlDeviceGetMemoryInfo_v2", { fn(device.handle, raw.baseAddress!) },
                                 drop: { memoryV2 = nil })
                }
                if ok {
                    reading.memoryTotalMiB = Double(memory[1]) / 1_048_576
                    reading.memoryUsedMiB = Double(memory[4]) / 1_048_576
                }
            } else if let fn = memoryV1 {
                // nvmlMemory_t { unsigned long long total, free, used; }
                var memory = [UInt64](repeating: 0, count: 3)
                let ok = memory.withUnsafeMutableBytes { raw in
                    probe("nvmlDeviceGetMemoryInfo", { fn(device.handle, raw.baseAddress!) }, drop: { memoryV1 = nil })
                }
                if ok {
                    reading.memoryTotalMiB = Double(memory[0]) / 1_048_576
                    reading.memoryUsedMiB = Double(memory[2]) / 1_048_576
                }
            }
            if let fn = temperature {
                var celsius: UInt32 = 0
                // Sensor 0 is NVML_TEMPERATURE_GPU.
                if probe("nvmlDeviceGetTemperature", { fn(device.handle, 0, &celsius) }, drop: { temperature = nil }) {
                    reading.temperatureCelsius = Double(celsius)
                }
            }
            if let fn = power {
                var milliwatts: UInt32 = 0
                if probe("nvmlDeviceGetPowerUsage", { fn(device.handle, &milliwatts) }, drop: { power = nil }) {
                    reading.powerWatts = Double(milliwatts) / 1000
                }
            }
            return reading
        }
    }

    /// Names of functions dropped since the last call.
    public func takeDroppedFunctions() -> [String] {
        defer { droppedFunctions.removeAll() }
        return droppedFunctions
    }
}
