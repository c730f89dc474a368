/// Element types a safetensors header may name (the `Dtype` enum of the reference implementation, huggingface/
/// safetensors, whole-byte types only). All of them can be validated and skipped; `isConvertibleToFloat` ones can
/// be read as `Float`.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", f8e8m0 = "F8_E8M0"
    case u16 = "U16", i16 = "I16", f16 = "F16", bf16 = "BF16"
    case u32 = "U32", i32 = "I32", f32 = "F32"
    case u64 = "U64", i64 = "I64", f64 = "F64", c64 = "C64"

    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0: return 1
        case .u16, .i16, .f16, .bf16: return 2
        case .u32, .i32, .f32: return 4
        case .u64, .i64, .f64, .c64: return 8
        }
    }

    /// Types `SafeTensorsFile.floats` reads: exact widening for F16/BF16/F32, rounding to nearest for F64.
    public var isConvertibleToFloat: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64: return true
        default: return false
        }
    }

    static let convertibleNames = allCases.filter(\.isConvertibleToFloat).map(\.rawValue).joined(separator: ", ")
}
