#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Training

/// The server's I/O thread: one poll() over the wake pipe, the listening socket and every client.
extension RunServer {
    func serve() {
        var drainDeadline: DispatchTime?
        var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let (records, stop) = takeInbox()
            for record in records { handlePublished(record) }
            dropSlowViewers()
            if stop && drainDeadline == nil {
                drainDeadline = .now() + limits.drainSeconds
                Glibc.close(listener)
                listener = -1
            }
            for connection in connections where !connection.closed {
                if !connection.flush(history) { close(connection) }
            }
            connections.removeAll { $0.closed }
            if let deadline = drainDeadline {
                let pending = connections.contains { $0.wantsToWrite(history) }
                if !pending || DispatchTime.now() >= deadline { break }
            }

            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if listener >= 0 { fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
            let first = fds.count
            for connection in connections {
                var events = Int16(POLLIN)
                if connection.wantsToWrite(history) { events |= Int16(POLLOUT) }
                fds.append(pollfd(fd: connection.fd, events: events, revents: 0))
            }
            let timeout: Int32 = drainDeadline == nil ? -1 : 50
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 && errno != EINTR { notice("poll failed: \(String(cString: strerror(errno))); the run socket stops serving"); break }
            if ready <= 0 { continue }
            if fds[0].revents != 0 { drainWakePipe() }
            if listener >= 0, fds[1].revents != 0 { acceptClients() }
            for (index, connection) in zip(fds.indices.dropFirst(first), connections) {
                let revents = fds[index].revents
                guard !connection.closed, revents != 0 else { continue }
                if revents & Int16(POLLIN) != 0 || revents & Int16(POLLHUP) != 0 {
                    readMessages(connection, buffer: &readBuffer)
                } else if revents & Int16(POLLERR | POLLNVAL) != 0 {
                    close(connection)
                }
            }
        }
        for connection in connections where !connection.closed { close(connection) }
        connections.removeAll()
        if listener >= 0 { Glibc.close(listener); listener = -1 }
    }

    private func drainWakePipe() {
        var scratch = [UInt8](repeating: 0, count: 256)
        while read(wakeRead, &scratch, scratch.count) > 0 {}
    }

    // MARK: - Clients

