import Foundation

/// Every record of the run, each encoded once as its wire line (`{"type":"record","seq":…}`) and shared by all
/// viewers: a viewer is only a cursor into it, so serving one costs no copy of the history.
struct EncodedHistory {
    private(set) var lines: [Data] = []
    /// `ends[i]` = bytes in lines[0...i].
    private var ends: [Int] = []

    var count: Int { lines.count }
    var totalBytes: Int { ends.last ?? 0 }

    mutating func append(_ line: Data) {
        lines.append(line)
        ends.append(totalBytes + line.count)
    }

    /// Bytes of the lines from `seq` to the end.
    func bytes(from seq: Int) -> Int {
        guard seq < count else { return 0 }
        return totalBytes - (seq > 0 ? ends[seq - 1] : 0)
    }
}

/// One client of the run socket, owned by the server's I/O thread.
final class ServerConnection {
    let id: Int
    let fd: Int32
    var framer: LineFramer
    /// Replies, status and notices, sent before further records.
    private(set) var control: [Data] = []
    private(set) var controlBytes = 0
    /// Bytes taken from `control` or the history and not yet accepted by the socket.
    private var outgoing: [UInt8] = []
    private var outgoingOffset = 0
    /// The next record to send; nil until the client says hello.
    var cursor: Int?
    /// History length when the client subscribed: how far behind it falls is measured from here, so replaying a
    /// long history never counts against it.
    var joinedAt = 0
    var closed = false
    var messagesRead = 0

    init(id: Int, fd: Int32, maxMessageBytes: Int) {
        self.id = id
        self.fd = fd
        framer = LineFramer(maxMessageBytes: maxMessageBytes)
    }

    var isViewer: Bool { cursor != nil }
    var hasUnsentBytes: Bool { outgoingOffset < outgoing.count }
    /// At a message boundary: a new message can be written without splitting another.
    var atLineBoundary: Bool { !hasUnsentBytes }

    func queue(_ line: Data) {
        control.append(line)
        controlBytes += line.count
    }

    /// Bytes this client has yet to receive of what was published after it joined, plus queued replies.
    func lag(in history: EncodedHistory) -> Int {
        let recordLag = cursor.map { history.bytes(from: max($0, joinedAt)) } ?? 0
        return recordLag + controlBytes + (outgoing.count - outgoingOffset)
    }

    func wantsToWrite(_ history: EncodedHistory) -> Bool {
        hasUnsentBytes || !control.isEmpty || (cursor.map { $0 < history.count } ?? false)
    }

    /// Writes as much as the socket takes without blocking. False when the peer is gone.
    func flush(_ history: EncodedHistory, chunk: Int = 64 * 1024) -> Bool {
        while true {
            if !hasUnsentBytes {
                outgoing.removeAll(keepingCapacity: true)
                outgoingOffset = 0
                refill(history, chunk: chunk)
                if outgoing.isEmpty { return true }
            }
            let sent = outgoing.withUnsafeBytes { raw in
                UnixSocket.sendSome(fd, UnsafeRawBufferPointer(rebasing: raw[outgoingOffset...]))
            }
            guard let sent else { return false }
            if sent == 0 { return true }
            outgoingOffset += sent
        }
    }

    private func refill(_ history: EncodedHistory, chunk: Int) {
        while !control.isEmpty && outgoing.count < chunk {
            let line = control.removeFirst()
            controlBytes -= line.count
            outgoing.append(contentsOf: line)
        }
        guard var next = cursor else { return }
        while next < history.count && outgoing.count < chunk {
            outgoing.append(contentsOf: history.lines[next])
            next += 1
        }
        cursor = next
    }
}
