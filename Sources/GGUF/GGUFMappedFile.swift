#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only: the kernel pages tensors in as they are read, so opening a model costs only
/// its header.
final class GGUFMappedFile: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GGUFError(file: path, message: "cannot open: \(Self.systemError())") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw GGUFError(file: path, message: "cannot stat: \(Self.systemError())")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError(file: path, message: "not a regular file (a directory or device?)")
        }
        let size = Int(status.st_size)
        guard size > 0 else {  // mmap rejects length 0
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw GGUFError(file: path, message: "cannot map \(size) bytes: \(Self.systemError())")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    static func systemError() -> String { String(cString: strerror(errno)) }
}
