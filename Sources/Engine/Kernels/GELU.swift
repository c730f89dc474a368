/// GELU in the exact erf form used by GPT-NeoX's "gelu": y = x · Φ(x) = ½x(1 + erf(x/√2)).
public enum GELU {
    public static func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int) {
        EngineThreads.parallelRanges(count, minimumPerThread: 16384) { s, e in
            for i in s..<e {
                let x = input[i]
                out[i] = 0.5 * x * (1 + FastMath.erf(x * 0.707_106_781))
            }
        }
    }

    /// dInput += dOut · (Φ(x) + x·φ(x)), φ the standard normal density.
    public static func backward(dInput: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                dOut: UnsafePointer<Float>, count: Int) {
        EngineThreads.parallelRanges(count, minimumPerThread: 16384) { s, e in
            for i in s..<e {
                let x = input[i]
                let cdf = 0.5 * (1 + FastMath.erf(x * 0.707_106_781))
                let pdf = 0.398_942_280 * FastMath.exp(-0.5 * x * x)
                dInput[i] += dOut[i] * (cdf + x * pdf)
            }
        }
    }
}
