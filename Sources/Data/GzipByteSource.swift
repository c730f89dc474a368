import CZlib

/// Inflates a gzip stream (RFC 1952) as it is read, through a fixed input buffer, so a compressed file of any
/// size needs only that buffer and zlib's 32 KiB window. Concatenated members (as `cat a.gz b.gz` makes) are
/// read one after another. A stream that stops before a member's end is reported as cut short.
final class GzipByteSource: ByteSource {
    private static let inputCapacity = 64 * 1024
    /// 15-bit window, +16 = expect a gzip header and trailer (not zlib or raw deflate).
    private static let windowBits: Int32 = 15 + 16

    private let compressed: ByteSource
    private let path: String
    private let input = UnsafeMutablePointer<UInt8>.allocate(capacity: GzipByteSource.inputCapacity)
    // zlib keeps a pointer back to the z_stream it was initialized with, so it must not move: heap-allocate it.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var compressedEnded = false
    private var memberEnded = false
    private var finished = false
    private var inflatedBytes = 0

    init(compressed: ByteSource, path: String) throws {
        self.compressed = compressed
        self.path = path
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, Self.windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw DataError(.corruptGzip, file: path, "cannot start gzip decompression (zlib status \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// The input buffer plus zlib's window and state (about 44 KiB for a 32 KiB window).
    var bufferedBytes: Int { Self.inputCapacity + 48 * 1024 + compressed.bufferedBytes }

    func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int {
        if finished || capacity == 0 { return 0 }
        stream.pointee.next_out = buffer
        stream.pointee.avail_out = UInt32(capacity)
        while stream.pointee.avail_out == UInt32(capacity) {
            if stream.pointee.avail_in == 0 && !compressedEnded { try refill() }
            if memberEnded {
                // Another member may follow; anything else after a complete member is an error, except the
                // zero padding some tools write.
                if stream.pointee.avail_in == 0 && compressedEnded { finished = true; break }
                if try !nextMemberFollows() { finished = true; break }
                inflateReset(stream)
                memberEnded = false
                continue
            }
            if stream.pointee.avail_in == 0 && compressedEnded {
                throw DataError(.truncatedGzip, file: path,
                                "the gzip stream ends early after \(inflatedBytes) uncompressed bytes "
                                + "(expected the end of the compressed data; is the file cut short?)")
            }
            let status = inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                memberEnded = true
            default:
                let detail = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw DataError(.corruptGzip, file: path,
                                "corrupt gzip data after \(inflatedBytes) uncompressed bytes: \(detail)")
            }
        }
        let produced = capacity - Int(stream.pointee.avail_out)
        inflatedBytes += produced
        return produced
    }

    private func refill() throws {
        let count = try compressed.read(into: input, capacity: Self.inputCapacity)
        if count == 0 { compressedEnded = true; return }
        stream.pointee.next_in = input
        stream.pointee.avail_in = UInt32(count)
    }

    /// After a complete member: true when the remaining input starts another gzip member; false when only zero
    /// padding remains; throws on other trailing bytes.
    private func nextMemberFollows() throws -> Bool {
        while true {
            if stream.pointee.avail_in == 0 {
                if compressedEnded { return false }
                try refill()
                continue
            }
            let next = stream.pointee.next_in!
            if next[0] == 0x1f { return true }
            if next[0] == 0 {
                stream.pointee.next_in = next + 1
                stream.pointee.avail_in -= 1
                continue
            }
            throw DataError(.corruptGzip, file: path,
                            "unexpected byte 0x\(String(next[0], radix: 16)) after the end of the gzip data "
                            + "(\(inflatedBytes) uncompressed bytes); expected another gzip member or the end")
        }
    }
}
