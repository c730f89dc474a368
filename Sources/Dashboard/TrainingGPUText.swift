import Foundation
import Training

/// Words for the run's own GPUs (a `telemetry` event), shared by the dashboard's panel and `xright attach --text`.
/// Readings the board did not report are left out rather than shown as zero.
public enum TrainingGPUText {
    /// "gpu-box r0 GPU1 NVIDIA A100-SXM4 97% 57.0/80.0G 64C 312W": where the device is first (host, rank, device
    /// index), then its name cut to `nameLimit` characters, then the readings.
    public static func device(_ gpu: TelemetryEvent.GPU, nameLimit: Int = 18) -> String {
        var parts = [location(gpu)]
        if let name = gpu.name, !name.isEmpty { parts.append(String(name.prefix(nameLimit))) }
        parts.append(readings(gpu))
        return parts.joined(separator: " ")
    }

    /// "gpu-box r0 GPU1": which machine, rank and device; a host name longer than `hostLimit` is cut ("…").
    public static func location(_ gpu: TelemetryEvent.GPU, hostLimit: Int = .max) -> String {
        let host = gpu.host.count > hostLimit ? gpu.host.prefix(max(1, hostLimit - 1)) + "…" : gpu.host
        return "\(host) r\(gpu.rank) GPU\(gpu.index)"
    }

    /// "97% 57.0/80.0G 64C 312W": utilization, memory used/total, temperature, power.
    public static func readings(_ gpu: TelemetryEvent.GPU) -> String {
        var parts: [String] = []
        if let u = gpu.utilization { parts.append(Format.fixed(u, 0) + "%") }
        if let used = gpu.memoryUsedBytes {
            parts.append(gibibytes(used) + (gpu.memoryTotalBytes.map { "/" + gibibytes($0) } ?? "") + "G")
        }
        if let t = gpu.temperatureC { parts.append(Format.fixed(t, 0) + "C") }
        if let p = gpu.powerWatts { parts.append(Format.fixed(p, 0) + "W") }
        return parts.isEmpty ? "no readings" : parts.joined(separator: " ")
    }

    /// One line for a whole sample: every device when there are few, else their count, hosts and mean use;
    /// the note when the run has no GPU to sample.
    public static func summary(_ event: TelemetryEvent, listUpTo limit: Int = 4) -> String {
        guard !event.gpus.isEmpty else { return "training GPUs: none (\(event.note ?? "the run reported no device"))" }
        if event.gpus.count <= limit {
            return "training GPUs at step \(event.step): " + event.gpus.map { device($0) }.joined(separator: " · ")
        }
        let hosts = Set(event.gpus.map(\.host)).count
        var text = "training GPUs at step \(event.step): \(event.gpus.count) on \(hosts) host\(hosts == 1 ? "" : "s")"
        if let mean = meanUtilization(event.gpus) { text += ", mean util " + Format.fixed(mean, 0) + "%" }
        let used = event.gpus.compactMap(\.memoryUsedBytes)
        if !used.isEmpty { text += ", memory " + gibibytes(used.reduce(0, +)) + "G in use" }
        return text
    }

    /// `summary` led by the trainer's process when the event has it: "run pid 4242 on gpu-box: CPU 180%, RSS
    /// 1.20 GiB · training GPUs: …".
    public static func machine(_ event: TelemetryEvent) -> String {
        guard let p = event.process else { return summary(event) }
        let cpu = p.cpuPercent.map { Format.fixed($0, 0) + "%" } ?? "--"
        let rss = p.residentBytes.map { Format.bytes(UInt64($0)) } ?? "--"
        return "run pid \(p.pid) on \(p.host): CPU \(cpu), RSS \(rss) · " + summary(event)
    }

    /// Mean utilization over the devices that report it.
    public static func meanUtilization(_ gpus: [TelemetryEvent.GPU]) -> Double? {
        let values = gpus.compactMap(\.utilization)
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// `text` broken at spaces into lines of at most `width` characters (a longer word is cut).
    public static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            let word = String(word.prefix(width))
            if line.isEmpty { line = word } else if line.count + 1 + word.count <= width { line += " " + word } else {
                lines.append(line)
                line = word
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    static func gibibytes(_ bytes: Int) -> String { Format.fixed(Double(bytes) / 1_073_741_824, 1) }
}
