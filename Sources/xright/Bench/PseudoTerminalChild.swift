#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A child `xright` on a pseudo-terminal of a given size, every byte it writes counted with its arrival time:
/// what the benchmarks use to see the dashboard as a terminal would.
final class PseudoTerminalChild {
    let pid: pid_t
    /// Monotonic seconds when the child was spawned.
    let spawnedAt: Double
    private let master: Int32
    private let lock = NSLock()
    private var chunks: [(time: Double, bytes: Int)] = []
    private var reaped = false

    init(arguments: [String], rows: UInt16, columns: UInt16) throws {
        var master: Int32 = 0, slave: Int32 = 0
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw BenchError("openpty failed: errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 { posix_spawn_file_actions_adddup2(&actions, slave, fd) }
        posix_spawn_file_actions_addclose(&actions, master)
        let executable = Bundle.main.executablePath ?? CommandLine.arguments[0]
        var environment = ProcessInfo.processInfo.environment
        environment["TERM"] = "xterm-256color"
        environment.removeValue(forKey: "NO_COLOR")
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        spawnedAt = Self.now()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        close(slave)
        guard spawned == 0 else {
            close(master)
            throw BenchError("cannot start \(executable): errno \(spawned)")
        }
        self.pid = pid
        self.master = master
        let masterFD = master
        let reader = Thread { [weak self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(masterFD, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                guard let self else { break }
                self.lock.lock()
                self.chunks.append((Self.now(), n))
                self.lock.unlock()
            }
        }
        reader.start()
    }

    deinit {
        if !reaped { kill(pid, SIGKILL); var status: Int32 = 0; waitpid(pid, &status, 0) }
        close(master)
    }

    static func now() -> Double { MonotonicClock.seconds() }

    func send(_ text: String) { _ = text.withCString { write(master, $0, strlen($0)) } }

    /// Seconds from writing `keys` to the first bytes the child writes after them, nil when none come within
    /// `timeout`. The keys are sent once the screen has been quiet for `quiet` seconds (at most 3 s of waiting),
    /// so the bytes answer the keys rather than a frame already on its way.
    func answerLatency(to keys: String, quiet: Double, timeout: Double) -> Double? {
        let quietDeadline = Self.now() + 3
        while let last = lastTime, Self.now() - last < quiet, Self.now() < quietDeadline { usleep(10_000) }
        let sent = Self.now()
        send(keys)
        while firstArrival(after: sent) == nil && Self.now() < sent + timeout { usleep(1_000) }
        return firstArrival(after: sent).map { $0 - sent }
    }

    func bytes(from: Double, to: Double) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return chunks.filter { $0.time >= from && $0.time < to }.reduce(0) { $0 + $1.bytes }
    }

    var firstTime: Double? { lock.lock(); defer { lock.unlock() }; return chunks.first?.time }
    var lastTime: Double? { lock.lock(); defer { lock.unlock() }; return chunks.last?.time }

    func firstArrival(after time: Double) -> Double? {
        lock.lock()
        defer { lock.unlock() }
        return chunks.first { $0.time > time }?.time
    }

    /// Whether the child is still running (reaps it when it has exited).
    var isRunning: Bool {
        guard !reaped else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == 0 { return true }
        reaped = true
        return false
    }

    /// Waits up to `seconds` for the child to exit, then kills it.
    func waitForExit(seconds: Double) {
        let deadline = Self.now() + seconds
        while isRunning {
            if Self.now() > deadline {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                reaped = true
                return
            }
            usleep(50_000)
        }
    }

    /// A field of /proc/PID/status in kibibytes (VmHWM: peak resident set), nil when unreadable.
    func statusKiB(_ field: String) -> Int? { ProcessStatus.kibibytes(field, pid: pid) }
}

enum ProcessStatus {
    /// `field` (e.g. "VmHWM", "VmRSS") of /proc/PID/status in kibibytes; PID nil is this process.
    static func kibibytes(_ field: String, pid: pid_t? = nil) -> Int? {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
        }
        return nil
    }
}
