/// The element type exported model weights are stored in (`--save-dtype`). Training always runs, and checkpoints
/// keep their training state, in float32; only the exported copy (final/, a checkpoint's model/, `export hf`) is
/// rounded — to nearest, ties to even, as torch's `.to(dtype)` does (docs/GGUF.md, "Saving").
public enum SaveDType: String, CaseIterable, Codable, Sendable {
    case f32, f16, bf16

    /// The safetensors header's name.
    public var safeTensorsName: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        }
    }

    /// config.json's `torch_dtype`.
    public var torchName: String {
        switch self {
        case .f32: return "float32"
        case .f16: return "float16"
        case .bf16: return "bfloat16"
        }
    }

    public var byteSize: Int { self == .f32 ? 4 : 2 }

    /// The 16-bit patterns of `values` (f16 or bf16), little-endian in memory.
    func halfBits(_ values: UnsafeBufferPointer<Float>) -> [UInt16] {
        precondition(self != .f32)
        let convert: (Float) -> UInt16 = self == .f16 ? Self.f16Bits : Self.bf16Bits
        return [UInt16](unsafeUninitializedCapacity: values.count) { out, initialized in
            for i in 0..<values.count { out[i] = convert(values[i]).littleEndian }
            initialized = values.count
        }
    }

    /// binary16 by IEEE rounding (overflow to infinity, gradual underflow).
    @inline(__always)
    public static func f16Bits(_ value: Float) -> UInt16 { Float16(value).bitPattern }

    /// bfloat16: the upper half of the binary32 pattern, rounded to nearest even; NaN stays a (quiet) NaN.
    @inline(__always)
    public static func bf16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounding = 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// `value` as it reads back after being stored in this type.
    public func rounded(_ value: Float) -> Float {
        switch self {
        case .f32: return value
        case .f16: return HalfFloat.float(fromF16Bits: Self.f16Bits(value))
        case .bf16: return HalfFloat.float(fromBF16Bits: Self.bf16Bits(value))
        }
    }
}
