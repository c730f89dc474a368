import Foundation

/// GPU readings from the `nvidia-smi` tool, used when NVML cannot be loaded.
public enum NvidiaSMI {
    /// The query, in the column order `parse` expects.
    public static let arguments = [
        "--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw",
        "--format=csv,noheader,nounits",
    ]

    /// Parses `--format=csv,noheader,nounits` output: one GPU per line, 7 comma-separated fields. Fields the
    /// device does not report read "[N/A]" or "[Not Supported]" and become nil.
    public static func parse(_ output: String) throws -> [GPUReading] {
        var readings: [GPUReading] = []
        var lineNumber = 0
        for rawLine in output.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 7 else {
                throw TelemetryError.malformed(source: "nvidia-smi output", line: lineNumber, field: "columns",
                                               expected: "7 comma-separated fields (index, name, utilization, memory used, memory total, temperature, power)",
                                               found: "\(fields.count) fields in '\(line.prefix(60))'")
            }
            guard let index = Int(fields[0]) else {
                throw TelemetryError.malformed(source: "nvidia-smi output", line: lineNumber, field: "index",
                                               expected: "an integer", found: fields[0])
            }
            func number(_ i: Int, _ name: String) throws -> Double? {
                let text = fields[i]
                if text.hasPrefix("[") || text.isEmpty || text == "N/A" { return nil }
                guard let value = Double(text), value.isFinite else {
                    throw TelemetryError.malformed(source: "nvidia-smi output", line: lineNumber, field: name,
                                                   expected: "a number or [N/A]", found: text)
                }
                return value
            }
            readings.append(GPUReading(index: index, name: fields[1],
                                       utilizationPercent: try number(2, "utilization.gpu"),
                                       memoryUsedMiB: try number(3, "memory.used"),
                                       memoryTotalMiB: try number(4, "memory.total"),
                                       temperatureCelsius: try number(5, "temperature.gpu"),
                                       powerWatts: try number(6, "power.draw")))
        }
        if readings.isEmpty {
            throw TelemetryError.malformed(source: "nvidia-smi output", line: max(lineNumber, 1), field: "rows",
                                           expected: "one line per GPU", found: "no lines")
        }
        return readings
    }

    /// The first executable `nvidia-smi` on `PATH`.
    public static func locate(path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for directory in (path ?? "").split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/nvidia-smi"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs the tool (killed after `timeout` seconds) and parses what it printed.
    public static func query(executable: String, timeout: TimeInterval = 3) throws -> [GPUReading] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw TelemetryError.toolFailed(tool: executable, detail: "could not start: \(error.localizedDescription)")
        }
        // Read before waiting: a full pipe would otherwise block the child forever.
        let done = DispatchSemaphore(value: 0)
        let output = Captured(), errors = Captured()
        for (pipe, sink) in [(out, output), (err, errors)] {
            DispatchQueue.global(qos: .utility).async {
                sink.data = pipe.fileHandleForReading.readDataToEndOfFile()
                done.signal()
            }
        }
        let deadline = DispatchTime.now() + timeout
        if done.wait(timeout: deadline) == .timedOut || done.wait(timeout: deadline) == .timedOut {
            process.terminate()
            throw TelemetryError.toolFailed(tool: executable, detail: "no answer within \(Int(timeout)) s")
        }
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let message = String(decoding: errors.data.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw TelemetryError.toolFailed(tool: executable, detail: "exit status \(process.terminationStatus)"
                                            + (message.isEmpty ? "" : ": \(message)"))
        }
        return try parse(String(decoding: output.data, as: UTF8.self))
    }
}

/// One pipe's bytes, filled by its reader thread before the semaphore is signalled.
private final class Captured: @unchecked Sendable {
    var data = Data()
}
