import Foundation

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

    /// Writes as much as the socket takes without blocking. False when the peer is gone (or its history unreadable).
    func flush(_ history: EncodedHistory, chunk: Int = 64 * 1024) -> Bool {
        while true {
            if !hasUnsentBytes {
                outgoing.removeAll(keepingCapacity: true)
                outgoingOffset = 0
                // A history line that cannot be read back from the spool ends this viewer, not the server.
                guard refill(history, chunk: chunk) else { return false }
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

    private func refill(_ history: EncodedHistory, chunk: Int) -> Bool {
        while !control.isEmpty && outgoing.count < chunk {
            let line = control.removeFirst()
            controlBytes -= line.count
            outgoing.append(contentsOf: line)
        }
        guard let next = cursor, outgoing.count < chunk else { return true }
        guard let after = history.copy(from: next, into: &outgoing, limit: chunk) else { return false }
        cursor = after
        return true
    }
}
