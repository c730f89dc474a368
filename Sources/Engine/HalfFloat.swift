/// Exact widening of 16-bit floats to `Float`. Every F16 and BF16 value is representable in binary32, so these
/// conversions never round; NaN payloads and signs are kept (the payload shifts up with the mantissa).
public enum HalfFloat {
    /// IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits, bias 15) to binary32 (bias 127). Branch-free
    /// (selects only) so that bulk conversion vectorizes.
    @inline(__always)
    public static func float(fromF16Bits h: UInt16) -> Float {
        let bits = UInt32(h)
        let sign = (bits & 0x8000) << 16
        let magnitude = bits & 0x7FFF
        let shifted = magnitude << 13  // mantissa to the top of binary32's 23 bits, exponent just above it
        // Normal: rebias the exponent by 127 − 15 = 112.
        let normal = shifted &+ (112 << 23)
        // Infinity or NaN: all-ones exponent; the mantissa (NaN payload) comes along.
        let infinityOrNaN = shifted | 0x7F80_0000
        // Zero or subnormal, m · 2^-24: build 2^-14 · (1 + m/1024) and subtract 2^-14, exactly.
        let subnormal = (Float(bitPattern: shifted | (113 << 23)) - 0x1p-14).bitPattern
        let result = magnitude >= 0x7C00 ? infinityOrNaN : (magnitude < 0x0400 ? subnormal : normal)
        return Float(bitPattern: result | sign)
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
