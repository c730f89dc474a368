import Foundation

/// Writes GGUF version 3 files (little-endian, 32-byte alignment), the layout `GGUFFile` reads and docs/GGUF.md
/// describes: header, metadata in the order given, tensor index, then each tensor's data at an aligned offset.
/// Tensors are encoded one at a time as they are written (F32, F16 or Q8_0), so a model is never held twice.
/// The file appears atomically: it is written beside the target and renamed over it once complete.
public struct GGUFWriter {
    /// One tensor: its name, row-major shape (outermost first, as `GGUFTensorInfo.shape`), the type to store it
    /// in, and a closure that yields its float values when the writer reaches it.
    public struct Tensor {
        public var name: String
        public var shape: [Int]
        public var type: GGMLType
        public var values: () throws -> [Float]

        public init(name: String, shape: [Int], type: GGMLType, values: @escaping () throws -> [Float]) {
            self.name = name
            self.shape = shape
            self.type = type
            self.values = values
        }
    }

    /// The types this writer encodes.
    public static let encodableTypes: [GGMLType] = [.f32, .f16, .q8_0]
    static let alignment = 32

    public var metadata: [(key: String, value: GGUFValue)] = []
    public var tensors: [Tensor] = []

    public init() {}

    /// Writes the file; throws `GGUFError` naming the file and the tensor or key at fault.
    public func write(to url: URL) throws {
        let path = url.path
        func fail(_ message: String) -> GGUFError { GGUFError(file: path, message: message) }
        var seen = Set<String>()
        for (key, _) in metadata where !seen.insert(key).inserted { throw fail("metadata key '\(key)' given twice") }
        seen = []
        var offsets: [Int] = []
        var offset = 0
        for tensor in tensors {
            guard seen.insert(tensor.name).inserted else { throw fail("tensor '\(tensor.name)' given twice") }
            guard Self.encodableTypes.contains(tensor.type) else {
                throw fail("tensor '\(tensor.name)': cannot encode \(tensor.type.name); expected one of "
                    + Self.encodableTypes.map(\.name).joined(separator: ", "))
            }
            guard !tensor.shape.isEmpty, tensor.shape.count <= 4, tensor.shape.allSatisfy({ $0 > 0 }) else {
                throw fail("tensor '\(tensor.name)': shape \(tensor.shape) must have 1 to 4 positive dimensions")
            }
            let (block, bytes) = tensor.type.layout
            guard tensor.shape.last! % block == 0 else {
                throw fail("tensor '\(tensor.name)': rows of \(tensor.shape.last!) values cannot be split into "
                    + "\(tensor.type.name) blocks of \(block)")
            }
            offsets.append(offset)
            offset += Self.padded(tensor.shape.reduce(1, *) / block * bytes)
        }

        var header = ByteBuffer()
        header.append(UInt32(0x4655_4747))
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(metadata.count))
        for (key, value) in metadata {
            header.append(string: key)
            header.append(UInt32(Self.typeID(value)))
            try header.append(value: value, key: key, file: path)
        }
        for (tensor, tensorOffset) in zip(tensors, offsets) {
            header.append(string: tensor.name)
            header.append(UInt32(tensor.shape.count))
            for dimension in tensor.shape.reversed() { header.append(UInt64(dimension)) }
            header.append(tensor.type.rawValue)
            header.append(UInt64(tensorOffset))
        }
        header.pad(to: Self.alignment)

        let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary) else {
            throw fail("cannot create \(temporary)")
        }
        do {
            try handle.write(contentsOf: header.bytes)
            for tensor in tensors {
                let values = try tensor.values()
                let count = tensor.shape.reduce(1, *)
                guard values.count == count else {
                    throw fail("tensor '\(tensor.name)': shape \(tensor.shape) needs \(count) values, got \(values.count)")
                }
                var data = GGMLEncode.encode(values, as: tensor.type)
                data.append(contentsOf: [UInt8](repeating: 0, count: Self.padded(data.count) - data.count))
                try handle.write(contentsOf: data)
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: temporary)
            if let error = error as? GGUFError { throw error }
            throw fail("cannot write \(temporary): \(error.localizedDescription)")
        }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw fail("cannot rename \(temporary) over it (errno \(errno))")
        }
    }

    static func padded(_ count: Int) -> Int { (count + alignment - 1) / alignment * alignment }

    static func typeID(_ value: GGUFValue) -> Int {
        switch value {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }
}

/// Little-endian bytes of a GGUF header.
struct ByteBuffer {
    var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(string: String) {
        append(UInt64(string.utf8.count))
        bytes.append(contentsOf: string.utf8)
    }

    mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    mutating func append(value: GGUFValue, key: String, file: String) throws {
        switch value {
        case .uint8(let v): append(v)
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .float32(let v): append(v.bitPattern)
        case .bool(let v): bytes.append(v ? 1 : 0)
        case .string(let v): append(string: v)
        case .uint64(let v): append(v)
        case .int64(let v): append(v)
        case .float64(let v): append(v.bitPattern)
        case .array(let elements):
            let type = elements.first.map(GGUFWriter.typeID) ?? 8
            guard elements.allSatisfy({ GGUFWriter.typeID($0) == type }) else {
                throw GGUFError(file: file, message: "metadata '\(key)': an array's elements must share one type")
            }
            append(UInt32(type))
            append(UInt64(elements.count))
            for element in elements { try append(value: element, key: key, file: file) }
        }
    }
}

/// Float values in ggml's storage types, as llama.cpp's reference quantizers write them.
public enum GGMLEncode {
    public static func encode(_ values: [Float], as type: GGMLType) -> [UInt8] {
        switch type {
        case .f32:
            return values.withUnsafeBytes { Array($0) }
        case .f16:
            var out = [UInt8]()
            out.reserveCapacity(values.count * 2)
            for v in values { withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            return out
        case .q8_0:
            return q8_0(values)
        default:
            preconditionFailure("GGUFWriter checks the type before encoding")
        }
    }

    /// Q8_0: blocks of 32 values as an f16 scale d = max|x| / 127 and 32 int8 q = round(x / d) (ggml's
    /// quantize_row_q8_0_ref, rounding half away from zero). A value reads back as d · q.
    static func q8_0(_ values: [Float]) -> [UInt8] {
        let blocks = values.count / 32
        var out = [UInt8](repeating: 0, count: blocks * 34)
        for b in 0..<blocks {
            var amax: Float = 0
            for i in 0..<32 { amax = max(amax, abs(values[b * 32 + i])) }
            let d = amax / 127
            let inverse: Float = d != 0 ? 1 / d : 0
            let scale = Float16(d).bitPattern
            out[b * 34] = UInt8(truncatingIfNeeded: scale)
            out[b * 34 + 1] = UInt8(truncatingIfNeeded: scale >> 8)
            for i in 0..<32 {
                let q = Int8(clamping: Int((values[b * 32 + i] * inverse).rounded(.toNearestOrAwayFromZero)))
                out[b * 34 + 2 + i] = UInt8(bitPattern: q)
            }
        }
        return out
    }
}
