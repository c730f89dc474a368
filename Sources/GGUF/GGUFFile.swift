import Foundation

/// A GGUF file (llama.cpp's model format, versions 2 and 3, little-endian), opened and checked: header,
/// metadata, tensor index. Tensor data stays memory-mapped; `withRawBytes` hands it out, and the Engine's
/// `GGUFDequantize` turns it into Float. The layout is described in docs/GGUF.md.
///
/// Every count and offset is checked against the file's size before it is used, so a truncated or corrupt file
/// gives a `GGUFError` naming the field, offset, expected and found value, never a crash or a huge allocation.
public struct GGUFFile: @unchecked Sendable {
    public let url: URL
    /// 2 or 3 (the two differ only for big-endian files, which this reader rejects).
    public let version: Int
    /// Metadata keys in file order, and their values.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment` (32 when absent): tensor data offsets are multiples of it.
    public let alignment: Int
    /// Absolute offset of the tensor data section.
    public let dataOffset: Int
    private let indexByName: [String: Int]
    private let mapping: GGUFMappedFile

    /// "GGUF" read as a little-endian u32.
    static let magic: UInt32 = 0x4655_4747
    static let defaultAlignment = 32
    /// ggml's GGML_MAX_DIMS.
    static let maximumDimensions = 4
    /// Arrays nested deeper than this are taken for corruption (real files nest at most once).
    static let maximumNesting = 8

    public init(contentsOf url: URL) throws {
        let path = url.path
        let mapping = try GGUFMappedFile(path: path)
        var cursor = GGUFCursor(mapping.bytes, file: path)

        guard cursor.remaining >= 4 else {
            throw cursor.error("file is \(cursor.remaining) bytes, too short for the 4-byte magic \"GGUF\"")
        }
        let magic = try cursor.load(UInt32.self, "magic")
        guard magic == Self.magic else {
            let found = withUnsafeBytes(of: magic.littleEndian) { Array($0) }
            throw cursor.error("bad magic at offset 0: expected \"GGUF\" (47 47 55 46), found "
                + found.map { String(format: "%02x", $0) }.joined(separator: " ") + " (not a GGUF file)")
        }
        let version = try cursor.load(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                throw cursor.error("version field at offset 4 reads \(version): a big-endian GGUF "
                    + "(version \(version.byteSwapped)); only little-endian files are supported")
            }
            throw cursor.error("unsupported GGUF version \(version) at offset 4: expected 2 or 3"
                + (version == 1 ? " (version 1 is the obsolete 32-bit-count format)" : ""))
        }
        let tensorCount = try cursor.load(UInt64.self, "tensor count")
        let keyCount = try cursor.load(UInt64.self, "metadata key count")
        // Smallest possible entries: a key is a u64 length (the key may be empty), a type and a 1-byte value; a
        // tensor info is a name length, n_dims, one u64 dimension, a type and a u64 offset.
        try Self.checkCount(keyCount, "metadata key count", minimumBytes: 13, cursor)
        try Self.checkCount(tensorCount, "tensor count", minimumBytes: 32, cursor)

        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        for index in 0..<Int(keyCount) {
            let start = cursor.offset
            let key = try cursor.string("key of metadata entry \(index)")
            guard metadata[key] == nil else {
                throw cursor.error("metadata key '\(key)' at offset \(start) appears twice")
            }
            let typeOffset = cursor.offset
            let type = try cursor.load(UInt32.self, "type of metadata '\(key)'")
            let value = try Self.readValue(type: type, typeOffset: typeOffset, key: key, depth: 0, &cursor)
            keys.append(key)
            metadata[key] = value
        }

        var alignment = Self.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0 else {
                throw cursor.error("metadata 'general.alignment': expected a uint32 power of two, found "
                    + "\(value.typeName) \(value.summary)")
            }
            alignment = Int(a)
        }

        var infos: [(name: String, dimensions: [Int], type: GGMLType, offset: UInt64, at: Int)] = []
        infos.reserveCapacity(Int(tensorCount))
        var indexByName: [String: Int] = [:]
        for index in 0..<Int(tensorCount) {
            let start = cursor.offset
            let name = try cursor.string("name of tensor \(index)")
            guard indexByName[name] == nil else {
                throw cursor.error("tensor '\(name)' at offset \(start) appears twice in the tensor index")
            }
            let rank = try cursor.load(UInt32.self, "dimension count of tensor '\(name)'")
            guard rank >= 1 && rank <= UInt32(Self.maximumDimensions) else {
                throw cursor.error("tensor '\(name)' at offset \(start): expected 1 to \(Self.maximumDimensions) "
                    + "dimensions, found \(rank)")
            }
            var dimensions: [Int] = []
            var elements: UInt64 = 1
            for d in 0..<Int(rank) {
                let size = try cursor.load(UInt64.self, "dimension \(d) of tensor '\(name)'")
                let (product, overflow) = elements.multipliedReportingOverflow(by: size)
                // No real tensor has 2^48 elements; beyond that the sizes are garbage (and would overflow Int).
                guard size >= 1, !overflow, product < (1 << 48) else {
                    throw cursor.error("tensor '\(name)' at offset \(start): dimension \(d) is \(size), giving an "
                        + "absurd or empty element count (expected each dimension ≥ 1, in all < 2^48 elements)")
                }
                elements = product
                dimensions.append(Int(size))
            }
            let typeOffset = cursor.offset
            let rawType = try cursor.load(UInt32.self, "type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw cursor.error("tensor '\(name)': unknown tensor type \(rawType) at offset \(typeOffset) "
                    + "(expected a ggml type id such as 0 F32, 1 F16, 8 Q8_0, 12 Q4_K, 30 BF16)")
            }
            let offset = try cursor.load(UInt64.self, "data offset of tensor '\(name)'")
            indexByName[name] = infos.count
            infos.append((name, dimensions, type, offset, start))
        }

        let fileSize = mapping.bytes.count
        let dataOffset = (cursor.offset + alignment - 1) / alignment * alignment
        if !infos.isEmpty && dataOffset > fileSize {
            throw cursor.error("the tensor data section should start at offset \(dataOffset), past the end of the "
                + "\(fileSize)-byte file (truncated?)")
        }
        let dataSize = max(0, fileSize - dataOffset)

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(infos.count)
        for info in infos {
            let layout = info.type.layout
            guard info.dimensions[0] % layout.blockSize == 0 else {
                throw cursor.error("tensor '\(info.name)' (\(info.type.name)): row length \(info.dimensions[0]) "
                    + "is not a multiple of the \(layout.blockSize)-element block")
            }
            let elements = info.dimensions.reduce(1, *)
            let byteCount = elements / layout.blockSize * layout.blockBytes
            guard info.offset % UInt64(alignment) == 0 else {
                throw cursor.error("tensor '\(info.name)': data offset \(info.offset) is not a multiple of the "
                    + "alignment \(alignment)")
            }
            guard info.offset <= UInt64(dataSize), UInt64(byteCount) <= UInt64(dataSize) - info.offset else {
                // In UInt64 and overflow-checked: a corrupt offset near 2^63 must give this error, not a trap.
                let (fileOffset, beyond) = UInt64(dataOffset).addingReportingOverflow(info.offset)
                throw cursor.error("tensor '\(info.name)' (\(info.type.name), dimensions \(info.dimensions)): "
                    + "expected \(byteCount) bytes at data offset \(info.offset) (file offset "
                    + "\(beyond ? "beyond 2^64" : String(fileOffset))), but the data section holds \(dataSize) bytes "
                    + "(tensor past the end of the file; truncated?)")
            }
            tensors.append(GGUFTensorInfo(name: info.name, dimensions: info.dimensions, type: info.type,
                                          fileOffset: dataOffset + Int(info.offset), byteCount: byteCount))
        }
        // Tensors must not share bytes: overlapping ranges mean the offsets are corrupt.
        let byOffset = tensors.sorted { $0.fileOffset < $1.fileOffset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.fileOffset + a.byteCount > b.fileOffset {
            throw cursor.error("tensors '\(a.name)' (bytes \(a.fileOffset)..<\(a.fileOffset + a.byteCount)) and "
                + "'\(b.name)' (from \(b.fileOffset)) overlap: corrupt data offsets")
        }

        self.url = url
        self.version = Int(version)
        self.metadataKeys = keys
        self.metadata = metadata
        self.tensors = tensors
        self.alignment = alignment
        self.dataOffset = dataOffset
        self.indexByName = indexByName
        self.mapping = mapping
    }

    /// Tensor names in file order.
    public var tensorNames: [String] { tensors.map(\.name) }

    public func tensor(_ name: String) -> GGUFTensorInfo? { indexByName[name].map { tensors[$0] } }

    /// The tensor, or an error naming the file and a tensor it does have.
    public func requireTensor(_ name: String) throws -> GGUFTensorInfo {
        guard let info = tensor(name) else {
            throw GGUFError(file: url.path, message: "missing tensor '\(name)' (the file has \(tensors.count) "
                + "tensors\(tensors.isEmpty ? "" : ", e.g. '\(tensors[0].name)'"))")
        }
        return info
    }

    /// The tensor's stored bytes (quantized blocks as they lie in the file), valid while this file is alive.
    public func withRawBytes<R>(_ info: GGUFTensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(mapping) {
            try body(UnsafeRawBufferPointer(rebasing:
                mapping.bytes[info.fileOffset..<(info.fileOffset + info.byteCount)]))
        }
    }

    // MARK: Typed metadata

    /// An integer metadata value, nil when absent; an error when present with another type.
    public func integer(_ key: String) throws -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let int = value.intValue else { throw wrongType(key, value, "an integer") }
        return int
    }

    public func number(_ key: String) throws -> Double? {
        guard let value = metadata[key] else { return nil }
        guard let number = value.doubleValue else { throw wrongType(key, value, "a number") }
        return number
    }

    public func string(_ key: String) throws -> String? {
        guard let value = metadata[key] else { return nil }
        guard let text = value.stringValue else { throw wrongType(key, value, "a string") }
        return text
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let value = metadata[key] else { return nil }
        guard let flag = value.boolValue else { throw wrongType(key, value, "a bool") }
        return flag
    }

    /// An array of strings (e.g. `tokenizer.ggml.tokens`), nil when absent.
    public func strings(_ key: String) throws -> [String]? {
        guard let value = metadata[key] else { return nil }
        guard let elements = value.arrayValue else { throw wrongType(key, value, "an array of strings") }
        return try elements.enumerated().map { index, element in
            guard let text = element.stringValue else { throw wrongType("\(key)[\(index)]", element, "a string") }
            return text
        }
    }

    /// An array of integers (e.g. `tokenizer.ggml.token_type`), nil when absent.
    public func integers(_ key: String) throws -> [Int]? {
        guard let value = metadata[key] else { return nil }
        guard let elements = value.arrayValue else { throw wrongType(key, value, "an array of integers") }
        return try elements.enumerated().map { index, element in
            guard let int = element.intValue else { throw wrongType("\(key)[\(index)]", element, "an integer") }
            return int
        }
    }

    private func wrongType(_ key: String, _ value: GGUFValue, _ expected: String) -> GGUFError {
        GGUFError(file: url.path, message: "metadata '\(key)': expected \(expected), found \(value.typeName) "
            + value.summary)
    }

    // MARK: Parsing

    private static func checkCount(_ count: UInt64, _ what: String, minimumBytes: Int, _ cursor: GGUFCursor) throws {
        guard count <= UInt64(cursor.remaining / minimumBytes) else {
            throw cursor.error("\(what) \(count) cannot fit in the \(cursor.remaining) bytes after the header "
                + "(each entry takes at least \(minimumBytes) bytes; corrupt or truncated file?)")
        }
    }

    private static func readValue(type: UInt32, typeOffset: Int, key: String, depth: Int,
                                  _ cursor: inout GGUFCursor) throws -> GGUFValue {
        let what = "value of metadata '\(key)'"
        switch type {
        case 0: return .uint8(try cursor.load(UInt8.self, what))
        case 1: return .int8(try cursor.load(Int8.self, what))
        case 2: return .uint16(try cursor.load(UInt16.self, what))
        case 3: return .int16(try cursor.load(Int16.self, what))
        case 4: return .uint32(try cursor.load(UInt32.self, what))
        case 5: return .int32(try cursor.load(Int32.self, what))
        case 6: return .float32(try cursor.float32(what))
        case 7:
            let offset = cursor.offset
            let byte = try cursor.load(UInt8.self, what)
            guard byte <= 1 else {
                throw cursor.error("metadata '\(key)': bool at offset \(offset) is \(byte), expected 0 or 1")
            }
            return .bool(byte == 1)
        case 8: return .string(try cursor.string(what))
        case 9:
            guard depth < maximumNesting else {
                throw cursor.error("metadata '\(key)': arrays nested deeper than \(maximumNesting) at offset "
                    + "\(typeOffset) (corrupt file?)")
            }
            let elementTypeOffset = cursor.offset
            let elementType = try cursor.load(UInt32.self, "element type of metadata '\(key)'")
            let countOffset = cursor.offset
            let count = try cursor.load(UInt64.self, "element count of metadata '\(key)'")
            let size = minimumSize(of: elementType)
            guard size > 0 else {
                throw cursor.error("metadata '\(key)': unknown array element type \(elementType) at offset "
                    + "\(elementTypeOffset) (expected 0...12)")
            }
            guard count <= UInt64(cursor.remaining / size) else {
                throw cursor.error("metadata '\(key)': array of \(count) elements at offset \(countOffset) cannot "
                    + "fit in the \(cursor.remaining) bytes left (corrupt or truncated file?)")
            }
            var elements: [GGUFValue] = []
            elements.reserveCapacity(Int(count))
            for _ in 0..<Int(count) {
                elements.append(try readValue(type: elementType, typeOffset: elementTypeOffset, key: key,
                                              depth: depth + 1, &cursor))
            }
            return .array(elements)
        case 10: return .uint64(try cursor.load(UInt64.self, what))
        case 11: return .int64(try cursor.load(Int64.self, what))
        case 12: return .float64(try cursor.float64(what))
        default:
            throw cursor.error("metadata '\(key)': unknown value type \(type) at offset \(typeOffset) "
                + "(expected 0...12)")
        }
    }

    /// Fewest bytes one value of a type takes (0 for an unknown type).
    private static func minimumSize(of type: UInt32) -> Int {
        switch type {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 8, 10, 11, 12: return 8
        case 9: return 12
        default: return 0
        }
    }
}
