#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Appends records to `run.jsonl`, one JSON object per line. Lines are buffered and flushed at least once a
/// second (a timer covers quiet periods), when the buffer grows large, and on `close()`, which also fsyncs.
/// `sync()` makes every line appended so far durable: the session calls it before a checkpoint counts, so after
/// a crash the log is never behind the checkpoint a resume starts from. Safe to call from any thread.
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
    /// Lines kept for a retry while writes fail (a full disk); beyond this they are dropped.
    private static let retainedOnFailure = 64 << 20
    /// Set once lines had to be dropped: the log can no longer become complete.
    private var linesLost: FileSystemError?

    /// Starts a new log with `header` as line 1. Fails when the file already exists (never mixes two runs).
    public convenience init(creating url: URL, header: RunHeader) throws {
        try self.init(url: url, flags: O_CREAT | O_EXCL)
        try append(RunRecord(time: 0, event: .header(header)))
        try flush()
    }

    /// Continues an existing log (a resumed run appends after its `started` event). A torn last line — the
    /// writer was killed mid-write — is cut off first, so the next record starts on a line of its own.
    public convenience init(appendingTo url: URL) throws {
        try self.init(url: url, flags: 0)
        try cutTornTail()
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

    /// Writes buffered lines and fsyncs the file: everything appended so far survives a crash.
    public func sync() throws {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        try flushLocked()
        if let error = pendingError { pendingError = nil; throw error }
        guard fsync(fd) == 0 else { throw FileSystemError(path: url.path, operation: "fsync", code: errno) }
        FaultPoint.logSynced.reached()
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
        if let lost = linesLost { throw lost }
        guard !buffer.isEmpty else { return }
        let end = lseek(fd, 0, SEEK_END)
        do {
            var written = 0
            if FaultPoint.logMidFlush.isArmed, buffer.count > 1 {
                written = buffer.count / 2
                try DurableFile.writeAll(fd, buffer.prefix(written), path: url.path)
                FaultPoint.logMidFlush.reached()
            }
            try DurableFile.writeAll(fd, buffer.dropFirst(written), path: url.path)
            buffer.removeAll(keepingCapacity: true)
        } catch {
            // A full disk: take back the part that landed and keep the lines for the next flush, so nothing is
            // duplicated and nothing is lost once there is room again. Past a bound the lines are dropped, and
            // from then on every flush fails: the log has a hole, and no checkpoint may claim otherwise.
            if end >= 0 { _ = ftruncate(fd, end) }
            if buffer.count > Self.retainedOnFailure {
                buffer.removeAll()
                linesLost = FileSystemError(path: url.path, operation: "write (lines were dropped after earlier failures)",
                                            code: (error as? FileSystemError)?.code ?? EIO)
            }
            throw error
        }
    }

    /// Truncates the file after its last newline when it does not end with one.
    private func cutTornTail() throws {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return }
        let reader = open(url.path, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { throw FileSystemError(path: url.path, operation: "open run log", code: errno) }
        defer { _ = systemClose(reader) }
        // Scan backwards in blocks for the last newline; a line is short, so this reads a block or two.
        var end = size
        var keep: off_t = 0
        var block = [UInt8](repeating: 0, count: 4096)
        var lastByteIsNewline = false
        var first = true
        scan: while end > 0 {
            let start = max(0, end - off_t(block.count))
            let count = Int(end - start)
            let n = block.withUnsafeMutableBytes { pread(reader, $0.baseAddress, count, start) }
            guard n == count else { throw FileSystemError(path: url.path, operation: "read run log", code: n < 0 ? errno : EIO) }
            if first { lastByteIsNewline = block[count - 1] == 0x0A; first = false }
            if lastByteIsNewline { return }
            for i in stride(from: count - 1, through: 0, by: -1) where block[i] == 0x0A {
                keep = start + off_t(i) + 1
                break scan
            }
            end = start
        }
        guard ftruncate(fd, keep) == 0 else { throw FileSystemError(path: url.path, operation: "cut the torn last line", code: errno) }
        guard fsync(fd) == 0 else { throw FileSystemError(path: url.path, operation: "fsync", code: errno) }
    }

    /// Nobody waits on the timer, so its failure is kept for the next caller.
    private func flushFromTimer() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        do { try flushLocked() } catch { pendingError = pendingError ?? error }
    }
}
