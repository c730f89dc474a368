#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Fingerprints for the run header (`modelFingerprint`, `dataFingerprints`): FNV-1a 64 over a file's bytes,
/// written `fnv1a64:<16 hex digits>`. Not cryptographic — it tells runs on different inputs apart.
public enum ContentFingerprint {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    public static func fnv1a64(_ bytes: UnsafeRawBufferPointer, continuing hash: UInt64 = offsetBasis) -> UInt64 {
        var h = hash
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* prime
        }
        return h
    }

    /// One FNV-1a round over a whole word instead of a byte: fingerprints of token ids and weights (the run
    /// header's `sft`/`dpo` data and model fingerprints), where hashing bytes would cost 4–8 times as much.
    @inline(__always)
    public static func mix(_ hash: UInt64, word: UInt64) -> UInt64 { (hash ^ word) &* prime }

    public static func string(_ hash: UInt64) -> String {
        let hex = String(hash, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The fingerprint of `data`.
    public static func of(_ data: Data) -> String {
        string(data.withUnsafeBytes { fnv1a64($0) })
    }

    /// The fingerprint of a file, streamed through one 1 MiB buffer (model files are large).
    public static func of(file url: URL) throws -> String {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError(path: url.path, operation: "open for fingerprinting", code: errno) }
        defer { _ = systemClose(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var hash = offsetBasis
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(path: url.path, operation: "read for fingerprinting", code: errno)
            }
            if n == 0 { break }
            hash = fnv1a64(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), continuing: hash)
        }
        return string(hash)
    }
}
