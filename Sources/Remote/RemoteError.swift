import Foundation

/// What can go wrong between a run and a client, with the path and the system's reason.
public enum RemoteError: Error, Equatable, CustomStringConvertible {
    /// A socket call failed (`operation` names it).
    case system(path: String, operation: String, code: Int32)
    /// Nothing listens on the run's socket: the run ended or crashed.
    case notLive(runDirectory: String, detail: String)
    /// Another live process already serves this run.
    case alreadyServed(socket: String)
    /// The run directory belongs to another user, or is open to others.
    case unsafeDirectory(path: String, detail: String)
    /// The socket path cannot be bound or reached (too long even through /proc).
    case socketPathTooLong(path: String, limit: Int)
    /// The server sent something this client cannot read.
    case badMessage(socket: String, detail: String)
    /// The server closed the connection or refused the request.
    case refused(socket: String, reason: String)
    case timedOut(socket: String, waitingFor: String, seconds: Double)
    /// The runs root does not exist or cannot be listed.
    case noRunsRoot(path: String, reason: String)
    /// The run closed the connection (it ended, or dropped this client).
    case closed(socket: String)

    public var description: String {
        switch self {
        case let .system(path, operation, code):
            return "\(path): cannot \(operation): \(String(cString: strerror(code)))"
        case let .notLive(dir, detail):
            return "\(dir): the run is not live (\(detail)); `xright ls` shows its state"
        case let .alreadyServed(socket):
            return "\(socket): another live process serves this run already"
        case let .unsafeDirectory(path, detail):
            return "\(path): \(detail)"
        case let .socketPathTooLong(path, limit):
            return "\(path): socket path is longer than \(limit) bytes; use a shorter run directory"
        case let .badMessage(socket, detail):
            return "\(socket): unreadable message from the run: \(detail)"
        case let .refused(socket, reason):
            return "\(socket): \(reason)"
        case let .timedOut(socket, what, seconds):
            return "\(socket): no \(what) within \(String(format: "%.0f", seconds)) s"
        case let .noRunsRoot(path, reason):
            return "\(path): cannot list runs: \(reason) (give --runs-root or set XRIGHT_RUNS)"
        case let .closed(socket):
            return "\(socket): the run closed the connection"
        }
    }
}
