import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves `GET /metrics` on 127.0.0.1 only (never another interface): a small HTTP/1.1 responder over a POSIX
/// socket, one request per connection, answered on one background thread. Scrapes come every few seconds, so
/// nothing more is needed, and no network library joins the build.
public final class MetricsServer: @unchecked Sendable {
    /// The port listened on (the one asked for, or the one the system chose for port 0).
    public let port: UInt16
    private let listener: Int32
    private let body: @Sendable () -> String
    private let lock = NSLock()
    private var closed = false

    /// Longest request head read; a scrape's is a few hundred bytes.
    static let maximumRequestBytes = 8192

    public init(port: UInt16, body: @escaping @Sendable () -> String) throws {
        self.body = body
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MetricsServerError.cannotListen(port: port, reason: Self.errnoText()) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian  // 127.0.0.1
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let reason = Self.errnoText()
            closeSocket(fd)
            throw MetricsServerError.cannotListen(port: port, reason: reason)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = UInt16(bigEndian: actual.sin_port)
        listener = fd
        let thread = Thread { [self] in serve() }
        thread.name = "xright-metrics"
        thread.start()
    }

    deinit { close() }

    /// Stops listening; a scrape being answered finishes.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        shutdown(listener, Int32(SHUT_RDWR))
        closeSocket(listener)
    }

    private var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR && !isClosed { continue }
                return
            }
            answer(client)
            closeSocket(client)
        }
    }

    private func answer(_ client: Int32) {
        // A client that connects and says nothing must not hold the next scrape for long.
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 2048)
        while request.count < Self.maximumRequestBytes {
            let n = recv(client, &chunk, chunk.count, 0)
            guard n > 0 else { break }
            request += chunk[..<n]
            if Self.headEnds(request) { break }
        }
        let response = Self.response(to: request, body: body)
        var offset = 0
        let bytes = Array(response.utf8)
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            offset += n
        }
    }

    static func headEnds(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return true
        }
        return false
    }

    /// The whole HTTP response to a request head.
    static func response(to request: [UInt8], body: () -> String) -> String {
        let head = String(decoding: request, as: UTF8.self)
        let requestLine = head.split(separator: "\r\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            return reply(400, "Bad Request", "expected an HTTP/1.1 request line, e.g. GET /metrics HTTP/1.1\n")
        }
        guard parts[0] == "GET" || parts[0] == "HEAD" else {
            return reply(405, "Method Not Allowed", "only GET /metrics is served\n", extra: "Allow: GET, HEAD\r\n")
        }
        let path = parts[1].split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        let headOnly = parts[0] == "HEAD"
        switch path {
        case "/metrics":
            return reply(200, "OK", body(), contentType: "text/plain; version=0.0.4; charset=utf-8", headOnly: headOnly)
        case "/":
            return reply(200, "OK", "xright: the run's metrics are at /metrics\n", headOnly: headOnly)
        default:
            return reply(404, "Not Found", "no such path: \(path) (the metrics are at /metrics)\n", headOnly: headOnly)
        }
    }

    private static func reply(_ status: Int, _ reason: String, _ body: String,
                              contentType: String = "text/plain; charset=utf-8", extra: String = "",
                              headOnly: Bool = false) -> String {
        "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n"
            + extra + "Connection: close\r\n\r\n" + (headOnly ? "" : body)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

public enum MetricsServerError: Error, Equatable, CustomStringConvertible {
    case cannotListen(port: UInt16, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let port, let reason): return "127.0.0.1:\(port): cannot serve metrics (\(reason))"
        }
    }
}

private func closeSocket(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}