    private func acceptClients() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return  // EAGAIN: no more waiting; other errors: try again on the next wake-up
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            guard (try? UnixSocket.setNonBlocking(fd, path: runDirectory.controlSocket.path)) != nil else {
                Glibc.close(fd)
                continue
            }
            nextConnectionID += 1
            let connection = ServerConnection(id: nextConnectionID, fd: fd, maxMessageBytes: limits.maxMessageBytes)
            connections.append(connection)
            updateStats { $0.connections += 1 }
            let peer = UnixSocket.peerUID(fd)
            if peer != allowedPeerUID {
                let who = peer.map { "uid \($0)" } ?? "an unknown user"
                updateStats { $0.refusedPeers += 1 }
                notice("refused a connection from \(who): this run belongs to uid \(allowedPeerUID)")
                refuse(connection, "refused: connections from \(who) are not allowed; this run belongs to uid \(allowedPeerUID)")
            }
        }
    }

    private func readMessages(_ connection: ServerConnection, buffer: inout [UInt8]) {
        let count = buffer.withUnsafeMutableBytes { read(connection.fd, $0.baseAddress, $0.count) }
        if count == 0 { close(connection); return }
        if count < 0 {
            if errno != EAGAIN && errno != EINTR { close(connection) }
            return
        }
        do {
            try buffer.withUnsafeBytes { raw in
                try connection.framer.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count])) { message in
                    guard !connection.closed else { return }  // an earlier message was refused
                    connection.messagesRead += 1
                    handle(message, from: connection)
                }
            }
        } catch {
            updateStats { $0.closedForBadInput += 1 }
            refuse(connection, "message \(connection.messagesRead + 1) is longer than \(limits.maxMessageBytes) bytes "
                   + "without a newline; closing this connection")
        }
    }

    private func handle(_ message: [UInt8], from connection: ServerConnection) {
        let request: ClientRequest
        do {
            request = try decoder.decode(ClientRequest.self, from: Data(message))
        } catch {
            updateStats { $0.closedForBadInput += 1 }
            refuse(connection, "message \(connection.messagesRead): expected a JSON object with \"type\" hello, command "
                   + "or status; found \(Self.preview(message)) (\(Self.describe(error))); closing this connection")
            return
        }
        switch request {
        case let .hello(version, since):
            guard version == RemoteProtocol.version else {
                refuse(connection, "protocol version \(version) is not spoken here (this run speaks \(RemoteProtocol.version)); "
                       + "use the xright that started the run")
                return
            }
            if !connection.isViewer { updateStats { $0.viewers += 1 } }
            let start = since.map { min(max(0, $0), history.count) } ?? history.count
            connection.cursor = start
            connection.joinedAt = history.count
            send(.welcome(Welcome(version: RemoteProtocol.version, pid: getpid(), runDirectory: runDirectory.url.path,
                                  next: history.count)), to: connection)
        case let .command(id, command):
            guard let control else {
                send(.reply(CommandReply(id: id, ok: false, command: command.description, error: "this run takes no commands")), to: connection)
                return
            }
            if let finished = progress.finished {
                send(.reply(CommandReply(id: id, ok: false, command: command.description, step: finished.step,
                                         error: "the run has finished (\(finished.reason.rawValue))")), to: connection)
                return
            }
            awaitingOutcome.append((connection.id, id, command))
            updateStats { $0.commandsQueued += 1 }
            control.send(command)
        case .status(let id):
            send(.status(id: id, statusReport()), to: connection)
        }
    }

    /// The live state: the session's own status where it has one (exact step, λ, pause), losses from the events.
    func statusReport() -> RunStatusReport {
        var report = RunStatusReport(runDirectory: runDirectory.url.path,
                                     state: progress.finished != nil ? .finished : (progress.paused ? .paused : .running),
                                     progress: progress, pid: getpid(),
                                     viewers: connections.filter { $0.isViewer && !$0.closed }.count)
        if let status = control?.liveStatus {
            report.step = status.step
            report.epoch = status.epoch
            report.lambda = status.lambda
            report.strategy = status.strategy.rawValue
            if let finished = status.finished { report.finished = finished; report.state = .finished }
            else { report.state = status.paused ? .paused : .running }
        }
        return report
    }

    // MARK: - Records and command outcomes

    private func handlePublished(_ record: RunRecord) {
        if case .progress = record.event { return forwardProgress(record) }
        append(record)
        switch record.event {
        case .commandApplied(let applied):
            answer(applied.command, CommandReply(id: nil, ok: true, command: applied.command.description, step: applied.step))
        case .commandRefused(let refused):
            answer(refused.command, CommandReply(id: nil, ok: false, command: refused.command.description,
                                                 step: refused.step, error: refused.reason))
        case .finished(let finished):
            for waiting in awaitingOutcome {
                reply(to: waiting.connection, CommandReply(id: waiting.id, ok: false, command: waiting.command.description,
                    step: finished.step, error: "the run finished (\(finished.reason.rawValue)) before applying it"))
            }
            awaitingOutcome.removeAll()
        default:
            break
        }
    }

    /// In-step progress goes to live viewers only: never into the history (a viewer catching up, or joining later,
    /// has no use for where an old step was), and never queued behind another: a viewer with anything unsent
    /// skips it, so a slow viewer's backlog does not grow by it. A caught-up viewer gets it between the records
    /// it already has and the next ones, so the order stays the run's.
    private func forwardProgress(_ record: RunRecord) {
        var line: Data?
        for connection in connections where !connection.closed && connection.cursor == history.count
            && !connection.wantsToWrite(history) {
            if line == nil {
                guard var encoded = try? encoder.encode(ServerMessage.progress(record)) else { return }
                encoded.append(0x0A)
                line = encoded
            }
            connection.queue(line!)
        }
    }

    /// The session applies commands in the order queued, so the oldest waiting equal command is the one decided.
    private func answer(_ command: SessionCommand, _ outcome: CommandReply) {
        guard let index = awaitingOutcome.firstIndex(where: { $0.command == command }) else { return }
        let waiting = awaitingOutcome.remove(at: index)
        var reply = outcome
        reply.id = waiting.id
        self.reply(to: waiting.connection, reply)
    }

    private func reply(to connectionID: Int, _ reply: CommandReply) {
        guard let connection = connections.first(where: { $0.id == connectionID && !$0.closed }) else { return }
        send(.reply(reply), to: connection)
    }

    // MARK: - Output

    func send(_ message: ServerMessage, to connection: ServerConnection) {
        guard var line = try? encoder.encode(message) else { return }
        line.append(0x0A)
        connection.queue(line)
    }

    /// Sends a last error message (a short line: a fresh socket has room for it) and closes the connection; the
    /// client reads the message before it sees the end of the stream.
    private func refuse(_ connection: ServerConnection, _ message: String) {
        send(.error(message), to: connection)
        _ = connection.flush(history)
        close(connection)
    }

    /// A viewer that stopped reading would hold memory without bound; it is told why (if the socket has room for
    /// a line) and closed. Training is never held up by it.
    private func dropSlowViewers() {
        for connection in connections where !connection.closed {
            let lag = connection.lag(in: history)
            guard lag > limits.maxViewerLagBytes else { continue }
            let text = "dropped: this client fell \(lag) bytes behind the run (limit \(limits.maxViewerLagBytes)); attach again to catch up"
            if connection.atLineBoundary, var line = try? encoder.encode(ServerMessage.notice(text)) {
                line.append(0x0A)
                line.withUnsafeBytes { _ = UnixSocket.sendSome(connection.fd, $0) }
            }
            updateStats { $0.droppedSlowViewers += 1 }
            notice("viewer \(connection.id) \(text)")
            close(connection)
        }
    }

    func close(_ connection: ServerConnection) {
        guard !connection.closed else { return }
        connection.closed = true
        if connection.isViewer { updateStats { $0.viewers -= 1 } }
        updateStats { $0.connections -= 1 }
        shutdown(connection.fd, Int32(SHUT_RDWR))
        Glibc.close(connection.fd)
    }

    static func preview(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(40), as: UTF8.self)
            .map { $0.isASCII && !$0.isWhitespace || $0 == " " ? String($0) : "?" }.joined()
        return bytes.isEmpty ? "an empty line" : "'\(text)\(bytes.count > 40 ? "…" : "")'"
    }

    static func describe(_ error: Error) -> String {
        guard let decoding = error as? DecodingError else { return String(describing: error) }
        switch decoding {
        case let .keyNotFound(key, _): return "missing field \(key.stringValue)"
        case let .typeMismatch(type, ctx): return "field \(ctx.codingPath.map(\.stringValue).joined(separator: ".")): expected \(type)"
        case let .valueNotFound(type, ctx): return "field \(ctx.codingPath.map(\.stringValue).joined(separator: ".")): expected \(type)"
        case let .dataCorrupted(ctx): return ctx.debugDescription
        @unknown default: return String(describing: error)
        }
    }
}

#if canImport(Darwin)
private enum Glibc { static let close = Darwin.close }
#endif
