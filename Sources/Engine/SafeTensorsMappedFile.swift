#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only: the kernel pages it in on demand, so opening a large checkpoint costs nothing
/// until tensors are read, and reading converts straight from the page cache (one copy, not two).
final class SafeTensorsMappedFile {
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SafeTensorsError(file: path, message: "cannot open: \(systemError())") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw SafeTensorsError(file: path, message: "cannot stat: \(systemError())")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw SafeTensorsError(file: path, message: "not a regular file (a directory or device?)")
        }
        let size = Int(status.st_size)
        guard size > 0 else {  // mmap rejects length 0; an empty file simply has no bytes.
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw SafeTensorsError(file: path, message: "cannot map \(size) bytes: \(systemError())")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

func systemError() -> String { String(cString: strerror(errno)) }
