import Foundation

/// A safetensors file, opened and validated (see `SafeTensorsHeader`). The data stays memory-mapped; tensors are
/// converted to `Float` on demand. Layout: 8-byte little-endian header length N, N bytes of JSON header, data.
public struct SafeTensorsFile {
    public let url: URL
    /// Key-value strings from `__metadata__` (empty when absent).
    public let metadata: [String: String]
    private let tensors: [String: SafeTensorsTensorInfo]
    private let mapping: SafeTensorsMappedFile
    private let dataStart: Int

    public init(contentsOf url: URL) throws {
        let path = url.path
        let mapping = try SafeTensorsMappedFile(path: path)
        let bytes = mapping.bytes
        let fail = { (message: String) in SafeTensorsError(file: path, message: message) }

        guard bytes.count >= 8 else {
            throw fail("file is \(bytes.count) bytes, shorter than the 8-byte header length that starts a safetensors file")
        }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        let available = bytes.count - 8
        guard headerLength <= UInt64(available) else {
            throw fail("header length \(headerLength) runs past the end of the file "
                + "(\(available) bytes follow the length field; truncated file?)")
        }
        let dataStart = 8 + Int(headerLength)
        let header = try SafeTensorsHeader(json: UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart]),
                                           dataSize: bytes.count - dataStart, dataStart: dataStart, fail: fail)
        self.url = url
        self.metadata = header.metadata
        self.tensors = header.tensors
        self.mapping = mapping
        self.dataStart = dataStart
    }

    /// Tensor names, sorted.
    public var tensorNames: [String] { tensors.keys.sorted() }

    public func info(_ name: String) -> SafeTensorsTensorInfo? { tensors[name] }

    public func shape(of name: String) -> [Int]? { tensors[name]?.shape }

    /// The tensor's values converted to Float (F32/F16/BF16 exactly, F64 rounded).
    public func floats(_ name: String) throws -> [Float] {
        try floats(name, expectedShape: nil)
    }

    /// As `floats(_:)`, and fails unless the tensor has exactly `expectedShape`.
    public func floats(_ name: String, expectedShape: [Int]?) throws -> [Float] {
        let info = try lookUp(name, expectedShape: expectedShape)
        return try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            try convert(info, into: buffer)
            initialized = info.elementCount
        }
    }

    /// Converts the tensor straight into `destination` (e.g. a slice of a flat parameter buffer), which must hold
    /// exactly its element count.
    public func read(_ name: String, expectedShape: [Int]? = nil,
                     into destination: UnsafeMutableBufferPointer<Float>) throws {
        let info = try lookUp(name, expectedShape: expectedShape)
        guard destination.count == info.elementCount else {
            throw SafeTensorsError(file: url.path, message: "tensor '\(name)' has \(info.elementCount) elements "
                + "(shape \(info.shape)), but the destination holds \(destination.count)")
        }
        try convert(info, into: destination)
    }

    /// The tensor's raw little-endian bytes, valid while this file (or a copy of it) is alive.
    public func withRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let info = try lookUp(name, expectedShape: nil)
        return try body(rawBytes(info))
    }

    private func lookUp(_ name: String, expectedShape: [Int]?) throws -> SafeTensorsTensorInfo {
        guard let info = tensors[name] else {
            throw SafeTensorsError(file: url.path, message: "missing tensor '\(name)' (the file has \(tensors.count) "
                + "tensors\(tensors.isEmpty ? "" : ", e.g. '\(tensorNames[0])'"))")
        }
        if let expected = expectedShape, expected != info.shape {
            throw SafeTensorsError(file: url.path,
                                   message: "tensor '\(name)' has shape \(info.shape), expected \(expected)")
        }
        return info
    }

    private func rawBytes(_ info: SafeTensorsTensorInfo) -> UnsafeRawBufferPointer {
        let start = dataStart + info.byteRange.lowerBound
        return UnsafeRawBufferPointer(rebasing: mapping.bytes[start..<(start + info.byteRange.count)])
    }

    private func convert(_ info: SafeTensorsTensorInfo, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let source = rawBytes(info)
        guard let from = source.baseAddress, let to = destination.baseAddress else { return }  // no elements
        switch info.dtype {
        case .f32:
            // The data region need not be 4-byte aligned; memcpy does not care. Little-endian host assumed below.
            memcpy(to, from, source.count)
        case .f16:
            HalfFloat.convertF16(from, into: destination)
        case .bf16:
            HalfFloat.convertBF16(from, into: destination)
        case .f64:
            for i in 0..<destination.count {
                to[i] = Float(Double(bitPattern: UInt64(littleEndian: from.loadUnaligned(fromByteOffset: 8 &* i,
                                                                                          as: UInt64.self))))
            }
        default:
            throw SafeTensorsError(file: url.path, message: "tensor '\(info.name)' has dtype \(info.dtype.rawValue), "
                + "which cannot be read as Float (expected one of \(SafeTensorsDType.convertibleNames))")
        }
    }
}

#if _endian(big)
#error("safetensors data is little-endian; the F32 fast paths here assume a little-endian host")
#endif
