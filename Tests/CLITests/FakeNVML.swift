import Foundation

/// A stand-in for nvidia-ml-py written into a directory put first on PYTHONPATH, so the bridge samples "GPUs" on a
/// machine without one. Two devices: a full set of readings (its name as bytes, as older pynvml returns it) and
/// one whose board does not report power (the call raises, as NVML_ERROR_NOT_SUPPORTED does).
enum FakeNVML {
    struct Device {
        var name: String
        var utilization: Double
        var memoryUsedBytes: Int
        var memoryTotalBytes: Int
        var temperatureC: Double
        var powerWatts: Double?
    }

    static let devices = [
        Device(name: "Fake Tesla T4", utilization: 37, memoryUsedBytes: 3 << 30, memoryTotalBytes: 16 << 30,
               temperatureC: 55, powerWatts: 70.25),
        Device(name: "Fake A10G", utilization: 81, memoryUsedBytes: 20 << 30, memoryTotalBytes: 24 << 30,
               temperatureC: 61, powerWatts: nil),
    ]

    /// Writes `pynvml.py` into `directory/fake-nvml` and returns that directory.
    static func write(in directory: URL) throws -> URL {
        let root = directory.appendingPathComponent("fake-nvml")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let table = devices.enumerated().map { i, d in
            let name = i == 0 ? "b\"\(d.name)\"" : "\"\(d.name)\""
            let power = d.powerWatts.map { String(Int($0 * 1000)) } ?? "None"
            return "    {\"name\": \(name), \"util\": \(Int(d.utilization)), \"used\": \(d.memoryUsedBytes), "
                + "\"total\": \(d.memoryTotalBytes), \"temp\": \(Int(d.temperatureC)), \"milliwatts\": \(power)},"
        }.joined(separator: "\n")
        let module = """
            \"\"\"Test stand-in for nvidia-ml-py: fixed devices, no driver.\"\"\"
            import types

            NVML_TEMPERATURE_GPU = 0
            _DEVICES = [
            \(table)
            ]

            def nvmlInit():
                pass

            def nvmlDeviceGetCount():
                return len(_DEVICES)

            def nvmlDeviceGetHandleByIndex(index):
                return _DEVICES[index]

            def nvmlDeviceGetName(handle):
                return handle["name"]

            def nvmlDeviceGetUtilizationRates(handle):
                return types.SimpleNamespace(gpu=handle["util"], memory=0)

            def nvmlDeviceGetMemoryInfo(handle):
                return types.SimpleNamespace(used=handle["used"], total=handle["total"], free=handle["total"] - handle["used"])

            def nvmlDeviceGetTemperature(handle, sensor):
                return handle["temp"]

            def nvmlDeviceGetPowerUsage(handle):
                if handle["milliwatts"] is None:
                    raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
                return handle["milliwatts"]

            """
        try module.write(to: root.appendingPathComponent("pynvml.py"), atomically: true, encoding: .utf8)
        return root
    }
}
