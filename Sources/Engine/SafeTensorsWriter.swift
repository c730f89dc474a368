import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes safetensors files (F32, or F16/BF16 rounded to nearest even) that the reference `safetensors` library
/// and `transformers` load.
public enum SafeTensorsWriter {
    public typealias Tensor = (name: String, shape: [Int], values: UnsafeBufferPointer<Float>)

    /// Atomic: writes `<file>.tmp-<pid>`, fsyncs it, renames it over `url` and fsyncs the directory, so a crash
    /// leaves either the old file or the new one. Tensors are stored sorted by name, contiguously; the header is
    /// padded with spaces to a multiple of 8 bytes (as the reference writer does) so the data region is aligned.
    /// `metadata` gains `"format": "pt"` unless it says otherwise: transformers 4.x refuses metadata without it.
    /// `dtype` is the stored element type: every tensor is rounded to it (docs/GGUF.md, "Saving").
    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], dtype: SaveDType = .f32,
                             to url: URL) throws {
        let path = url.path
        let ordered = try validated(tensors, path: path)
        let header = headerBytes(ordered, dtype: dtype, metadata: metadata.merging(["format": "pt"]) { given, _ in given })

        let temporaryPath = path + ".tmp-\(getpid())"
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SafeTensorsError(file: path, message: "cannot create \(temporaryPath): \(systemError())")
        }
        do {
            var length = UInt64(header.count).littleEndian
            let fail = { (reason: String) in
                SafeTensorsError(file: path, message: "cannot write \(temporaryPath): \(reason)")
            }
            try withUnsafeBytes(of: &length) { try writeAll(fd, $0, fail: fail) }
            try header.withUnsafeBytes { try writeAll(fd, $0, fail: fail) }
            for tensor in ordered {
                switch dtype {
                case .f32: try writeAll(fd, UnsafeRawBufferPointer(tensor.values), fail: fail)
                case .f16, .bf16:
                    let halves = dtype.halfBits(tensor.values)
                    try halves.withUnsafeBytes { try writeAll(fd, $0, fail: fail) }
                }
            }
            guard fsync(fd) == 0 else {
                throw SafeTensorsError(file: path, message: "cannot fsync \(temporaryPath): \(systemError())")
            }
        } catch {
            close(fd)
            unlink(temporaryPath)
            throw error
        }
        close(fd)
        guard rename(temporaryPath, path) == 0 else {
            let reason = systemError()
            unlink(temporaryPath)
            throw SafeTensorsError(file: path, message: "cannot rename \(temporaryPath) over it: \(reason)")
        }
        // The rename is durable only once the directory entry is on disk.
        let directory = open(url.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    /// Convenience for tensors held in arrays.
    public static func write(arrays tensors: [(name: String, shape: [Int], values: [Float])],
                             metadata: [String: String] = [:], to url: URL) throws {
        // Borrow every array's storage for the duration of the write without copying it.
        func borrow(_ index: Int, _ borrowed: [Tensor]) throws {
            if index == tensors.count {
                try write(borrowed, metadata: metadata, to: url)
                return
            }
            let tensor = tensors[index]
            try tensor.values.withUnsafeBufferPointer { values in
                try borrow(index + 1, borrowed + [(tensor.name, tensor.shape, values)])
            }
        }
        try borrow(0, [])
    }

    private static func validated(_ tensors: [Tensor], path: String) throws -> [Tensor] {
        var seen = Set<String>()
        for tensor in tensors {
            let fail = { (message: String) in
                SafeTensorsError(file: path, message: "cannot write tensor '\(tensor.name)': \(message)")
            }
            guard !tensor.name.isEmpty, tensor.name != SafeTensorsHeader.metadataKey else {
                throw fail("the name is empty or reserved")
            }
            guard seen.insert(tensor.name).inserted else { throw fail("the name appears twice") }
            guard tensor.shape.allSatisfy({ $0 >= 0 }) else { throw fail("shape \(tensor.shape) has a negative extent") }
            guard let elements = SafeTensorsTensorInfo.checkedElementCount(tensor.shape) else {
                throw fail("shape \(tensor.shape) has more elements than Int can count")
            }
            guard elements == tensor.values.count else {
                throw fail("shape \(tensor.shape) needs \(elements) values, got \(tensor.values.count)")
            }
        }
        return tensors.sorted { $0.name < $1.name }
    }

    /// `{"__metadata__":{…},"name":{"dtype":"F32","shape":[…],"data_offsets":[b,e]},…}` plus space padding.
    private static func headerBytes(_ ordered: [Tensor], dtype: SaveDType, metadata: [String: String]) -> [UInt8] {
        var json = "{"
        var members: [String] = []
        let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
        members.append("\(jsonString(SafeTensorsHeader.metadataKey)):{\(pairs.joined(separator: ","))}")
        var offset = 0
        for tensor in ordered {
            let end = offset + tensor.values.count * dtype.byteSize
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            members.append("\(jsonString(tensor.name)):{\"dtype\":\"\(dtype.safeTensorsName)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        json += members.joined(separator: ",") + "}"
        var bytes = Array(json.utf8)
        while bytes.count % 8 != 0 { bytes.append(UInt8(ascii: " ")) }
        return bytes
    }

    /// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// write(2) until every byte is out, resuming after short writes and signals.
    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer,
                                 fail: (String) -> SafeTensorsError) throws {
        guard var cursor = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let written = posixWrite(fd, cursor, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw fail(systemError())
            }
            cursor += written
            remaining -= written
        }
    }
}

/// write(2), named apart from `SafeTensorsWriter.write`.
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }
