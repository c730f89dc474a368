/// Exact widening of 16-bit floats to `Float`. Every F16 and BF16 value is representable in binary32, so these
/// conversions never round; NaN payloads and signs are kept (the payload shifts up with the mantissa).
public enum HalfFloat {
    /// IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits, bias 15) to binary32 (bias 127).
    @inline(__always)
    public static func float(fromF16Bits h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        switch exponent {
        case 0:
            // Zero or subnormal: value = mantissa · 2^-24, exact in binary32 (a 10-bit integer times a power of 2).
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: magnitude.bitPattern | sign)
        case 0x1F:
            // Infinity (mantissa 0) or NaN: all-ones exponent, mantissa moved to the top of binary32's 23 bits.
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            // Normal: rebias the exponent (127 − 15 = 112) and widen the mantissa.
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }

    /// bfloat16 is the upper half of a binary32 bit pattern.
    @inline(__always)
    public static func float(fromBF16Bits b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// Converts `destination.count` little-endian F16 values starting at `source` (any alignment).
    public static func convertF16(_ source: UnsafeRawPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        guard let out = destination.baseAddress else { return }
        for i in 0..<destination.count {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))
            out[i] = float(fromF16Bits: bits)
        }
    }

    /// Converts `destination.count` little-endian BF16 values starting at `source` (any alignment).
    public static func convertBF16(_ source: UnsafeRawPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        guard let out = destination.baseAddress else { return }
        for i in 0..<destination.count {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))
            out[i] = float(fromBF16Bits: bits)
        }
    }
}
