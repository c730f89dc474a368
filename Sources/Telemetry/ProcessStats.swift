#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// This process's CPU time and resident memory, from `/proc/self/stat` and `/proc/self/statm` (proc(5)).
public enum ProcessStats {
    public struct CPUTimes: Equatable, Sendable {
        /// utime + stime, in clock ticks.
        public var ticks: UInt64
    }

    /// Parses a `/proc/<pid>/stat` line. The command name (field 2) is in parentheses and may hold spaces or
    /// parentheses itself, so fields are counted from the LAST ')'; utime and stime are fields 14 and 15.
    public static func parseStat(_ line: String) throws -> CPUTimes {
        guard let close = line.lastIndex(of: ")") else {
            throw TelemetryError.malformed(source: "/proc/self/stat", line: 1, field: "comm",
                                           expected: "a command name in parentheses", found: String(line.prefix(40)))
        }
        let rest = line[line.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // rest[0] is field 3 (state); field n is rest[n - 3].
        guard rest.count > 12 else {
            throw TelemetryError.malformed(source: "/proc/self/stat", line: 1, field: "utime",
                                           expected: "at least 15 fields", found: "\(rest.count + 2) fields")
        }
        guard let utime = UInt64(rest[11]), let stime = UInt64(rest[12]) else {
            throw TelemetryError.malformed(source: "/proc/self/stat", line: 1, field: "utime/stime",
                                           expected: "two unsigned integers", found: "\(rest[11]) \(rest[12])")
        }
        return CPUTimes(ticks: utime + stime)
    }

    /// Parses `/proc/<pid>/statm` (sizes in pages): the second field is the resident set.
    public static func parseStatm(_ line: String, pageSize: UInt64) throws -> UInt64 {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, let pages = UInt64(fields[1].trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TelemetryError.malformed(source: "/proc/self/statm", line: 1, field: "resident",
                                           expected: "an unsigned integer in field 2", found: String(line.prefix(40)))
        }
        return pages * pageSize
    }

    public static func readCPUTimes() -> CPUTimes? {
        guard let text = readSmallFile("/proc/self/stat") else { return nil }
        return try? parseStat(text)
    }

    public static func readResidentBytes() -> UInt64? {
        guard let text = readSmallFile("/proc/self/statm") else { return nil }
        return try? parseStatm(text, pageSize: UInt64(sysconf(Int32(_SC_PAGESIZE))))
    }

    public static var ticksPerSecond: Double { Double(sysconf(Int32(_SC_CLK_TCK))) }

    /// /proc files report size 0, so read until EOF into a fixed buffer (these are under 1 KB).
    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var filled = 0
        while filled < buffer.count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n <= 0 { break }
            filled += n
        }
        return String(decoding: buffer[0..<filled], as: UTF8.self)
    }
}

/// CPU percent between two readings.
public struct CPUUsageMeter {
    private var last: (ticks: UInt64, wall: UInt64)?

    public init() {}

    /// Percent of one core used since the previous call (nil on the first call).
    public mutating func sample(ticks: UInt64, wallNanoseconds: UInt64, ticksPerSecond: Double) -> Double? {
        defer { last = (ticks, wallNanoseconds) }
        guard let last, wallNanoseconds > last.wall, ticks >= last.ticks else { return nil }
        let cpuSeconds = Double(ticks - last.ticks) / ticksPerSecond
        let wallSeconds = Double(wallNanoseconds - last.wall) / 1e9
        return 100 * cpuSeconds / wallSeconds
    }
}
