#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Training

/// What the server needs of a session: a run that takes commands (`RunEventSource`) and says where it is right
/// now. `TrainingSession` is one.
public protocol SessionControl: RunEventSource {
    var liveStatus: LiveStatus { get }
}

/// Where a session is right now (exact, unlike the events, which trail by the step in flight).
public struct LiveStatus: Equatable, Sendable {
    public var step: Int
    public var epoch: Int
    public var lambda: Double
    public var strategy: StrategyName
    public var paused: Bool
    public var finished: RunFinished?

    public init(step: Int, epoch: Int, lambda: Double, strategy: StrategyName, paused: Bool, finished: RunFinished?) {
        self.step = step
        self.epoch = epoch
        self.lambda = lambda
        self.strategy = strategy
        self.paused = paused
        self.finished = finished
    }
}

extension TrainingSession: SessionControl {
    public var liveStatus: LiveStatus {
        let s = status
        return LiveStatus(step: s.step, epoch: s.epoch, lambda: s.lambda.value, strategy: s.strategy.name,
                          paused: s.paused, finished: s.finished)
    }
}

/// Serves a live run over the Unix socket in its directory: events to any number of viewers (history first, then
/// live), commands and status to any client of the same user. Training never waits for it: `publish` only
/// appends to an inbox and wakes the server's own I/O thread, and a viewer that falls more than
/// `maxViewerLagBytes` behind is dropped rather than buffered for.
public final class RunServer {
    public struct Limits: Sendable {
        /// Longest client message; a longer one closes that connection.
        public var maxMessageBytes: Int
        /// How far (bytes of records published since it joined, plus queued replies) a client may fall behind.
        public var maxViewerLagBytes: Int
        /// On close, how long clients get to receive what is queued (e.g. the `finished` event).
        public var drainSeconds: Double
        /// Newest history kept in memory; older records are served from a spool file.
        public var historyMemoryBytes: Int

        public init(maxMessageBytes: Int = RemoteProtocol.defaultMaxMessageBytes, maxViewerLagBytes: Int = 8 << 20,
                    drainSeconds: Double = 1, historyMemoryBytes: Int = 16 << 20) {
            self.maxMessageBytes = maxMessageBytes
            self.maxViewerLagBytes = maxViewerLagBytes
            self.drainSeconds = drainSeconds
            self.historyMemoryBytes = historyMemoryBytes
        }
    }

    /// Counts for tests and `status`.
    public struct Statistics: Equatable, Sendable {
        public var connections = 0
        public var viewers = 0
        public var droppedSlowViewers = 0
        public var refusedPeers = 0
        public var closedForBadInput = 0
        public var commandsQueued = 0
        /// Records in the history, and the bytes of it held in memory (the rest is in the spool file).
        public var historyRecords = 0
        public var historyBytesInMemory = 0
    }

    public let runDirectory: RunDirectory
    public let limits: Limits
    /// Only this user may connect (the run's owner; a test may name another to see the refusal).
    public let allowedPeerUID: uid_t
    /// Server-side notices (a viewer dropped, a peer refused, a stale socket removed): the CLI prints them.
    public var onNotice: ((String) -> Void)?

    weak var control: SessionControl?
    private let inboxLock = NSLock()
    private var inbox: [RunRecord] = []
    private var stopRequested = false
    private var statistics = Statistics()
    var wakeRead: Int32 = -1
    private var wakeWrite: Int32 = -1
    var listener: Int32 = -1
    private var finishedThread = DispatchSemaphore(value: 0)
    private var running = false

    // Owned by the I/O thread.
    let history: EncodedHistory
    /// The run so far, folded from the records served.
    var progress = RunProgress(keepsStepHistory: false)
    var connections: [ServerConnection] = []
    var nextConnectionID = 0
    /// Commands queued with the session and not yet applied or refused, oldest first.
    var awaitingOutcome: [(connection: Int, id: Int?, command: SessionCommand)] = []
    let encoder = RunLogCoding.makeEncoder()
    let decoder = RunLogCoding.makeDecoder()

    public init(runDirectory: RunDirectory, control: SessionControl?, limits: Limits = Limits(),
                allowedPeerUID: uid_t = geteuid()) {
        self.runDirectory = runDirectory
        self.control = control
        self.limits = limits
        self.allowedPeerUID = allowedPeerUID
        history = EncodedHistory(memoryBytes: limits.historyMemoryBytes)
    }

    deinit { close() }

    public var stats: Statistics {
        inboxLock.lock()
        defer { inboxLock.unlock() }
        return statistics
    }

    func updateStats(_ change: (inout Statistics) -> Void) {
        inboxLock.lock()
        change(&statistics)
        inboxLock.unlock()
    }

