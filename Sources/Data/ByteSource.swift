#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

/// A stream of bytes read in chunks into a caller's buffer; 0 bytes means the end.
protocol ByteSource: AnyObject {
    func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int
    /// Bytes this source holds in its own buffers (for the memory bound `DatasetReader` reports).
    var bufferedBytes: Int { get }
}

/// A file read with plain `read(2)`: no mapping, no whole-file buffer.
final class FileByteSource: ByteSource {
    private let descriptor: Int32
    let path: String

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw DataError(.unreadableFile, file: path, "cannot open the file: \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    var bufferedBytes: Int { 0 }

    func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int {
        while true {
            let count = systemRead(descriptor, buffer, capacity)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw DataError(.unreadableFile, file: path, "cannot read the file: \(String(cString: strerror(errno)))")
        }
    }
}

/// Bytes already taken from a source (to sniff the gzip magic), served before the rest of it.
final class PrefixedByteSource: ByteSource {
    private var prefix: [UInt8]
    private var offset = 0
    private let rest: ByteSource

    init(prefix: [UInt8], rest: ByteSource) {
        self.prefix = prefix
        self.rest = rest
    }

    var bufferedBytes: Int { prefix.count + rest.bufferedBytes }

    func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int {
        if offset < prefix.count {
            let count = min(capacity, prefix.count - offset)
            prefix.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress! + offset, count: count) }
            offset += count
            if offset == prefix.count { prefix = [] ; offset = 0 }
            guard count < capacity else { return count }
            return count + (try rest.read(into: buffer + count, capacity: capacity - count))
        }
        return try rest.read(into: buffer, capacity: capacity)
    }
}

enum ByteSources {
    /// Opens `path`, decompressing transparently when it starts with the gzip magic bytes 1f 8b.
    static func open(path: String) throws -> (source: ByteSource, isGzip: Bool) {
        let file = try FileByteSource(path: path)
        var head = [UInt8](repeating: 0, count: 2)
        var got = 0
        while got < 2 {
            let count = try head.withUnsafeMutableBufferPointer {
                try file.read(into: $0.baseAddress! + got, capacity: 2 - got)
            }
            if count == 0 { break }
            got += count
        }
        head.removeLast(2 - got)
        let source = PrefixedByteSource(prefix: head, rest: file)
        if head == [0x1f, 0x8b] {
            return (try GzipByteSource(compressed: source, path: path), true)
        }
        return (source, false)
    }
}
