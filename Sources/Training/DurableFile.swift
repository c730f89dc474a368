#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

#if canImport(Glibc)
let systemWrite = Glibc.write
let systemRename = Glibc.rename
let systemClose = Glibc.close
#elseif canImport(Darwin)
let systemWrite = Darwin.write
let systemRename = Darwin.rename
let systemClose = Darwin.close
#endif

/// A file-system call that failed: which path, which operation, and the system's reason.
public struct FileSystemError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var code: Int32
    public var reason: String

    public init(path: String, operation: String, code: Int32) {
        self.path = path
        self.operation = operation
        self.code = code
        reason = String(cString: strerror(code))
    }

    public var description: String { "\(path): cannot \(operation): \(reason)" }
}

/// POSIX file operations with the durability steps checkpoints and logs need (fsync of files and directories,
/// writes that survive EINTR and short writes). Foundation hides fsync of directories.
public enum DurableFile {
    /// Writes `data` to a new file at `url` and fsyncs it before returning.
    public static func write(_ data: Data, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileSystemError(path: url.path, operation: "create file", code: errno) }
        defer { close(fd) }
        try writeAll(fd, data, path: url.path)
        guard fsync(fd) == 0 else { throw FileSystemError(path: url.path, operation: "fsync", code: errno) }
    }

    /// Writes every byte of `data` to `fd`.
    public static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard var p = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let n = systemWrite(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError(path: path, operation: "write", code: errno)
                }
                p += n
                left -= n
            }
        }
    }

    /// fsync of a file or directory by path (a rename is durable once its parent directory is synced).
    public static func sync(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError(path: url.path, operation: "open for fsync", code: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileSystemError(path: url.path, operation: "fsync", code: errno) }
    }

    /// fsync of every file and directory under `root` (depth first, then `root` itself).
    public static func syncTree(_ root: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue {
            for name in try fm.contentsOfDirectory(atPath: root.path) {
                try syncTree(root.appendingPathComponent(name))
            }
        }
        try sync(root)
    }

    public static func makeDirectory(_ url: URL) throws {
        if mkdir(url.path, 0o755) != 0 {
            let code = errno
            if code == EEXIST, isDirectory(url) { return }
            throw FileSystemError(path: url.path, operation: "create directory", code: code)
        }
    }

    /// Creates `url` and any missing parents.
    public static func makeDirectories(_ url: URL) throws {
        if isDirectory(url) { return }
        let parent = url.deletingLastPathComponent()
        if parent.path != url.path, !isDirectory(parent) { try makeDirectories(parent) }
        try makeDirectory(url)
    }

    public static func rename(_ from: URL, to: URL) throws {
        guard systemRename(from.path, to.path) == 0 else {
            throw FileSystemError(path: from.path, operation: "rename to \(to.path)", code: errno)
        }
    }

    public static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
