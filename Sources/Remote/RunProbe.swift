#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Training

/// Is a run live? Its socket answers a connect when it is; a socket file nobody listens on (ECONNREFUSED) is
/// what a crashed run leaves behind.
public enum RunProbe {
    public enum SocketState: Equatable, Sendable {
        case absent
        case live
        /// A socket file with no listener.
        case stale
    }

    public static func probeSocket(_ path: String) -> SocketState {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .absent }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else { return .stale }
        do {
            let fd = try UnixSocket.connect(to: path)
            Glibc.close(fd)
            return .live
        } catch RemoteError.system(_, _, let code) where code == ECONNREFUSED || code == ENOENT {
            return .stale
        } catch {
            // EACCES and the like: someone else's live socket; not ours to remove.
            return .live
        }
    }

    /// Removes the run's socket when it is stale; true when it did.
    @discardableResult
    public static func removeStaleSocket(_ runDirectory: RunDirectory) -> Bool {
        let path = runDirectory.controlSocket.path
        guard probeSocket(path) == .stale else { return false }
        return unlink(path) == 0
    }

    /// The pid in the run's pid file when that process still exists.
    public static func livePid(_ runDirectory: RunDirectory) -> Int32? {
        guard let text = try? String(contentsOf: runDirectory.pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }
}

#if canImport(Darwin)
private enum Glibc { static let close = Darwin.close }
#endif
