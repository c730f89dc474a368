#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The POSIX calls behind the run socket: bind/listen/accept/connect on a path, non-blocking mode, peer
/// credentials, and writes that never raise SIGPIPE.
enum UnixSocket {
    #if os(Linux)
    static let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    static let noSignal = Int32(MSG_NOSIGNAL)
    #else
    static let streamType = SOCK_STREAM
    static let noSignal: Int32 = 0
    #endif

    /// sun_path's capacity less the terminating NUL.
    static let pathLimit = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Runs `body` with an address for `path`. A path too long for sun_path is reached through an open handle on
    /// its directory (`/proc/self/fd/N/name`, Linux), so deep run directories still work.
    static func withAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) throws -> T {
        var reachable = path
        var directoryFD: Int32 = -1
        defer { if directoryFD >= 0 { close(directoryFD) } }
        if path.utf8.count > pathLimit {
            #if os(Linux)
            let url = URL(fileURLWithPath: path)
            directoryFD = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard directoryFD >= 0 else {
                throw RemoteError.system(path: url.deletingLastPathComponent().path, operation: "open run directory", code: errno)
            }
            reachable = "/proc/self/fd/\(directoryFD)/\(url.lastPathComponent)"
            #endif
            guard reachable.utf8.count <= pathLimit else { throw RemoteError.socketPathTooLong(path: path, limit: pathLimit) }
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in reachable.utf8.enumerated() { raw[i] = byte }
            raw[reachable.utf8.count] = 0
        }
        return try withUnsafePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// A listening socket at `path`, mode 0600 before anyone can connect (the directory is 0700 already).
    static func listen(at path: String, backlog: Int32 = 16) throws -> Int32 {
        let fd = socket(AF_UNIX, streamType, 0)
        guard fd >= 0 else { throw RemoteError.system(path: path, operation: "create socket", code: errno) }
        do {
            try withAddress(path) { address, length in
                guard bind(fd, address, length) == 0 else { throw RemoteError.system(path: path, operation: "bind socket", code: errno) }
            }
            guard chmod(path, 0o600) == 0 else { throw RemoteError.system(path: path, operation: "chmod socket 0600", code: errno) }
            guard systemListen(fd, backlog) == 0 else { throw RemoteError.system(path: path, operation: "listen", code: errno) }
            try setNonBlocking(fd, path: path)
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// A blocking connection to `path`; the error keeps errno so callers can tell a stale socket (ECONNREFUSED)
    /// from a missing one (ENOENT).
    static func connect(to path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, streamType, 0)
        guard fd >= 0 else { throw RemoteError.system(path: path, operation: "create socket", code: errno) }
        do {
            try withAddress(path) { address, length in
                var result: Int32
                repeat { result = systemConnect(fd, address, length) } while result != 0 && errno == EINTR
                guard result == 0 else { throw RemoteError.system(path: path, operation: "connect", code: errno) }
            }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    static func setNonBlocking(_ fd: Int32, path: String) throws {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw RemoteError.system(path: path, operation: "set non-blocking", code: errno)
        }
    }

    /// The user id of the process at the other end (SO_PEERCRED on Linux, getpeereid elsewhere).
    static func peerUID(_ fd: Int32) -> uid_t? {
        #if os(Linux)
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return nil }
        return credentials.uid
        #else
        var uid = uid_t(0), gid = gid_t(0)
        return getpeereid(fd, &uid, &gid) == 0 ? uid : nil
        #endif
    }

    /// Sends as much of `bytes` as the socket takes now; nil when the peer is gone (EPIPE, ECONNRESET, …).
    static func sendSome(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        while true {
            let n = send(fd, base, bytes.count, noSignal)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return 0 }
            return nil
        }
    }
}

#if os(Linux)
/// `struct ucred` of <sys/socket.h> (only declared with _GNU_SOURCE, so not imported): pid, uid, gid.
private struct PeerCredentials {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}
#endif

#if canImport(Glibc)
private let systemListen = Glibc.listen
private let systemConnect = Glibc.connect
#elseif canImport(Darwin)
private let systemListen = Darwin.listen
private let systemConnect = Darwin.connect
#endif
