#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Appends records to `run.jsonl`, one JSON object per line. Lines are buffered and flushed at least once a
/// second (a timer covers quiet periods), when the buffer grows large, and on `close()`, which also fsyncs.
/// Safe to call from any thread.
public final class RunLogWriter {
    public let url: URL
    private let fd: Int32
    private let encoder = RunLogCoding.makeEncoder()
    private let lock = NSLock()
    private var buffer = Data()
    private var closed = false
    private var timer: DispatchSourceTimer?
    /// The first write failure, kept until `close()` or the next write reports it.
    private var pendingError: Error?
    private static let flushThreshold = 64 * 1024

    /// Starts a new log with `header` as line 1. Fails when the file already exists (never mixes two runs).
    public convenience init(creating url: URL, header: RunHeader) throws {
        try self.init(url: url, flags: O_CREAT | O_EXCL)
        try append(RunRecord(time: 0, event: .header(header)))
        try flush()
    }

    /// Continues an existing log (a resumed run appends after its `started` event).
    public convenience init(appendingTo url: URL) throws {
        try self.init(url: url, flags: 0)
    }

    private init(url: URL, flags: Int32) throws {
        self.url = url
        let fd = open(url.path, O_WRONLY | O_APPEND | O_CLOEXEC | flags, 0o644)
        guard fd >= 0 else {
            throw FileSystemError(path: url.path, operation: flags & O_CREAT != 0 ? "create run log" : "open run log", code: errno)
        }
        self.fd = fd
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        timer.schedule(deadline: .now() + 1, repeating: 1, leeway: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.flushFromTimer() }
        timer.resume()
        self.timer = timer
    }

    deinit {
        try? close()
    }

    /// Buffers one record as a line.
    public func append(_ record: RunRecord) throws {
        var line = try encoder.encode(record)
        line.append(0x0A)
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw FileSystemError(path: url.path, operation: "append to closed run log", code: EBADF) }
        if let error = pendingError { pendingError = nil; throw error }
        buffer.append(line)
        if buffer.count >= Self.flushThreshold { try flushLocked() }
    }

    /// Writes buffered lines to the file (not fsynced: the OS has them; `close()` syncs).
    public func flush() throws {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        try flushLocked()
    }

    /// Flushes, fsyncs and closes. Further appends fail.
    public func close() throws {
        timer?.cancel()
        timer = nil
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        defer { _ = systemClose(fd) }
        try flushLocked()
        if let error = pendingError { pendingError = nil; throw error }
        guard fsync(fd) == 0 else { throw FileSystemError(path: url.path, operation: "fsync", code: errno) }
    }

    private func flushLocked() throws {
        guard !buffer.isEmpty else { return }
        let pending = buffer
        // Dropped even when the write fails part-way: retrying could duplicate the lines that did land.
        buffer.removeAll(keepingCapacity: true)
        try DurableFile.writeAll(fd, pending, path: url.path)
    }

    /// Nobody waits on the timer, so its failure is kept for the next caller.
    private func flushFromTimer() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        do { try flushLocked() } catch { pendingError = pendingError ?? error }
    }
}
