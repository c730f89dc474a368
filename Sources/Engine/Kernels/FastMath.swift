/// Branch-free exp and erf that the compiler vectorises (no libm calls inside hot loops).
/// Accuracy: exp within ~2 ulp over the clamped range; erf within 1.5e-7 absolute (Abramowitz & Stegun 7.1.26).
public enum FastMath {
    /// e^x for x in [-87.3, 88.7]; inputs outside are clamped (e^-87.3 ≈ 1e-38, the smallest normal float).
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let clamped = Swift.min(Swift.max(x, -87.3), 88.7)
        // e^x = 2^n · e^r with n = round(x / ln 2) and r = x − n·ln 2, |r| ≤ ln2/2. ln 2 is split in two
        // (Cody–Waite) so r keeps full precision even for |x| near 88.
        let n = (clamped * 1.442_695_04 + 12_582_912) - 12_582_912 // round-to-nearest via the 1.5·2^23 trick
        let r = (clamped - n * 0.693_145_75) - n * 1.428_606_8e-6
        // e^r by its Taylor polynomial to degree 7 (truncation error < 3e-9 on |r| ≤ 0.347).
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let scale = Float(bitPattern: UInt32(bitPattern: Int32(n) &+ 127) << 23)
        return p * scale
    }

    /// erf(x), absolute error < 1.5e-7.
    @inline(__always)
    public static func erf(_ x: Float) -> Float {
        let a = Swift.abs(x)
        let t = 1 / (1 + 0.327_591_1 * a)
        var poly: Float = 1.061_405_429
        poly = poly * t - 1.453_152_027
        poly = poly * t + 1.421_413_741
        poly = poly * t - 0.284_496_736
        poly = poly * t + 0.254_829_592
        poly = poly * t
        let r = 1 - poly * exp(-a * a)
        return x < 0 ? -r : r
    }
}
