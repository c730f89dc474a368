#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Every record published so far, encoded once as protocol lines and shared by all viewers (a viewer is only a
/// cursor into it). A long run must not grow the training process by half a kilobyte a step, so only the newest
/// `memoryBytes` stay in memory; every line also goes to a spool file, created and unlinked at once (nothing is
/// left behind, whatever ends the process), from which a viewer catching up on old history is served. Memory is
/// then 8 bytes a record. When no spool file can be made, everything stays in memory, as before.
final class EncodedHistory {
    /// `ends[i]` = bytes in lines 0...i.
    private var ends: [Int] = []
    private let memoryBytes: Int
    private var spool: Int32 = -1
    /// Lines appended and not yet written to the spool.
    private var unspooled: [UInt8] = []
    /// The bytes of lines `recentStart..<count`.
    private var recent: [UInt8] = []
    private var recentStart = 0

    init(memoryBytes: Int, spoolDirectory: URL = FileManager.default.temporaryDirectory) {
        self.memoryBytes = max(1, memoryBytes)
        var template = Array(spoolDirectory.appendingPathComponent("xright-history-XXXXXX").path.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd >= 0 {
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            spool = fd
        }
    }

    deinit { if spool >= 0 { close(spool) } }

    var count: Int { ends.count }
    var totalBytes: Int { ends.last ?? 0 }
    /// Bytes of history held in memory (the newest lines, and lines not yet written to the spool).
    var bytesInMemory: Int { recent.count + unspooled.count }

    private func offset(of seq: Int) -> Int { seq > 0 ? ends[seq - 1] : 0 }

    /// Bytes of the lines from `seq` to the end.
    func bytes(from seq: Int) -> Int {
        guard seq < count else { return 0 }
        return totalBytes - offset(of: seq)
    }

    func append(_ line: Data) {
        ends.append(totalBytes + line.count)
        recent.append(contentsOf: line)
        guard spool >= 0 else { return }
        unspooled.append(contentsOf: line)
        if unspooled.count >= 1 << 20 { writeSpool() }
        // Let memory reach twice the budget, then drop the older half in one copy (amortised: one byte moved per
        // byte appended).
        if recent.count > 2 * memoryBytes, writeSpool() {
            var keepFrom = recentStart
            while keepFrom < count - 1, totalBytes - offset(of: keepFrom) > memoryBytes { keepFrom += 1 }
            recent.removeFirst(offset(of: keepFrom) - offset(of: recentStart))
            recentStart = keepFrom
        }
    }

    /// Writes pending lines to the spool; false (and memory is kept) when the disk refuses.
    @discardableResult
    private func writeSpool() -> Bool {
        var written = 0
        while written < unspooled.count {
            let n = unspooled.withUnsafeBytes { raw in write(spool, raw.baseAddress! + written, raw.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                unspooled.removeFirst(written)
                return false
            }
            written += n
        }
        unspooled.removeAll(keepingCapacity: true)
        return true
    }

    /// Appends whole lines from `seq` on to `out` until it holds at least `limit` bytes or the history ends; returns
    /// the next line to send, or nil when the spool cannot be read (that viewer is then closed).
    func copy(from seq: Int, into out: inout [UInt8], limit: Int) -> Int? {
        var next = seq
        if next < recentStart && next < count {
            var end = next
            let start = offset(of: next)
            while end < recentStart, end == next || ends[end - 1] - start < limit - out.count { end += 1 }
            let length = offset(of: end) - start
            let before = out.count
            out.append(contentsOf: repeatElement(0, count: length))
            var read = 0
            while read < length {
                let n = out.withUnsafeMutableBytes { raw in
                    pread(spool, raw.baseAddress! + before + read, length - read, off_t(start + read))
                }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { out.removeLast(length); return nil }
                read += n
            }
            next = end
        }
        while next < count && out.count < limit {
            let from = offset(of: next) - offset(of: recentStart), to = ends[next] - offset(of: recentStart)
            out.append(contentsOf: recent[from..<to])
            next += 1
        }
        return next
    }
}