    /// Makes the directory private (0700), replaces a stale socket, listens (0600), writes the pid file, and
    /// starts serving. The history begins with what `run.jsonl` holds already (a resumed run's earlier records).
    public func start() throws {
        precondition(!running, "RunServer.start called twice")
        try secureDirectory()
        try removeStaleSocket()
        preloadHistory()
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw RemoteError.system(path: "pipe", operation: "create wake pipe", code: errno) }
        wakeRead = pipeEnds[0]
        wakeWrite = pipeEnds[1]
        for fd in pipeEnds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            try UnixSocket.setNonBlocking(fd, path: "wake pipe")
        }
        listener = try UnixSocket.listen(at: runDirectory.controlSocket.path)
        try writePidFile()
        running = true
        let thread = Thread { [self] in
            serve()
            finishedThread.signal()
        }
        thread.name = "xright.remote"
        thread.start()
    }

    /// Called for every record (subscribe it to the session). Never blocks on clients.
    public func publish(_ record: RunRecord) {
        inboxLock.lock()
        let wasEmpty = inbox.isEmpty
        inbox.append(record)
        inboxLock.unlock()
        if wasEmpty { wake() }
    }

    /// Gives clients `drainSeconds` to receive what is queued, closes every connection, removes the socket and
    /// the pid file. Safe to call twice.
    public func close() {
        guard running else { return }
        running = false
        inboxLock.lock()
        stopRequested = true
        inboxLock.unlock()
        wake()
        finishedThread.wait()
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
        unlink(runDirectory.controlSocket.path)
        if (try? String(contentsOf: runDirectory.pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == String(getpid()) {
            unlink(runDirectory.pidFile.path)
        }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)  // a full pipe already means "wake up"
    }

    func takeInbox() -> (records: [RunRecord], stop: Bool) {
        inboxLock.lock()
        defer { inboxLock.unlock() }
        let taken = inbox
        inbox.removeAll(keepingCapacity: true)
        return (taken, stopRequested)
    }

    func notice(_ text: String) { onNotice?(text) }

    // MARK: - Start-up

    private func secureDirectory() throws {
        let path = runDirectory.url.path
        var info = stat()
        guard stat(path, &info) == 0 else { throw RemoteError.system(path: path, operation: "stat run directory", code: errno) }
        guard info.st_uid == geteuid() else {
            throw RemoteError.unsafeDirectory(path: path, detail: "belongs to uid \(info.st_uid), not to this user (uid \(geteuid())); refusing to serve it")
        }
        guard chmod(path, 0o700) == 0 else { throw RemoteError.system(path: path, operation: "chmod run directory 0700", code: errno) }
    }

    /// A socket file nobody listens on is what a crashed run leaves: remove it. One that answers belongs to a live
    /// process, which keeps it.
    private func removeStaleSocket() throws {
        let path = runDirectory.controlSocket.path
        switch RunProbe.probeSocket(path) {
        case .absent: return
        case .live: throw RemoteError.alreadyServed(socket: path)
        case .stale:
            guard unlink(path) == 0 || errno == ENOENT else { throw RemoteError.system(path: path, operation: "remove stale socket", code: errno) }
            notice("removed a stale socket left by an earlier process: \(path)")
        }
    }

    /// A resumed run's earlier records, streamed from its log into the history (never the whole log in memory).
    private func preloadHistory() {
        _ = try? RunLogReader.scan(runDirectory.log, header: { append(RunRecord(time: 0, event: .header($0))) },
                                   record: { append($0) })
    }

    private func writePidFile() throws {
        let path = runDirectory.pidFile.path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RemoteError.system(path: path, operation: "write pid file", code: errno) }
        defer { Glibc.close(fd) }
        let text = Array("\(getpid())\n".utf8)
        guard write(fd, text, text.count) == text.count else { throw RemoteError.system(path: path, operation: "write pid file", code: errno) }
    }

    /// Adds a record to the history (the header only once: a live session repeats the one `run.jsonl` holds).
    func append(_ record: RunRecord) {
        if case .header = record.event, history.count > 0 { return }
        progress.apply(record)
        guard let json = try? encoder.encode(record) else {
            notice("record \(record.event.type) could not be encoded; viewers will not see it")
            return
        }
        var line = Data("{\"type\":\"record\",\"seq\":\(history.count),\"record\":".utf8)
        line.append(json)
        line.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
        history.append(line)
        updateStats { [history] in
            $0.historyRecords = history.count
            $0.historyBytesInMemory = history.bytesInMemory
        }
    }
}

#if canImport(Darwin)
private enum Glibc { static let close = Darwin.close }
#endif
