#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Training

/// A connection to a live run's socket (ctl, ls, attach). Calls block for at most their timeout. Messages that
/// arrive while waiting for a reply (records, notices) are kept for `next`.
public final class RemoteClient {
    public let runDirectory: RunDirectory
    public let socketPath: String
    private var fd: Int32
    private var framer = LineFramer(maxMessageBytes: 16 << 20)
    private var pending: [ServerMessage] = []
    private var nextRequestID = 0
    private let encoder = RunLogCoding.makeEncoder()
    private let decoder = RunLogCoding.makeDecoder()
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// Connects; a missing socket or one nobody listens on (a stale socket, removed here) means the run is not live.
    public init(runDirectory: RunDirectory) throws {
        self.runDirectory = runDirectory
        socketPath = runDirectory.controlSocket.path
        do {
            fd = try UnixSocket.connect(to: socketPath)
        } catch RemoteError.system(_, _, let code) where code == ENOENT {
            throw RemoteError.notLive(runDirectory: runDirectory.url.path, detail: "it has no socket")
        } catch RemoteError.system(_, _, let code) where code == ECONNREFUSED {
            RunProbe.removeStaleSocket(runDirectory)
            throw RemoteError.notLive(runDirectory: runDirectory.url.path,
                                      detail: "its socket was stale, left by a process that is gone; removed it")
        }
    }

    deinit { close() }

    /// For callers that multiplex the connection with other input (poll it for POLLIN, then call `next(timeout: 0)`).
    public var fileDescriptor: Int32 { fd }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    // MARK: - Requests

    public func send(_ request: ClientRequest) throws {
        guard fd >= 0 else { throw RemoteError.closed(socket: socketPath) }
        var line = try encoder.encode(request)
        line.append(0x0A)
        try line.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, UnixSocket.noSignal)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE || errno == ECONNRESET { throw RemoteError.closed(socket: socketPath) }
                    throw RemoteError.system(path: socketPath, operation: "send", code: errno)
                }
                offset += n
            }
        }
    }

    /// Subscribes to records from `since` (0: the whole history; nil: live only). Returns the welcome.
    public func subscribe(since: Int?, timeout: TimeInterval = 10) throws -> Welcome {
        try send(.hello(version: RemoteProtocol.version, since: since))
        let message = try waitFor(timeout: timeout, what: "welcome") { if case .welcome = $0 { return true }; return false }
        guard case .welcome(let welcome) = message else { fatalError("unreachable: matched welcome") }
        return welcome
    }

    public func status(timeout: TimeInterval = 10) throws -> RunStatusReport {
        let id = makeRequestID()
        try send(.status(id: id))
        let message = try waitFor(timeout: timeout, what: "status reply") {
            if case .status(id, _) = $0 { return true }; return false
        }
        guard case .status(_, let report) = message else { fatalError("unreachable: matched status") }
        return report
    }

    /// Sends a command and waits until the session applied or refused it (the reply says which, and why).
    public func command(_ command: SessionCommand, timeout: TimeInterval = 60) throws -> CommandReply {
        let id = makeRequestID()
        try send(.command(id: id, command))
        let message = try waitFor(timeout: timeout, what: "reply to \(command.name)") {
            if case .reply(let reply) = $0, reply.id == id { return true }; return false
        }
        guard case .reply(let reply) = message else { fatalError("unreachable: matched reply") }
        return reply
    }

    private func makeRequestID() -> Int {
        nextRequestID += 1
        return nextRequestID
    }

    // MARK: - Receiving

    /// The next message, waiting up to `timeout` seconds (nil: forever); nil when none came in time. Throws
    /// `closed` at the end of the stream and `refused` when the run sent an error.
    public func next(timeout: TimeInterval?) throws -> ServerMessage? {
        if !pending.isEmpty { return pending.removeFirst() }
        let deadline = timeout.map { Date(timeIntervalSinceNow: $0) }
        while pending.isEmpty {
            let wait = deadline.map { max(0, Int32(($0.timeIntervalSinceNow * 1000).rounded(.up))) } ?? -1
            guard try readAvailable(waitMilliseconds: wait) else { return nil }
        }
        return pending.removeFirst()
    }

    /// Reads until `matches` accepts a message, keeping the others for `next`.
    private func waitFor(timeout: TimeInterval, what: String,
                       _ matches: (ServerMessage) -> Bool) throws -> ServerMessage {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var scanned = 0
        while true {
            if let index = pending[scanned...].firstIndex(where: matches) { return pending.remove(at: index) }
            scanned = pending.count
            let wait = max(0, Int32((deadline.timeIntervalSinceNow * 1000).rounded(.up)))
            guard try readAvailable(waitMilliseconds: wait) else {
                throw RemoteError.timedOut(socket: socketPath, waitingFor: what, seconds: timeout)
            }
        }
    }

    /// Waits up to `waitMilliseconds` (−1: forever) for bytes and decodes every complete message. False on timeout.
    private func readAvailable(waitMilliseconds: Int32) throws -> Bool {
        guard fd >= 0 else { throw RemoteError.closed(socket: socketPath) }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, waitMilliseconds)
        if ready < 0 {
            if errno == EINTR { return true }
            throw RemoteError.system(path: socketPath, operation: "poll", code: errno)
        }
        if ready == 0 { return false }
        let count = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR || errno == EAGAIN { return true }
            if errno == ECONNRESET { close(); throw RemoteError.closed(socket: socketPath) }
            throw RemoteError.system(path: socketPath, operation: "read", code: errno)
        }
        if count == 0 {
            close()
            throw RemoteError.closed(socket: socketPath)
        }
        var refusal: String?
        do {
            try readBuffer.withUnsafeBytes { raw in
                try framer.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count])) { line in
                    let message: ServerMessage
                    do { message = try decoder.decode(ServerMessage.self, from: Data(line)) } catch {
                        throw RemoteError.badMessage(socket: socketPath, detail: "\(error)")
                    }
                    if case .error(let text) = message { refusal = refusal ?? text } else { pending.append(message) }
                }
            }
        } catch let failure as LineFramer.Failure {
            throw RemoteError.badMessage(socket: socketPath, detail: "\(failure)")
        }
        if let refusal { throw RemoteError.refused(socket: socketPath, reason: refusal) }
        return true
    }
}

#if canImport(Darwin)
private enum Glibc {
    static let close = Darwin.close
    static let send = Darwin.send
}
#endif
